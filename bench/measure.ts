/**
 * Shared helpers for the benchmark scripts: run one program as a child process and measure its wall time and
 * peak resident set size, plus a description of the machine.
 *
 * Measurement: when GNU time is installed (/usr/bin/time, Debian package `time`), the program runs under
 * `/usr/bin/time -o FILE -f '%e %M %U %S'`; %M is the child's ru_maxrss as the kernel reports it from wait4(),
 * i.e. the exact peak RSS, whatever its timing. Without GNU time, the program is spawned directly and its
 * /proc/<pid>/status VmHWM (the kernel's own peak-RSS counter, which only ever grows) is read every 10 ms; only
 * growth in the last <10 ms before exit can be missed. Wall time is always measured here, with a monotonic
 * clock, from spawn to exit (GNU time's %e only has 10 ms resolution).
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { cpus, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';

export const GNU_TIME = '/usr/bin/time';

export interface Measurement {
  /** Wall-clock seconds from spawn to exit. */
  seconds: number;
  /** Peak resident set size in KiB (null when it could not be read). */
  maxRssKiB: number | null;
  /** CPU seconds in user and system mode (GNU time only). */
  user: number | null;
  sys: number | null;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** Standard output when asked for with `stdout: 'capture'`. */
  stdout: string;
  /** The last 4 KiB of standard error, for messages when the program failed. */
  stderrTail: string;
  method: 'gnu-time' | 'proc-vmhwm';
}

export interface RunOptions {
  /** Where standard output goes: /dev/null (default), or captured (keep it small). */
  stdout?: 'null' | 'capture';
  env?: NodeJS.ProcessEnv;
}

let gnuTimeOk: boolean | undefined;

/** Whether /usr/bin/time is GNU time and works (BusyBox's has neither -o nor %M). */
export function haveGnuTime(): boolean {
  if (gnuTimeOk === undefined) {
    if (!existsSync(GNU_TIME)) gnuTimeOk = false;
    else {
      const r = spawnSync(GNU_TIME, ['-f', '%e %M', 'true'], { encoding: 'utf8' });
      gnuTimeOk = r.status === 0 && /^\d+\.\d+ \d+\s*$/m.test(r.stderr);
    }
  }
  return gnuTimeOk;
}

export function measurementMethod(): string {
  return haveGnuTime()
    ? `GNU time (${GNU_TIME} -f '%e %M %U %S'): peak RSS = ru_maxrss from wait4(); wall time from a monotonic clock in the harness`
    : 'no GNU time: peak RSS = /proc/<pid>/status VmHWM polled every 10 ms; wall time from a monotonic clock in the harness';
}

/** Runs `cmd args` to completion, alone, and measures it. Never throws for a failing program: see exitCode. */
export async function measure(cmd: string, args: string[], o: RunOptions = {}): Promise<Measurement> {
  return haveGnuTime() ? measureWithGnuTime(cmd, args, o) : measureWithProc(cmd, args, o);
}

async function measureWithGnuTime(cmd: string, args: string[], o: RunOptions): Promise<Measurement> {
  const dir = mkdtempSync(join(tmpdir(), 'imapscope-time-'));
  const report = join(dir, 'time.txt');
  try {
    const r = await runChild(GNU_TIME, ['-o', report, '-f', '%e %M %U %S', cmd, ...args], o);
    // GNU time writes "Command exited with non-zero status N" before the format line when the program fails.
    const lines = existsSync(report) ? readFileSync(report, 'utf8').trim().split('\n') : [];
    const m = /^([\d.]+) (\d+) ([\d.]+) ([\d.]+)$/.exec(lines[lines.length - 1] ?? '');
    return {
      ...r,
      maxRssKiB: m ? Number(m[2]) : null,
      user: m ? Number(m[3]) : null,
      sys: m ? Number(m[4]) : null,
      method: 'gnu-time',
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function measureWithProc(cmd: string, args: string[], o: RunOptions): Promise<Measurement> {
  let peak: number | null = null;
  const r = await runChild(cmd, args, o, (pid) => {
    const timer = setInterval(() => {
      const hwm = readVmHwm(pid);
      if (hwm !== null) peak = Math.max(peak ?? 0, hwm);
    }, 10);
    return () => clearInterval(timer);
  });
  return { ...r, maxRssKiB: peak, user: null, sys: null, method: 'proc-vmhwm' };
}

function readVmHwm(pid: number): number | null {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null; // already gone
  }
}

type ChildResult = Pick<Measurement, 'seconds' | 'exitCode' | 'signal' | 'stdout' | 'stderrTail'>;

function runChild(cmd: string, args: string[], o: RunOptions, watch?: (pid: number) => () => void): Promise<ChildResult> {
  const devnull = o.stdout === 'capture' ? null : openSync('/dev/null', 'w');
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(cmd, args, {
      stdio: ['ignore', devnull ?? 'pipe', 'pipe'],
      env: o.env ?? process.env,
    });
    const stop = child.pid !== undefined && watch ? watch(child.pid) : () => {};
    let out = '';
    let err = '';
    child.stdout?.setEncoding('utf8').on('data', (s: string) => (out += s));
    child.stderr!.setEncoding('utf8').on('data', (s: string) => (err = (err + s).slice(-4096)));
    child.on('error', (e) => {
      stop();
      if (devnull !== null) closeSync(devnull);
      reject(e);
    });
    child.on('close', (code, signal) => {
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      stop();
      if (devnull !== null) closeSync(devnull);
      resolve({ seconds, exitCode: code, signal, stdout: out, stderrTail: err });
    });
  });
}

