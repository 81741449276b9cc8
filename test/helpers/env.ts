import { test } from 'node:test';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root (tests run from dist/test/…). */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const PUBLIC = join(ROOT, '..', 'shared', 'captures', 'public');
export const CAPTURES = join(ROOT, 'captures');
/** The CLI as the package runs it (its bin): the bundle scripts/bundle.mjs makes. */
export const CLI = join(ROOT, 'dist', 'bundle', 'main.js');
/** The same program as tsc's modules, one file each (lazy-load.test.ts tells them apart by path). */
export const MODULE_CLI = join(ROOT, 'dist', 'src', 'cli', 'main.js');

export const hasPublic = existsSync(PUBLIC);
export const hasTshark = spawnSync('tshark', ['--version'], { stdio: 'ignore' }).status === 0;
export const NO_PUBLIC = '../shared/captures/public is not here (it is in CI and the developers\' checkout, not in a user clone)';
export const NO_TSHARK = 'tshark is not installed (CI installs it; apt-get install tshark)';

export function publicCapture(name: string): string {
  return join(PUBLIC, name);
}

/** Run tshark and return stdout (stderr ignored). */
export function tshark(args: string[]): string {
  return execFileSync('tshark', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 256 * 1024 * 1024 });
}

/** Both directions of a TCP stream as tshark reassembles them, with its gap markers removed. */
export function tsharkFollow(path: string, stream: number, clientPort: number): { client: Buffer; server: Buffer } {
  const out = tshark(['-r', path, '-q', '-z', `follow,tcp,raw,${stream}`]);
  const first: Buffer[] = [];
  const second: Buffer[] = [];
  let node0 = '';
  for (const line of out.split('\n')) {
    if (line.startsWith('Node 0:')) node0 = line.trim().split(/\s+/).pop() ?? '';
    if (/^\t?[0-9a-f]+$/.test(line)) (line.startsWith('\t') ? second : first).push(Buffer.from(line.trim(), 'hex'));
  }
  // tshark writes "[N bytes missing in capture file]" and a NUL where a gap is; we leave gaps out.
  const strip = (b: Buffer) => Buffer.from(b.toString('latin1').replace(/\[\d+ bytes missing in capture file\]\0/g, ''), 'latin1');
  const a = strip(Buffer.concat(first));
  const b = strip(Buffer.concat(second));
  return node0.endsWith(`:${clientPort}`) ? { client: a, server: b } : { client: b, server: a };
}

/**
 * CI sets IMAPSCOPE_REQUIRE_ALL=1: then a test that would skip because a tool or ../shared is missing
 * fails instead, so a green CI always means every cross-check really ran.
 */
export const REQUIRE_ALL = process.env.IMAPSCOPE_REQUIRE_ALL === '1';

/**
 * For `test(name, { skip: unavailable(reason) }, …)`: `reason` when something the test needs is missing,
 * else false. Under IMAPSCOPE_REQUIRE_ALL a missing requirement also registers a failing test.
 */
export function unavailable(reason: string | false | undefined | null): string | false {
  if (!reason) return false;
  if (REQUIRE_ALL) requireFailure(reason);
  return reason;
}

const reported = new Set<string>();
function requireFailure(reason: string): void {
  if (reported.has(reason)) return;
  reported.add(reason);
  test(`required in CI: ${reason}`, () => {
    throw new Error(`IMAPSCOPE_REQUIRE_ALL=1 and a requirement is missing: ${reason}`);
  });
}

/** Inside a running test: skip for `reason`, or fail under IMAPSCOPE_REQUIRE_ALL. Returns true when skipped. */
export function skipIfMissing(t: { skip: (message: string) => void }, reason: string | false | undefined | null): boolean {
  if (!reason) return false;
  if (REQUIRE_ALL) throw new Error(`IMAPSCOPE_REQUIRE_ALL=1 and a requirement is missing: ${reason}`);
  t.skip(reason);
  return true;
}

export const hasPython = spawnSync('python3', ['--version'], { stdio: 'ignore' }).status === 0;
export const hasOpenssl = spawnSync('openssl', ['version'], { stdio: 'ignore' }).status === 0;
export const NO_PYTHON = 'python3 is not installed';
export const NO_OPENSSL = 'openssl is not installed';

/** Debian's chromium for the browser tests (driven by puppeteer-core; no browser is ever downloaded). */
export const CHROMIUM = [process.env.IMAPSCOPE_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p): p is string => !!p && existsSync(p)) ?? null;
export const NO_CHROMIUM = 'chromium is not installed (CI installs it; apt-get install chromium)';
export const hasTmux = spawnSync('tmux', ['-V'], { stdio: 'ignore' }).status === 0;
export const NO_TMUX = 'tmux is not installed (the real-terminal tests run the CLI in a tmux pane; apt-get install tmux)';
