import { createHash } from 'node:crypto';
import { closeSync, constants, createReadStream, createWriteStream, lstatSync, mkdirSync, openSync, readSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type * as Libbase64 from 'libbase64';
import type * as Libqp from 'libqp';
import { lazyRequire } from '../util/lazy-require.js';
import type { FetchedMessage, SectionFetch } from '../analysis/fetches.js';
import type { ImapMessage, Literal, LiteralConsumer } from '../imap/types.js';
import { partByNumber } from '../mime/bodystructure.js';
import type { FetchedSection } from '../mime/types.js';
import { splitMessage } from '../mime/from-message.js';
import { UniqueNames, extensionFor, safeComponent } from './names.js';
import { jsonText } from '../util/json.js';

/** Transfer decoders load when a part is written, not at start-up. */
const libbase64 = lazyRequire<typeof Libbase64>('libbase64');
const libqp = lazyRequire<typeof Libqp>('libqp');

/** One file written, as manifest.json lists it. */
export interface ExtractedFile {
  file: string;
  mailbox: string | null;
  uidValidity: number | null;
  uid: number | null;
  part: string | null;
  section: string;
  type: string | null;
  filename: string | null;
  encoding: string | null;
  /** Transfer encoding undone (base64, quoted-printable). */
  decoded: boolean;
  /** Only a byte range (<origin.length>) was fetched: written as it came, not decoded. */
  partial: boolean;
  origin: number | null;
  /** False when the capture lost some of the octets. */
  complete: boolean;
  bytes: number;
  sha256: string;
  conn: number;
  tag: string | null;
  /** A part cut out of a message fetched whole (BODY[]), not a section the client fetched on its own. */
  fromMessage: boolean;
}

/** Where a section's octets wait: a temporary file of their own (a large literal), a stretch of the spool file (a small literal), or memory (a quoted string). */
type Octets = { file: string } | { offset: number; length: number } | { bytes: Buffer };

interface Pending {
  message: FetchedMessage;
  fetch: SectionFetch;
  octets: Octets;
}

export class ExtractError extends Error {}

/**
 * Literals up to this size are gathered in memory and appended to one spool file when they end; larger ones
 * stream into a file of their own. (A file per literal cost an open, a close and an unlink per section: a
 * folder sync of 170,000 header sections took minutes.)
 */
const SPOOLED_LITERAL = 256 * 1024;

/**
 * Writes every fetched section under one directory, decoded: while the capture is read, small literals are
 * gathered and appended to one spool file and large ones stream into files of their own (so no body sits in
 * memory); they are decoded into their final names afterwards, when every message's tree is known.
 * Nothing is written outside the directory, nothing is overwritten without `force`, no link is followed.
 */
export class Extractor {
  private readonly tmpDir: string;
  private readonly octetsOf = new WeakMap<Literal, Octets>();
  private spool: { fd: number; size: number } | null = null;
  private readonly pending: Pending[] = [];
  private tmpCount = 0;
  /** Files left alone because they exist (no --force): the caller says so once. */
  readonly existing: string[] = [];

  constructor(private readonly outDir: string, private readonly force: boolean, private readonly warn: (message: string) => void) {
    this.outDir = resolve(outDir);
    try {
      mkdirSync(this.outDir, { recursive: true });
      this.tmpDir = join(this.outDir, `.imapscope-tmp-${process.pid}`);
      mkdirSync(this.tmpDir);
    } catch (err) {
      throw new ExtractError(`cannot write to ${outDir}: ${(err as Error).message}`);
    }
  }

  /** Keep a FETCH literal's octets on disk: a small one in the spool file once it ends, a large one in a file of its own. */
  literalStart(msg: ImapMessage, literal: Literal): LiteralConsumer | null {
    if (msg.side !== 'server' || !/^\* \d+ FETCH /i.test(msg.lines[0] ?? '')) return null;
    if (literal.length <= SPOOLED_LITERAL) {
      const chunks: Buffer[] = [];
      return {
        write: (chunk) => { chunks.push(Buffer.from(chunk)); },
        end: () => { this.octetsOf.set(literal, this.spooled(Buffer.concat(chunks))); },
      };
    }
    const file = join(this.tmpDir, String(++this.tmpCount));
    const fd = openSync(file, 'wx');
    this.octetsOf.set(literal, { file });
    return {
      write: (chunk) => { writeSync(fd, chunk); },
      end: () => { closeSync(fd); },
    };
  }

  section(message: FetchedMessage, fetch: SectionFetch, s: FetchedSection): void {
    if (s.value.kind === 'nil' || fetch.how === 'size') return;
    const octets = s.literal ? this.octetsOf.get(s.literal) : s.value.kind === 'string' ? { bytes: Buffer.from(s.value.text, 'latin1') } : undefined;
    if (octets) this.pending.push({ message, fetch, octets });
  }

  private spooled(bytes: Buffer): Octets {
    this.spool ??= { fd: openSync(join(this.tmpDir, 'spool'), 'wx+'), size: 0 };
    const offset = this.spool.size;
    writeSync(this.spool.fd, bytes);
    this.spool.size += bytes.length;
    return { offset, length: bytes.length };
  }

  /** A section's octets as a stream. */
  private octetStream(octets: Octets): Readable {
    return 'file' in octets ? createReadStream(octets.file) : Readable.from([this.octetBytes(octets)]);
  }

  /** Octets held in memory or in the spool file. */
  private octetBytes(octets: { offset: number; length: number } | { bytes: Buffer }): Buffer {
    if ('bytes' in octets) return octets.bytes;
    const bytes = Buffer.allocUnsafe(octets.length);
    readSync(this.spool!.fd, bytes, 0, octets.length, octets.offset);
    return bytes;
  }

  /** Decode and write everything, then the manifest; remove the temporary files. */
  async finish(capture: string): Promise<ExtractedFile[]> {
    const names = new UniqueNames();
    names.take('manifest.json');
    const files: ExtractedFile[] = [];
    try {
      for (const p of this.pending) files.push(...await this.writeOne(p, names));
      this.writeFile('manifest.json', `${jsonText({ capture, files }, 2)}\n`);
    } finally {
      this.dispose();
    }
    return files;
  }

  /** Remove the temporary files (finish does; a read that failed must too). */
  dispose(): void {
    if (this.spool) closeSync(this.spool.fd);
    this.spool = null;
    rmSync(this.tmpDir, { recursive: true, force: true });
  }

  private async writeOne(p: Pending, names: UniqueNames): Promise<ExtractedFile[]> {
    const { message: m, fetch: f } = p;
    const partNode = m.structure && f.spec.part !== '' ? partByNumber(m.structure, f.spec.part) : null;
    const wholeMessage = f.spec.part === '' && f.spec.text === null;
    const partBody = f.spec.part !== '' && f.spec.text === null;
    const partial = f.origin !== null;
    const encoding = partBody ? partNode?.encoding ?? null : null;
    // BINARY[] has the transfer encoding undone by the server already.
    const decode = partBody && !partial && f.item.toUpperCase().startsWith('BODY') && isDecodable(encoding);
    const name = names.take(this.fileName(m, f, partNode?.filename ?? null, partNode?.type ?? null, wholeMessage, partial));
    const written = await this.writeDecoded(name, p.octets, decode ? encoding : null);
    const files: ExtractedFile[] = written === null ? [] : [{
      file: name, mailbox: m.mailbox, uidValidity: m.uidValidity, uid: m.uid, part: f.spec.part || null, section: f.section,
      type: wholeMessage ? 'message/rfc822' : partNode?.type ?? null, filename: partNode?.filename ?? null, encoding,
      decoded: decode, partial, origin: f.origin, complete: f.complete, bytes: written.bytes, sha256: written.sha256, conn: f.conn, tag: f.tag,
      fromMessage: false,
    }];
    // A message fetched whole carries its parts too: write each leaf decoded, as if fetched on its own.
    if (wholeMessage && !partial && f.complete) files.push(...await this.writeMessageParts(p, names));
    return files;
  }

  /** Split a whole message (mailsplit) and write every leaf part, decoded, beside its .eml. */
  private async writeMessageParts(p: Pending, names: UniqueNames): Promise<ExtractedFile[]> {
    const { message: m, fetch: f } = p;
    const bodies = new Map<number, { path: string; fd: number }>();
    const split = await splitMessage(this.octetStream(p.octets), (index, chunk) => {
      let body = bodies.get(index);
      if (!body) {
        const path = join(this.tmpDir, `part-${++this.tmpCount}`);
        body = { path, fd: openSync(path, 'wx') };
        bodies.set(index, body);
      }
      writeSync(body.fd, chunk);
    });
    for (const b of bodies.values()) closeSync(b.fd);
    if (!split) return [];
    const files: ExtractedFile[] = [];
    for (const [index, part] of split.nodes.entries()) {
      const body = bodies.get(index);
      const leaf = !part.type.startsWith('multipart/') && part.message === null;
      // A single-part message is its .eml already; only messages with parts get them written apart.
      if (!body || !leaf || split.nodes.length === 1) continue;
      const encoding = part.encoding;
      const name = names.take(this.partFileName(m, part.part, part.filename, part.type));
      const written = await this.writeDecoded(name, { file: body.path }, isDecodable(encoding) ? encoding : null);
      if (!written) continue;
      files.push({
        file: name, mailbox: m.mailbox, uidValidity: m.uidValidity, uid: m.uid, part: part.part, section: f.section,
        type: part.type, filename: part.filename, encoding, decoded: isDecodable(encoding), partial: false, origin: null,
        complete: true, bytes: written.bytes, sha256: written.sha256, conn: f.conn, tag: f.tag, fromMessage: true,
      });
    }
    return files;
  }

  /** Write octets to a new file in the directory, undoing base64 or quoted-printable on the way; hash what is written. */
  private async writeDecoded(name: string, octets: Octets, encoding: string | null): Promise<{ bytes: number; sha256: string } | null> {
    const target = join(this.outDir, name);
    if (!target.startsWith(this.outDir + sep)) throw new ExtractError(`refusing to write outside ${this.outDir}: ${name}`);
    const fd = this.openTarget(target);
    if (fd === null) return null;
    if (encoding === null && !('file' in octets)) {
      // Octets at hand, written as they are: one write, no stream (a folder sync writes thousands of small files).
      const bytes = this.octetBytes(octets);
      try {
        writeSync(fd, bytes);
      } finally {
        closeSync(fd);
      }
      return { bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
    }
    const source = this.octetStream(octets);
    const hash = createHash('sha256');
    let bytes = 0;
    const tap = new Transform({
      transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback) {
        hash.update(chunk);
        bytes += chunk.length;
        done(null, chunk);
      },
    });
    const out = createWriteStream('', { fd });
    if (encoding === 'base64') await pipeline(source, new (libbase64().Decoder)(), tap, out);
    else if (encoding === 'quoted-printable') await pipeline(source, new (libqp().Decoder)(), tap, out);
    else await pipeline(source, tap, out);
    return { bytes, sha256: hash.digest('hex') };
  }

  private fileName(m: FetchedMessage, f: SectionFetch, filename: string | null, type: string | null, whole: boolean, partial: boolean): string {
    const range = partial ? `-partial-${f.origin}-${f.bytes}` : '';
    if (whole) return safeComponent(`${baseName(m)}${range}${partial ? '.bin' : '.eml'}`);
    if (f.spec.text !== null) return safeComponent(`${baseName(m)}-${f.section.replace(/[()\s]+/g, '_')}${range}.txt`);
    return this.partFileName(m, f.spec.part, filename, type, range);
  }

  private partFileName(m: FetchedMessage, part: string, filename: string | null, type: string | null, range = ''): string {
    const leaf = filename ?? `part${part}${extensionFor(type)}`;
    return safeComponent(`${baseName(m)}-${part}${range}-${leaf}`);
  }

  /** Open for writing: new files only, unless forced; never through a symbolic link. */
  private openTarget(path: string): number | null {
    try {
      return openSync(path, 'wx');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new ExtractError(`cannot write ${path}: ${(err as Error).message}`);
    }
    if (!this.force) {
      this.existing.push(path);
      return null;
    }
    if (!lstatSync(path).isFile()) {
      this.warn(`${path} exists and is not a regular file (a link?); left alone`);
      return null;
    }
    return openSync(path, constants.O_WRONLY | constants.O_TRUNC | constants.O_NOFOLLOW);
  }

  private writeFile(name: string, text: string): void {
    const fd = this.openTarget(join(this.outDir, name));
    if (fd === null) return;
    writeFileSync(fd, text);
    closeSync(fd);
  }
}

function baseName(m: FetchedMessage): string {
  return `${m.mailbox ?? 'mailbox'}-${m.uid !== null ? `uid${m.uid}` : `seq${m.seq}`}`;
}

function isDecodable(encoding: string | null): encoding is 'base64' | 'quoted-printable' {
  return encoding === 'base64' || encoding === 'quoted-printable';
}
