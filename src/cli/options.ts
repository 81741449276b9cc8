import type { ReadControl } from '../capture/reader.js';
import type { Connection } from '../tcp/types.js';
import { KeyLog } from '../tls/keylog.js';
import { MAX_KEYLOG_FILE_BYTES, readKeyLogFile } from '../tls/keylog-file.js';
import { pipelineOptions, type CaptureSettings } from '../settings.js';
import type { PipelineOptions } from '../pipeline.js';
import type { Jobs } from '../parallel/jobs.js';
import { UsageError } from './errors.js';
import { output } from './output.js';

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
 * The pipeline settings every capture-reading command shares: server ports, the TLS key logs' secrets (each capture,
 * in whichever thread, makes its own key log of them), and the output's control of reading (stop on Ctrl-C or a
 * closed pipe, progress), which stays in this thread.
 */
export function captureSettings(opts: CaptureFlags): CaptureSettings & ReadControl {
  const keys = new KeyLog();
  for (const file of opts.keylog ?? []) {
    let read: ReturnType<typeof readKeyLogFile>;
    try {
      read = readKeyLogFile(file);
    } catch (err) {
      throw new UsageError(`--keylog ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
    }
    if (read.cut) output.note(`imapscope: warning: --keylog ${file} is larger than ${MAX_KEYLOG_FILE_BYTES / 1024 / 1024} MiB (the cap): only the lines in its first ${MAX_KEYLOG_FILE_BYTES / 1024 / 1024} MiB are used`);
    // Not fatal (the capture may embed its own secrets), but the user must know this file did nothing.
    if (read.keys.size === 0) output.note(`imapscope: warning: --keylog ${file}: no usable key line (expected NSS key log lines such as "CLIENT_RANDOM <hex> <hex>")`);
    keys.merge(read.keys);
  }
  return { ports: parsePortList(opts.port), keySecrets: keys.secrets, ...output.readControl() };
}

/**
 * What reading one capture in this thread takes: the settings, and a key log of their secrets of its own (which the
 * capture's embedded secrets join).
 */
export function capturePipeline(settings: CaptureSettings & ReadControl): PipelineOptions & ReadControl {
  return { ...settings, ...pipelineOptions(settings) };
}

/**
 * `--conn ID`: the connection filter for the analysis, which also notes the IMAP connections it is
 * offered, so that an id the capture does not have is a usage error naming those that exist.
 */
export class ConnectionChoice {
  readonly id: number;
  private seen: number[] = [];

  constructor(value: string) {
    this.id = parseNonNegativeInt('--conn', value);
  }

  readonly accepts = (conn: Connection): boolean => {
    this.seen.push(conn.id);
    return conn.id === this.id;
  };

  /** After a capture was read: throw when it had no such connection (unless reading was cut short). */
  requireFound(path: string): void {
    const seen = [...new Set(this.seen)].sort((a, b) => a - b);
    this.seen = [];
    if (seen.includes(this.id) || output.stopped) return;
    const there = seen.length === 0 ? 'it has no IMAP connection'
      : seen.length <= 20 ? `its IMAP connection${seen.length === 1 ? ' is' : 's are'} ${seen.join(', ')}`
        : `it has ${seen.length} IMAP connections, ids ${seen[0]} to ${seen[seen.length - 1]} (see 'imapscope streams')`;
    throw new UsageError(`${path} has no IMAP connection with id ${this.id}; ${there}`, { hint: false });
  }
}

/** `--jobs N`: worker threads for commands that take several captures (at least 1). */
export function parseJobs(value: string): number {
  const n = parseNonNegativeInt('--jobs', value);
  if (n < 1) throw new UsageError('--jobs: needs at least 1');
  return n;
}

/** The --jobs a command was given (checked at once), or `auto` (jobsFor decides). */
export function jobsOf(opts: { jobs?: string }): Jobs {
  return opts.jobs !== undefined ? parseJobs(opts.jobs) : 'auto';
}

/** The settings as plain data for worker threads (each capture makes its own key log of the secrets). */
export function plainSettings(s: CaptureSettings): CaptureSettings {
  return { ports: s.ports, keySecrets: s.keySecrets };
}
