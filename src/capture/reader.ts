import { createReadStream } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { createGunzip, type Gunzip } from 'node:zlib';
import { ChunkedParser } from './chunked.js';
import { FrameBuilder } from './frame-builder.js';
import { PcapParser, pcapMagic } from './pcap.js';
import { PcapngParser, isPcapng } from './pcapng.js';
import type { CaptureInfo, EmbeddedSecret, FrameSink, WarningSink } from './types.js';

/** A capture that cannot be read at all: the CLI turns it into one error line and exit code 2. */
export class CaptureError extends Error {}

const READ_CHUNK = 1024 * 1024;

export interface CaptureResult {
  info: CaptureInfo;
  secrets: EmbeddedSecret[];
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
 * Read one capture file (or `-` for stdin) in a single streaming pass, calling `onFrame` for every
 * frame in file order, and `onSecret` for decryption secrets embedded in it (pcapng DSB) as they come.
 * The format is told by magic bytes, not by the name; gzip is undone on the fly.
 */
export async function readCapture(input: CaptureInput, onFrame: FrameSink, warn: WarningSink, onSecret?: (s: EmbeddedSecret) => void): Promise<CaptureResult> {
  const path = inputName(input);
  const info = emptyInfo(path);
  const secrets: EmbeddedSecret[] = [];
  const frames = new FrameBuilder(info);
  let parser: ChunkedParser | null = null;

  const choose = (head: Buffer): ChunkedParser => {
    if (pcapMagic(head)) {
      info.format = 'pcap';
      return new PcapParser(frames, onFrame, warn, info);
    }
    if (isPcapng(head)) {
      info.format = 'pcapng';
      return new PcapngParser(frames, onFrame, warn, info, (secret) => { secrets.push(secret); onSecret?.(secret); });
    }
    throw new CaptureError(`${path}: not a pcap or pcapng capture (starts with ${head.subarray(0, 4).toString('hex') || 'nothing'})`);
  };

  let head = Buffer.alloc(0);
  for await (const chunk of openSource(input, info, warn)) {
    if (parser) {
      parser.push(chunk as Buffer);
      continue;
    }
    // Collect at least the magic before choosing a parser (stdin may deliver tiny chunks).
    head = Buffer.concat([head, chunk as Buffer]);
    if (head.length < 4) continue;
    parser = choose(head);
    parser.push(head);
  }
  if (!parser) {
    if (head.length === 0) throw new CaptureError(`${path}: the file is empty`);
    parser = choose(head);
  }
  parser.end();
  return { info, secrets };
}

/** Byte chunks of the input, gunzipped when it starts with the gzip magic. */
async function* openSource(input: CaptureInput, info: CaptureInfo, warn: WarningSink): AsyncGenerator<Buffer> {
  const path = info.path;
  if (typeof input === 'string' && input !== '-' && !(await startsWithGzip(input))) {
    yield* readPlainFile(input, warn);
    return;
  }
  // One iterator for the whole read: the gzip branch goes on from where the first chunk was taken.
  const raw = continuing(typeof input === 'string'
    ? (input === '-' ? process.stdin : createReadStream(input, { highWaterMark: READ_CHUNK }))
    : input instanceof Uint8Array ? [input] : 'chunks' in input ? input.chunks : input);
  let first = true;
  try {
    for await (const chunk of raw) {
      const buf = asBuffer(chunk);
      if (first) {
        first = false;
        if (buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b) {
          info.gzip = true;
          yield* gunzipStream(raw, buf, createGunzip({ chunkSize: READ_CHUNK }), warn);
          return;
        }
      }
      yield buf;
    }
  } catch (err) {
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
 * A plain file is read into one buffer, reused for every chunk: the parsers are done with a chunk
 * before the next read (they copy what they keep), and not allocating a megabyte per read keeps the
 * process's memory flat on large captures.
 */
async function* readPlainFile(path: string, warn: WarningSink): AsyncGenerator<Buffer> {
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    throw new CaptureError(`${path}: ${describeIoError(err)}`);
  }
  const buf = Buffer.allocUnsafe(READ_CHUNK);
  try {
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, READ_CHUNK, null);
      if (bytesRead === 0) return;
      yield buf.subarray(0, bytesRead);
    }
  } catch (err) {
    warn({ frame: null, message: `reading stopped early: ${describeIoError(err)}` });
  } finally {
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

async function* gunzipStream(raw: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, firstChunk: Buffer, gunzip: Gunzip, warn: WarningSink): AsyncGenerator<Buffer> {
  const feed = async () => {
    gunzip.write(firstChunk);
    for await (const c of raw) {
      if (!gunzip.write(asBuffer(c))) await new Promise((r) => gunzip.once('drain', r));
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
  }
  await feeding;
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
