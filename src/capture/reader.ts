import { createReadStream, fstatSync, statSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import type { Gunzip } from 'node:zlib';
import { lazyRequire } from '../util/lazy-require.js';
import { addAbortSignal, type Readable } from 'node:stream';
import { ChunkedParser } from './chunked.js';
import { FrameBuilder } from './frame-builder.js';
import { PcapParser, pcapMagic } from './pcap.js';
import { PcapngParser, isPcapng } from './pcapng.js';
import type { CaptureInfo, EmbeddedSecret, FrameSink, WarningSink } from './types.js';

/** Node's zlib, loaded when a gzip input comes (most captures are not: it took 2.6 ms of every start). */
const zlib = lazyRequire<typeof import('node:zlib')>('node:zlib');

/** A capture that cannot be read at all: the CLI turns it into one error line and exit code 2. */
export class CaptureError extends Error {}

const READ_CHUNK = 1024 * 1024;

export interface CaptureResult {
  info: CaptureInfo;
  secrets: EmbeddedSecret[];
}

/** How far reading has got: bytes of the file (compressed bytes for gzip) and frames. */
export interface ReadProgress {
  path: string;
  bytesRead: number;
  /** The file's size when it is known (a regular file, also as stdin); null for a pipe. */
  totalBytes: number | null;
  frames: number;
  /** True on the last call, when reading has ended. */
  done: boolean;
}

/** What the command line may ask of a read: stop early (Ctrl-C, output closed) and watch progress. */
export interface ReadControl {
  /** When aborted, reading stops at the next chunk; what was read so far is still reported. */
  signal?: AbortSignal;
  onProgress?(p: ReadProgress): void;
  /**
   * Asked after each chunk: a promise when the output is behind (a slow pipe), and reading waits for it,
   * so that what is written never piles up in memory; nothing when reading may go on.
   */
  room?(): Promise<void> | null;
}

/**
 * What a capture can be read from: a file path (or `-` for stdin), the bytes themselves, any async
 * iterable of byte chunks (a Node readable stream, a web stream), or such chunks with a name for messages.
 */
export type CaptureInput = string | Uint8Array | AsyncIterable<Uint8Array> | NamedSource;

export interface NamedSource {
  name: string;
  chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>;
}

/** The name a capture goes by in CaptureInfo.path, warnings and errors. */
export function inputName(input: CaptureInput): string {
  if (typeof input === 'string') return input;
  if (input instanceof Uint8Array) return '<buffer>';
  if ('chunks' in input && 'name' in input) return input.name;
  return '<stream>';
}

export function emptyInfo(path: string): CaptureInfo {
  return { path, format: null, gzip: false, linkTypes: [], frames: 0, firstFrame: null, lastFrame: null, first: null, last: null, bytes: 0 };
}

/**
 * Bytes the parser is given between two questions to the output (ReadControl.room). A chunk can make far more output
 * than itself: 200,000 pipelined commands fit in 3 MiB and are 64 MB of JSON, which piled up in memory behind a pipe
 * while a 1 MiB chunk was parsed at once.
 */
export const PACED_BYTES = 128 * 1024;

/** Parse `chunk`, waiting before each piece of it while the output is behind. */
async function pushPaced(parser: ChunkedParser, chunk: Buffer, control: ReadControl): Promise<void> {
  for (let at = 0; at < chunk.length; at += PACED_BYTES) {
    const wait = control.room?.();
    if (wait) await wait;
    parser.push(chunk.length <= PACED_BYTES ? chunk : chunk.subarray(at, at + PACED_BYTES));
  }
}

/** Bytes of embedded secrets (pcapng DSB) a CaptureResult keeps; the key log they feed has its own cap. */
export const MAX_SECRET_BYTES_KEPT = 16 * 1024 * 1024;

/**
 * Read one capture file (or `-` for stdin) in a single streaming pass, calling `onFrame` for every
 * frame in file order, and `onSecret` for decryption secrets embedded in it (pcapng DSB) as they come.
 * The format is told by magic bytes, not by the name; gzip is undone on the fly.
 */
export async function readCapture(input: CaptureInput, onFrame: FrameSink, warn: WarningSink, onSecret?: (s: EmbeddedSecret) => void, control: ReadControl = {}): Promise<CaptureResult> {
  const path = inputName(input);
  const info = emptyInfo(path);
  const { signal, onProgress } = control;
  const source: SourceState = { bytesRead: 0, totalBytes: null };
  const progress = (done: boolean) => onProgress?.({ path, bytesRead: source.bytesRead, totalBytes: source.totalBytes, frames: info.frames, done });
  const secrets: EmbeddedSecret[] = [];
  let secretBytes = 0;
  const frames = new FrameBuilder(info);
  let parser: ChunkedParser | null = null;

  const choose = (head: Buffer): ChunkedParser => {
    if (pcapMagic(head)) {
      info.format = 'pcap';
      return new PcapParser(frames, onFrame, warn, info);
    }
    if (isPcapng(head)) {
      info.format = 'pcapng';
      return new PcapngParser(frames, onFrame, warn, info, (secret) => {
        // Every secret goes on to decryption; the result keeps them only up to a budget (a file of DSBs is hostile).
        if (secretBytes + secret.data.length <= MAX_SECRET_BYTES_KEPT) {
          secrets.push(secret);
          secretBytes += secret.data.length;
        }
        onSecret?.(secret);
      });
    }
    throw new CaptureError(`${path}: not a pcap or pcapng capture (starts with ${head.subarray(0, 4).toString('hex') || 'nothing'})`);
  };

  let head = Buffer.alloc(0);
  for await (const chunk of openSource(input, info, warn, source, signal)) {
    if (parser) {
      await pushPaced(parser, chunk as Buffer, control);
    } else {
      // Collect at least the magic before choosing a parser (stdin may deliver tiny chunks).
      head = Buffer.concat([head, chunk as Buffer]);
      if (head.length < 4) continue;
      parser = choose(head);
      await pushPaced(parser, head, control);
    }
    progress(false);
    if (signal?.aborted) break;
  }
  progress(true);
  if (signal?.aborted) {
    // Stopped on purpose: a record cut by the stop is not damage, so no truncation warning.
    return { info, secrets };
  }
  if (!parser) {
    if (head.length === 0) throw new CaptureError(`${path}: the file is empty`);
    parser = choose(head);
  }
  parser.end();
  return { info, secrets };
}

interface SourceState {
  bytesRead: number;
  totalBytes: number | null;
}

/** Byte chunks of the input, gunzipped when it starts with the gzip magic. */
async function* openSource(input: CaptureInput, info: CaptureInfo, warn: WarningSink, source: SourceState, signal?: AbortSignal): AsyncGenerator<Buffer> {
  const path = info.path;
  if (typeof input === 'string' && input !== '-' && !(await startsWithGzip(input))) {
    yield* readPlainFile(input, warn, source, signal);
    return;
  }
  const stream: Readable | null = typeof input !== 'string' ? null
    : input === '-' ? process.stdin : createReadStream(input, { highWaterMark: READ_CHUNK });
  if (typeof input === 'string') source.totalBytes = input === '-' ? regularFileSize(0) : statSync(input).size;
  else if (input instanceof Uint8Array) source.totalBytes = input.byteLength;
  // A wait for the next chunk of a slow pipe must end on Ctrl-C too, not only between chunks.
  if (signal && stream) addAbortSignal(signal, stream);
  // One iterator for the whole read: the gzip branch goes on from where the first chunk was taken.
  const raw = continuing(stream ?? (input instanceof Uint8Array ? [input] : typeof input !== 'string' && 'chunks' in input ? input.chunks : input as AsyncIterable<Uint8Array>));
  let first = true;
  try {
    for await (const chunk of raw) {
      const buf = asBuffer(chunk);
      source.bytesRead += buf.length;
      if (first) {
        first = false;
        if (buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b) {
          info.gzip = true;
          yield* gunzipStream(raw, stream, buf, zlib().createGunzip({ chunkSize: READ_CHUNK }), warn, source);
          return;
        }
      }
      yield buf;
    }
  } catch (err) {
    if (signal?.aborted) return;
    // Before the first byte the file is unreadable; after it, what was read still counts.
    if (first) throw new CaptureError(`${path}: ${describeIoError(err)}`);
    warn({ frame: null, message: `reading stopped early: ${describeIoError(err)}` });
  }
}

async function startsWithGzip(path: string): Promise<boolean> {
  let fh: FileHandle | undefined;
  try {
    fh = await open(path, 'r');
    const head = Buffer.alloc(2);
    const { bytesRead } = await fh.read(head, 0, 2, 0);
    return bytesRead === 2 && head[0] === 0x1f && head[1] === 0x8b;
  } catch (err) {
    throw new CaptureError(`${path}: ${describeIoError(err)}`);
  } finally {
    await fh?.close();
  }
}

/**
 * A plain file is read into two buffers in turn, reused for every chunk: the parsers are done with a
 * chunk before the one after next is read into its buffer (they copy what they keep), and not
 * allocating a megabyte per read keeps the process's memory flat on large captures.
 */
async function* readPlainFile(path: string, warn: WarningSink, source: SourceState, signal?: AbortSignal): AsyncGenerator<Buffer> {
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
    source.totalBytes = (await fh.stat()).size;
  } catch (err) {
    throw new CaptureError(`${path}: ${describeIoError(err)}`);
  }
  // Two buffers: the next chunk is read while this one is parsed (a read waits on the disk or the thread pool).
  const buffers = [Buffer.allocUnsafe(READ_CHUNK), Buffer.allocUnsafe(READ_CHUNK)];
  let offset = 0;
  let next = 0;
  let ahead: Promise<{ bytesRead: number }> | null = fh.read(buffers[0]!, 0, READ_CHUNK, 0);
  try {
    while (!signal?.aborted) {
      const { bytesRead } = await ahead!;
      ahead = null;
      if (bytesRead === 0) return;
      const chunk = buffers[next]!.subarray(0, bytesRead);
      offset += bytesRead;
      next ^= 1;
      ahead = fh.read(buffers[next]!, 0, READ_CHUNK, offset);
      source.bytesRead += bytesRead;
      yield chunk;
    }
  } catch (err) {
    warn({ frame: null, message: `reading stopped early: ${describeIoError(err)}` });
  } finally {
    // A read still under way (stopped early) ends before the file closes; its outcome no longer matters.
    await ahead?.catch(() => undefined);
    await fh.close();
  }
}

