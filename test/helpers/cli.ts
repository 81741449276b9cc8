import { spawnSync } from 'node:child_process';
import { CLI } from './env.js';

export interface CliResult { code: number | null; stdout: string; stderr: string }

/** The installed command line in a child process, without colours. */
export function runCli(args: string[], options: { cwd?: string; input?: Buffer; env?: Record<string, string> } = {}): CliResult {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    cwd: options.cwd, input: options.input, encoding: 'utf8', maxBuffer: 256 << 20, env: { ...process.env, FORCE_COLOR: '0', ...options.env },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Run and parse JSON output, failing loudly with stderr when the command did not succeed. */
export function cliJson<T = any>(args: string[], options: { cwd?: string } = {}): T {
  const r = runCli(args, options);
  if (r.code !== 0) throw new Error(`imapscope ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}
