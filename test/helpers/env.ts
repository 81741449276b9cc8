import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root (tests run from dist/test/…). */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const PUBLIC = join(ROOT, '..', 'shared', 'captures', 'public');
export const CAPTURES = join(ROOT, 'captures');
export const CLI = join(ROOT, 'dist', 'src', 'cli', 'main.js');

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