/** Median of a non-empty list of measurements, by wall time, over the runs that succeeded (peak RSS: the largest seen). */
export function summarise(all: Measurement[]): Measurement {
  const good = all.filter(ok);
  const runs = good.length ? good : all;
  const sorted = [...runs].sort((a, b) => a.seconds - b.seconds);
  const median = sorted[Math.floor((sorted.length - 1) / 2)]!;
  const rss = runs.map((r) => r.maxRssKiB).filter((v): v is number => v !== null);
  return { ...median, maxRssKiB: rss.length ? Math.max(...rss) : null };
}

export function ok(m: Measurement): boolean {
  return m.exitCode === 0 && m.signal === null;
}

/** One-line-per-item description of this machine and the tools. */
export function machine(): Record<string, string> {
  let cpu = cpus()[0]?.model ?? 'unknown';
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) cpu = m[1]!.trim();
  } catch {
    /* not Linux */
  }
  const tshark = spawnSync('tshark', ['--version'], { encoding: 'utf8' });
  return {
    cpu: `${cpu}, ${cpus().length} logical cores`,
    memory: `${(totalmem() / 2 ** 30).toFixed(1)} GiB`,
    kernel: `Linux ${release()}`,
    node: process.version,
    tshark: tshark.status === 0 ? tshark.stdout.split('\n')[0]!.trim() : 'not installed',
    measurement: measurementMethod(),
  };
}

export const MiB = 1024 * 1024;

function cpuTimes(): { busy: number; total: number } {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const idle = (f[3] ?? 0) + (f[4] ?? 0); // idle + iowait
  const total = f.reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

/** Share of all CPUs busy over the next `ms` milliseconds (0..1), or null where /proc/stat is missing. */
export async function cpuBusy(ms = 500): Promise<number | null> {
  try {
    const a = cpuTimes();
    await new Promise((r) => setTimeout(r, ms));
    const b = cpuTimes();
    return b.total > a.total ? (b.busy - a.busy) / (b.total - a.total) : 0;
  } catch {
    return null;
  }
}

/**
 * Waits, up to `maxSeconds`, until the machine is quiet (under `threshold` of all CPUs busy): on a shared machine
 * other people's builds and tests would otherwise be measured too. Returns the last busy share seen.
 */
export async function waitForQuiet(maxSeconds: number, threshold = 0.2): Promise<number | null> {
  const until = Date.now() + maxSeconds * 1000;
  for (;;) {
    const busy = await cpuBusy();
    if (busy === null || busy < threshold || Date.now() >= until) return busy;
  }
}

export function fmt(n: number | null, digits = 1): string {
  return n === null || !Number.isFinite(n) ? '-' : n.toFixed(digits);
}

/** Renders rows as an aligned plain-text table (first column left-aligned, the others right-aligned). */
export function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd();
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** Markdown version of the same table. */
export function markdownTable(head: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(head), `|${head.map((_, i) => (i === 0 ? ' --- ' : ' ---: ')).join('|')}|`, ...rows.map(line)].join('\n');
}
