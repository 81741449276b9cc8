import { readFileSync } from 'node:fs';
import { KeyLog } from '../tls/keylog.js';
import type { CaptureSettings } from '../settings.js';
import { defaultJobs } from '../parallel/pool.js';
import { UsageError } from './errors.js';

/** `--port 143,10143`: a comma list of TCP ports that replaces the default server ports. */
export function parsePortList(value: string): number[] {
  const ports = value.split(',').map((p) => p.trim()).filter((p) => p !== '').map((p) => {
    const n = Number(p);
    if (!Number.isInteger(n) || n < 1 || n > 65535) throw new UsageError(`--port: '${p}' is not a TCP port (1-65535)`);
    return n;
  });
  if (ports.length === 0) throw new UsageError('--port needs at least one port');
  return ports;
}

export function parseNonNegativeInt(name: string, value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n)) throw new UsageError(`${name}: '${value}' is not a whole number`);
  return n;
}

export interface CaptureFlags {
  port: string;
  keylog?: string[];
}

/**
 * The pipeline settings every capture-reading command shares: server ports and TLS key logs (parsed, and
 * as text for worker threads, which build their own).
 */
export function captureSettings(opts: CaptureFlags): CaptureSettings & { keys: KeyLog } {
  const keys = new KeyLog();
  const keylogTexts: string[] = [];
  for (const file of opts.keylog ?? []) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new UsageError(`--keylog ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
    }
    const parsed = KeyLog.parse(text);
    // Not fatal (the capture may embed its own secrets), but the user must know this file did nothing.
    if (parsed.size === 0) process.stderr.write(`imapscope: warning: --keylog ${file}: no usable key line (expected NSS key log lines such as "CLIENT_RANDOM <hex> <hex>")\n`);
    keys.merge(parsed);
    keylogTexts.push(text);
  }
  return { ports: parsePortList(opts.port), keys, keylogTexts };
}

export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** `--jobs N`: worker threads for commands that take several captures (at least 1). */
export function parseJobs(value: string): number {
  const n = parseNonNegativeInt('--jobs', value);
  if (n < 1) throw new UsageError('--jobs: needs at least 1');
  return n;
}

/** The --jobs a command was given, or one per core. */
export function jobsOf(opts: { jobs?: string }): number {
  return opts.jobs !== undefined ? parseJobs(opts.jobs) : defaultJobs();
}

/** The settings as plain data for worker threads (each builds its own key log from the texts). */
export function plainSettings(s: CaptureSettings): CaptureSettings {
  return { ports: s.ports, keylogTexts: s.keylogTexts };
}