async function* continuing(chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  yield* chunks;
}

/** Chunks of web streams and typed arrays as Buffers, without copying. */
function asBuffer(chunk: Uint8Array | string): Buffer {
  if (typeof chunk === 'string') throw new CaptureError('the stream gives text, not bytes (open it without an encoding)');
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

async function* gunzipStream(raw: AsyncIterable<Uint8Array>, stream: Readable | null, firstChunk: Buffer, gunzip: Gunzip, warn: WarningSink, source: SourceState): AsyncGenerator<Buffer> {
  const feed = async () => {
    gunzip.write(firstChunk);
    for await (const c of raw) {
      const buf = asBuffer(c);
      source.bytesRead += buf.length;
      if (!gunzip.write(buf)) await new Promise((r) => gunzip.once('drain', r));
    }
    gunzip.end();
  };
  const feeding = feed().catch((err) => gunzip.destroy(err as Error));
  try {
    for await (const c of gunzip) yield c as Buffer;
  } catch (err) {
    // A cut-off gzip stream still gave us everything before the cut.
    if ((err as NodeJS.ErrnoException).code !== 'Z_BUF_ERROR') throw err;
    warn({ frame: null, message: 'the gzip stream is truncated; everything before the cut was read' });
  } finally {
    // Stopped early (the consumer returned): stop the feeder too.
    gunzip.destroy();
    stream?.destroy();
  }
  await feeding;
}

/** The size of an open file descriptor when it is a regular file (stdin redirected from a file), else null. */
function regularFileSize(fd: number): number | null {
  try {
    const st = fstatSync(fd);
    return st.isFile() ? st.size : null;
  } catch {
    return null;
  }
}

function describeIoError(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  switch (e.code) {
    case 'ENOENT': return 'no such file';
    case 'EACCES': return 'permission denied';
    case 'EISDIR': return 'is a directory, not a capture file';
    default: return e.message ?? String(err);
  }
}
