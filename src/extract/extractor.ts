import { createHash } from 'node:crypto';
import { closeSync, constants, createReadStream, createWriteStream, lstatSync, mkdirSync, openSync, readSync, writeSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type * as Libbase64 from 'libbase64';
import type * as Libqp from 'libqp';
import { lazyRequire } from '../util/lazy-require.js';
import type { FetchedMessage, SectionFetch } from '../analysis/fetches.js';
import type { MessageView } from '../analysis/message-view.js';
import type { ImapMessage, Literal, LiteralConsumer } from '../imap/types.js';
import { isFetchResponse } from '../imap/response.js';
import type { FetchedSection } from '../mime/types.js';
import { splitMessage } from '../mime/from-message.js';
import { partsByNumber } from '../mime/bodystructure.js';
import { UniqueNames, extensionFor, safeComponent } from './names.js';
import { PairFile } from './pair-file.js';
import { GatheredWriter } from '../util/gathered-writer.js';
import { jsonText } from '../util/json.js';
import { makeTempDir, type TempDir } from '../util/temp-dir.js';

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

/** Where a section's octets wait: a temporary file of their own (a large literal) or a stretch of the spool file. */
type Octets = { file: string } | { offset: number; length: number };

/** In the octets index, the second number of a section: its octets are in a file of their own (the first number names it), or there are none to write. */
const OWN_FILE = -1;
const NO_OCTETS = -2;

/** What writing one section needs, as its message and tree stand at the end of the capture. */
interface PlannedSection {
  mailbox: string | null;
  uidValidity: number | null;
  uid: number | null;
  seq: number;
  /** The fetched part's node in the message's tree, when the tree names it. */
  part: { type: string; filename: string | null; encoding: string | null } | null;
  fetch: Pick<SectionFetch, 'section' | 'item' | 'origin' | 'bytes' | 'complete' | 'conn' | 'tag'> & { specPart: string; specText: string | null };
  octets: Octets;
}

type PlanRow = [string | null, number | null, number | null, number, string | null, string | null, string | null, string, string, number | null, number, boolean, number, string | null, string, string | null];

export class ExtractError extends Error {}

/**
 * Literals up to this size are gathered in memory and appended to one spool file when they end; larger ones
 * stream into a file of their own. (A file per literal cost an open, a close and an unlink per section: a
 * folder sync of 170,000 header sections took minutes.)
 */
const SPOOLED_LITERAL = 256 * 1024;

/**
 * Writes every fetched section under one directory, decoded, in the order the sections were fetched. While
 * the capture is read, small literals are appended to one spool file and large ones stream into files of their
 * own (so no body sits in memory), and each section's place in them goes to an index on disk. A part's name and
 * decoding come from its message's tree, which may only be known later in the capture (another connection's
 * BODYSTRUCTURE), so files are written at the end: the tracker's sorted messages (spilled and merged, memory
 * bounded) give every section its plan, set at the section's place in a second index, and the sections are then
 * written in order. Memory holds no section and no message, only the file names handed out (to keep them apart; as fingerprints).
 * Nothing is written outside the directory, nothing is overwritten without `force`, no link is followed.
 */
export class Extractor {
  /**
   * Spool, indexes, spilled runs and large literals, inside the output directory (never outside it); removed by
   * dispose(), or when the process ends before (a second Ctrl-C, SIGTERM).
   */
  private readonly temporary: TempDir;
  /** Each FETCH literal's octets once it has ended: a stretch of the spool, or the number of its own file. */
  private readonly octetsOf = new WeakMap<Literal, { offset: number; length: number } | { own: number }>();
  private spool: { fd: number; size: number } | null = null;
  /** Per section, in order: where its octets wait (offset and length, or a file's number and OWN_FILE, or NO_OCTETS). */
  private readonly octetIndex: PairFile;
  private sections = 0;
  private tmpCount = 0;
  /** Files left alone because they exist (no --force): the caller says so once. */
  readonly existing: string[] = [];

  constructor(private readonly outDir: string, private readonly force: boolean, private readonly warn: (message: string) => void) {
    this.outDir = resolve(outDir);
    try {
      mkdirSync(this.outDir, { recursive: true });
      this.temporary = makeTempDir('.imapscope-tmp-', this.outDir);
      this.octetIndex = new PairFile(join(this.tmpDir, 'octets.idx'));
    } catch (err) {
      throw new ExtractError(`cannot write to ${outDir}: ${(err as Error).message}`);
    }
  }

  /** Keep a FETCH literal's octets on disk: a small one in the spool file once it ends, a large one in a file of its own. */
  literalStart(msg: ImapMessage, literal: Literal): LiteralConsumer | null {
    if (!isFetchResponse(msg)) return null;
    if (literal.length <= SPOOLED_LITERAL) {
      const chunks: Buffer[] = [];
      return {
        write: (chunk) => { chunks.push(Buffer.from(chunk)); },
        end: () => { this.octetsOf.set(literal, this.spooled(Buffer.concat(chunks))); },
      };
    }
    const own = ++this.tmpCount;
    const fd = openSync(this.ownFile(own), 'wx');
    this.octetsOf.set(literal, { own });
    return {
      write: (chunk) => { writeSync(fd, chunk); },
      end: () => { closeSync(fd); },
    };
  }

  /** Every section the tracker meets, in order (its option numberSections gives `fetch.order`, the same count). */
  section(_message: FetchedMessage, fetch: SectionFetch, s: FetchedSection): void {
    if (fetch.order !== this.sections++) throw new Error(`section ${fetch.order ?? '(none)'} handed over as number ${this.sections - 1}: the tracker must number sections`);
    const octets = s.value.kind === 'nil' || fetch.how === 'size' ? undefined
      : s.literal ? this.octetsOf.get(s.literal) : s.value.kind === 'string' ? this.spooled(Buffer.from(s.value.text, 'latin1')) : undefined;
    if (!octets) this.octetIndex.append(0, NO_OCTETS);
    else if ('own' in octets) this.octetIndex.append(octets.own, OWN_FILE);
    else this.octetIndex.append(octets.offset, octets.length);
  }

  private ownFile(n: number): string {
    return join(this.tmpDir, String(n));
  }

  private spooled(bytes: Buffer): { offset: number; length: number } {
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

  /** Octets of the spool file. */
  private octetBytes(octets: { offset: number; length: number }): Buffer {
    const bytes = Buffer.allocUnsafe(octets.length);
    readSync(this.spool!.fd, bytes, 0, octets.length, octets.offset);
    return bytes;
  }

  /**
   * Decode and write every section, then the manifest; remove the temporary files. `messages`: the tracker's
   * sorted() (every message, final, with its sections' `order`). Returns how many files were written.
   */
  async finish(capture: string, messages: Iterable<MessageView>): Promise<number> {
    const names = new UniqueNames();
    names.take('manifest.json');
    const manifest = new ManifestWriter(join(this.tmpDir, 'manifest'), capture);
    try {
      const plans = this.plan(messages);
      try {
        const placed = plans.places(this.sections);
        for (const [a, b] of this.octetIndex.pairs(this.sections)) {
          const [offset, length] = placed.next().value!;
          if (b === NO_OCTETS || length === 0) continue;
          const planned = plans.load(offset, length, b === OWN_FILE ? { file: this.ownFile(a) } : { offset: a, length: b });
          for (const file of await this.writeOne(planned, names)) manifest.add(file);
        }
      } finally {
        plans.close();
      }
      const fd = this.openTarget(join(this.outDir, 'manifest.json'));
      if (fd !== null) manifest.copyTo(fd);
      return manifest.count;
    } finally {
      manifest.close();
      this.dispose();
    }
  }

  /** Every section's plan from its final message, set at the section's place (the messages come sorted, not in section order). */
  private plan(messages: Iterable<MessageView>): PlanFile {
    const plans = new PlanFile(this.tmpDir);
    for (const m of messages) {
      const parts = partsByNumber(m.parts ?? []);
      for (const f of m.fetches) {
        if (f.order === undefined) continue;
        const node = f.spec.part !== '' ? parts.get(f.spec.part) ?? null : null;
        plans.set(f.order, [m.mailbox, m.uidValidity, m.uid, m.seq, node?.type ?? null, node?.filename ?? null, node?.encoding ?? null,
          f.section, f.item, f.origin, f.bytes, f.complete, f.conn, f.tag, f.spec.part, f.spec.text]);
      }
    }
    return plans;
  }

  /** Remove the temporary files (finish does; a read that failed must too). */
  dispose(): void {
    if (this.spool) closeSync(this.spool.fd);
    this.spool = null;
    if (!this.disposed) this.octetIndex.close();
    this.disposed = true;
    this.temporary.remove();
  }

  get tmpDir(): string {
    return this.temporary.path;
  }

  private disposed = false;

  private async writeOne(m: PlannedSection, names: UniqueNames): Promise<ExtractedFile[]> {
    const { fetch: f, part: partNode } = m;
    const wholeMessage = f.specPart === '' && f.specText === null;
    const partBody = f.specPart !== '' && f.specText === null;
    const partial = f.origin !== null;
    const encoding = partBody ? partNode?.encoding ?? null : null;
    // BINARY[] has the transfer encoding undone by the server already.
    const decode = partBody && !partial && f.item.toUpperCase().startsWith('BODY') && isDecodable(encoding);
    const name = names.take(this.fileName(m, f, partNode?.filename ?? null, partNode?.type ?? null, wholeMessage, partial));
    const written = await this.writeDecoded(name, m.octets, decode ? encoding : null);
    const files: ExtractedFile[] = written === null ? [] : [{
      file: name, mailbox: m.mailbox, uidValidity: m.uidValidity, uid: m.uid, part: f.specPart || null, section: f.section,
      type: wholeMessage ? 'message/rfc822' : partNode?.type ?? null, filename: partNode?.filename ?? null, encoding,
      decoded: decode, partial, origin: f.origin, complete: f.complete, bytes: written.bytes, sha256: written.sha256, conn: f.conn, tag: f.tag,
      fromMessage: false,
    }];
    // A message fetched whole carries its parts too: write each leaf decoded, as if fetched on its own.
    if (wholeMessage && !partial && f.complete) files.push(...await this.writeMessageParts(m, names));
    return files;
  }

  /** Split a whole message (mailsplit) and write every leaf part, decoded, beside its .eml. */
  private async writeMessageParts(m: PlannedSection, names: UniqueNames): Promise<ExtractedFile[]> {
    const { fetch: f } = m;
    const bodies = new Map<number, { path: string; fd: number }>();
    const split = await splitMessage(this.octetStream(m.octets), (index, chunk) => {
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

  private fileName(m: PlannedSection, f: PlannedSection['fetch'], filename: string | null, type: string | null, whole: boolean, partial: boolean): string {
    const range = partial ? `-partial-${f.origin}-${f.bytes}` : '';
    if (whole) return safeComponent(`${baseName(m)}${range}${partial ? '.bin' : '.eml'}`);
    if (f.specText !== null) return safeComponent(`${baseName(m)}-${f.section.replace(/[()\s]+/g, '_')}${range}.txt`);
    return this.partFileName(m, f.specPart, filename, type, range);
  }

  private partFileName(m: PlannedSection, part: string, filename: string | null, type: string | null, range = ''): string {
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

}

/** Plans of sections, set by a section's place as the sorted messages pass, read back in place order. */
class PlanFile {
  private readonly plans: GatheredWriter;
  private reader: number | null = null;
  /** Per place: the plan's offset and length (0: no plan). */
  private readonly index: PairFile;

  constructor(dir: string) {
    this.plans = new GatheredWriter(join(dir, 'plans'));
    this.index = new PairFile(join(dir, 'plans.idx'));
  }

  set(place: number, row: PlanRow): void {
    const offset = this.plans.size;
    this.index.set(place, offset, this.plans.write(JSON.stringify(row)));
  }

  /** Where each place's plan is ([0, 0]: none), in place order. */
  places(count: number): Generator<[number, number]> {
    return this.index.pairs(count);
  }

  /** The plan at `offset`, with its section's octets. */
  load(offset: number, length: number, octets: Octets): PlannedSection {
    if (this.reader === null) {
      this.plans.flush();
      this.reader = openSync(this.plans.path, 'r');
    }
    const bytes = Buffer.allocUnsafe(length);
    readSync(this.reader, bytes, 0, length, offset);
    const [mailbox, uidValidity, uid, seq, type, filename, encoding, section, item, origin, size, complete, conn, tag, specPart, specText] = JSON.parse(bytes.toString()) as PlanRow;
    return {
      mailbox, uidValidity, uid, seq, part: type === null ? null : { type, filename, encoding },
      fetch: { section, item, origin, bytes: size, complete, conn, tag, specPart, specText }, octets,
    };
  }

  close(): void {
    this.plans.close();
    if (this.reader !== null) closeSync(this.reader);
    this.index.close();
  }
}

/**
 * manifest.json written while the files are, into a temporary file, byte for byte as jsonText({ capture, files }, 2)
 * would write it: the list of a folder sync's files is never held.
 */
class ManifestWriter {
  private readonly text: GatheredWriter;
  count = 0;

  constructor(path: string, capture: string) {
    this.text = new GatheredWriter(path);
    this.text.write(`{\n  "capture": ${jsonText(capture)},\n  "files": [`);
  }

  add(file: ExtractedFile): void {
    this.text.write(`${this.count++ === 0 ? '' : ','}\n    ${jsonText(file, 2).replaceAll('\n', '\n    ')}`);
  }

  /** End the document and copy it to `target` (closed afterwards). */
  copyTo(target: number): void {
    this.text.write(this.count === 0 ? ']\n}\n' : '\n  ]\n}\n');
    this.text.flush();
    const source = openSync(this.text.path, 'r');
    try {
      const chunk = Buffer.allocUnsafe(64 * 1024);
      for (let at = 0, n; (n = readSync(source, chunk, 0, chunk.length, at)) > 0; at += n) writeSync(target, chunk, 0, n);
    } finally {
      closeSync(source);
      closeSync(target);
    }
  }

  close(): void {
    this.text.close();
  }
}

function baseName(m: PlannedSection): string {
  return `${m.mailbox ?? 'mailbox'}-${m.uid !== null ? `uid${m.uid}` : `seq${m.seq}`}`;
}

function isDecodable(encoding: string | null): encoding is 'base64' | 'quoted-printable' {
  return encoding === 'base64' || encoding === 'quoted-printable';
}
