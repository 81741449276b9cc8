import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, open, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { lazyRequire } from '../util/lazy-require.js';
import { pcapMagic } from '../capture/pcap.js';
import { isPcapng } from '../capture/pcapng.js';
import { CaptureError } from '../capture/reader.js';

/** Node's zlib, loaded when a gzip file is met (as the capture reader loads it). */
const zlib = lazyRequire<typeof import('node:zlib')>('node:zlib');

/** Enough of a file to see its magic, also through gzip. */
const HEAD_BYTES = 4096;

/**
 * Turn arguments into capture paths: a file is taken as it is (a bad one becomes a warning later); a
 * directory (which must hold at least one capture) is walked, in name order, for files whose first bytes are a pcap or pcapng magic (also
 * gzipped), whatever their names. Symbolic links inside directories are not followed (no loops, no
 * escaping the tree).
 */
export async function expandCaptures(args: readonly string[]): Promise<string[]> {
  // A second '-' would find standard input already read, and say it is empty.
  if (args.filter((a) => a === '-').length > 1) throw new CaptureError('-: standard input can be read only once; name it once');
  const out: string[] = [];
  for (const arg of args) {
    // Standard input, and paths that are no directory (a missing file is reported by the reader, as ever).
    const st = arg === '-' ? null : await stat(arg).catch(() => null);
    if (st?.isDirectory()) {
      const before = out.length;
      await walk(arg, out);
      if (out.length === before) throw new CaptureError(`${arg}: is a directory with no capture files in it`);
    } else out.push(arg);
  }
  return out;
}

async function walk(dir: string, out: string[]): Promise<void> {
  const names = (await readdir(dir)).sort();
  for (const name of names) {
    const path = join(dir, name);
    const st = await lstat(path);
    if (st.isDirectory()) await walk(path, out);
    else if (st.isFile() && await looksLikeCapture(path)) out.push(path);
  }
}

/** True when the file starts with a pcap or pcapng magic, directly or inside gzip. */
export async function looksLikeCapture(path: string): Promise<boolean> {
  let head: Buffer;
  try {
    const fh = await open(path, 'r');
    try {
      const buf = Buffer.alloc(HEAD_BYTES);
      const { bytesRead } = await fh.read(buf, 0, HEAD_BYTES, 0);
      head = buf.subarray(0, bytesRead);
    } finally {
      await fh.close();
    }
  } catch {
    return false; // unreadable files inside a directory are not captures we were asked for
  }
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) {
    try {
      // A sync flush inflates what the first bytes hold without needing the rest of the stream.
      head = zlib().gunzipSync(head, { finishFlush: zlib().constants.Z_SYNC_FLUSH });
    } catch {
      return false;
    }
  }
  return pcapMagic(head) !== null || isPcapng(head);
}

/** SHA-256 and size of a file, streamed. */
export async function hashFile(path: string): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  try {
    for await (const chunk of createReadStream(path)) {
      hash.update(chunk as Buffer);
      size += (chunk as Buffer).length;
    }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CaptureError(`${path}: ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (err as Error).message}`);
  }
  return { sha256: hash.digest('hex'), size };
}
