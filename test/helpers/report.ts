import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ReportData } from '../../src/report/html/data.js';
import { CAPTURES, CLI, ROOT } from './env.js';

/** Where browser tests leave screenshots and reports for people to look at (gitignored). */
export const TEST_OUTPUT = join(ROOT, 'test-output');

export function runCli(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', maxBuffer: 512 * 1024 * 1024, env: { ...process.env, FORCE_COLOR: '0' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** `imapscope <args> --json`, parsed. */
export function cliJson<T>(args: string[]): T {
  const r = runCli([...args, '--json']);
  if (r.code !== 0) throw new Error(`imapscope ${args.join(' ')}: exit ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

/** The report's data as the page reads it: the JSON inside its data script element. */
export function embeddedData(html: string): ReportData {
  const m = /<script type="application\/json" id="imapscope-data">([\s\S]*?)<\/script>/.exec(html);
  if (!m) throw new Error('no data script in the report');
  return JSON.parse(m[1]!) as ReportData;
}

/** The recorded captures, each with its TLS key log when it has one. */
export function recordedCaptureArgs(): { name: string; args: string[] }[] {
  return ['seed-alice.pcap', 'seed-bob.pcap', 'mbsync.pcap', 'offlineimap.pcapng', 'fetchmail.pcap', 'curl.pcap', 'append-idle.pcap', 'imaps-tls13.pcap', 'starttls-tls12.pcap']
    .map((name) => {
      const path = join(CAPTURES, name);
      const keys = path.replace(/\.pcapn?g?$/, '.keys');
      return { name, args: existsSync(keys) ? [path, '--keylog', keys] : [path] };
    });
}

export interface CommandsJson {
  exchanges: { conn: number; tag: string | null; command: string; status: string | null; requestFrame: number | null; responseFrame: number | null; latencyMs: number | null; start: string | null }[];
}

export interface SummaryJson {
  captures: { start: string | null }[];
  connections: { id: number; firstFrame: number; lastFrame: number; start: string; end: string }[];
  concurrency: { max: number };
  commands: { command: string; count: number; ok: number; no: number; bad: number; incomplete: number; medianMs: number | null; p95Ms: number | null }[];
}
