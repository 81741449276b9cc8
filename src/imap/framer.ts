import type { Side, TimePoint } from '../tcp/types.js';
import type { ImapMessage, Literal, LiteralConsumer } from './types.js';
import { latin1 } from '../util/latin1.js';
import { isFetchLine } from './response.js';
import { listDepthAfter } from './tokens.js';

export interface FramerLimits {
  /** Longest line kept; the rest of a longer line is dropped (and reported). */
  maxLine: number;
  /** Literals up to this size are kept in memory for the parser; larger ones are only counted. */
  keepLiteral: number;
  /**
   * A FETCH response is handed on in instalments of about this many literals (ImapMessage.instalment), so that one
   * response of a hundred thousand sections is never held whole.
   */
  instalmentLiterals: number;
  /** …or once it holds this many octets of line text and literals, whichever comes first. */
  instalmentOctets: number;
  /**
   * A message keeps its line pieces and literals until it holds this many literals or `maxHeldOctets` octets; the
   * pieces after that are counted, not kept (ImapMessage.elided), so that no message grows without bound: a client
   * command of a million literals, or a response that is not cut into instalments.
   */
  maxLiterals: number;
  maxHeldOctets: number;
}

export const DEFAULT_FRAMER_LIMITS: FramerLimits = {
  maxLine: 1024 * 1024, keepLiteral: 256 * 1024,
  instalmentLiterals: 4096, instalmentOctets: 4 * 1024 * 1024,
  maxLiterals: 8192, maxHeldOctets: 16 * 1024 * 1024,
};

/**
 * What every framer of one side of a capture shares (one object, not a copy per connection): which side,
 * the limits, and what a plausible message start of that side looks like (to resynchronise).
 */
export interface FramerSettings {
  readonly side: Side;
  readonly limits: FramerLimits;
  /** Does this line look like the start of a message of this side? Used to resynchronise. */
  readonly plausibleStart: (line: string) => boolean;
  /**
   * Are the octets of a literal in the message that starts with this line kept (up to limits.keepLiteral)? Absent:
   * always. Octets nobody reads need not be copied: a folder sync's FETCH responses carry one literal each.
   */
  readonly keepsOctets?: (firstLine: string) => boolean;
}

export interface FramerOutput {
  message(m: ImapMessage): void;
  warn(frame: number, message: string): void;
  /** A literal begins (its announcing line is the message's last line so far): who wants its octets? */
  literalStart?(m: ImapMessage, literal: Literal): LiteralConsumer | null;
}

const CR = 0x0d;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const TILDE = 0x7e;

/** Status responses and continuation requests carry free text, never literals. */
const TEXT_ONLY = /^(?:\+(?: |$)|\S+ (?:OK|NO|BAD|BYE|PREAUTH)(?: |$))/i;
/** Above 2^32 octets a literal cannot be real (IMAP numbers are 32-bit, and no capture holds that). */
const MAX_LITERAL = 2 ** 32;

/**
 * Cuts one direction's byte stream into IMAP messages: lines ending in CRLF (bare LF tolerated),
 * with literals taken as exactly n raw octets wherever a line announces one. Incremental across
 * segment boundaries. After a gap it resynchronises at the next line that looks like IMAP.
 */
export class ImapFramer {
  private msg: ImapMessage | null = null;
  /** The line not yet ended, while one is cut by a segment boundary; null between lines (most of the time). */
  private partial: PartialLine | null = null;
  /**
   * The literal being read, or null when reading lines; the octets of it still to come, and who receives them as they
   * stream past, if anyone (fields of the framer, not an object per literal: a folder sync's FETCH responses carry one
   * literal each).
   */
  private literal: Literal | null = null;
  private literalLeft = 0;
  private literalConsumer: LiteralConsumer | null = null;
  /** Looking for a plausible message start (mid-stream start, or after a gap), or null when in step. */
  private resync: Resync | null = null;
  private yieldRequested = false;
  /** A FETCH response being handed on in instalments, from when its first instalment reached the cap; else null. */
  private series: Series | null = null;
  /** Octets of line text and literals the message being read holds (for the caps on what a message keeps). */
  private held = 0;

  constructor(
    private readonly out: FramerOutput,
    private readonly settings: FramerSettings,
  ) {}

  get side(): Side {
    return this.settings.side;
  }

  /** Start by looking for a plausible line: the capture began mid-stream, or after a gap. */
  startResync(frame: number): void {
    this.resync = { skipped: 0, frame };
  }

  get inLiteral(): boolean {
    return this.literal !== null;
  }

  /**
   * Frame these bytes. Returns how many were consumed: all of them, unless a message handler called
   * yieldAfterMessage() (the protocol changes after it, so the rest must go another way).
   */
  push(bytes: Buffer, frame: number, time: TimePoint): number {
    let pos = 0;
    this.yieldRequested = false;
    const maxLine = this.settings.limits.maxLine;
    while (pos < bytes.length && !this.yieldRequested) {
      if (this.literal) {
        pos = this.readLiteral(this.literal, bytes, pos, frame, time);
        continue;
      }
      const lf = bytes.indexOf(10, pos);
      if (lf < 0) {
        this.keepPartial(bytes, pos, bytes.length, frame, time);
        return bytes.length;
      }
      const partial = this.partial;
      if (partial === null && lf - pos <= maxLine) {
        // The CR is left out before the text is made (one string, not a string and its slice).
        const line = latin1(bytes, pos, lf > pos && bytes[lf - 1] === CR ? lf - 1 : lf);
        const lineBytes = lf - pos + 1;
        pos = lf + 1;
        this.endLine(line, lineBytes, false, frame, time, frame, time);
        continue;
      }
      this.keepPartial(bytes, pos, lf, frame, time);
      const whole = this.partial!;
      this.partial = null;
      const line = whole.text.endsWith('\r') ? whole.text.slice(0, -1) : whole.text;
      pos = lf + 1;
      this.endLine(line, whole.length + 1, whole.overflowed, frame, time, whole.frame, whole.time);
    }
    return pos;
  }

  /** Stop the current push() after the message being delivered (STARTTLS or COMPRESS took effect). */
  yieldAfterMessage(): void {
    this.yieldRequested = true;
  }

  /** Between two messages, in step: nothing is kept that the next bytes would need (a new framer would do the same). */
  get between(): boolean {
    return this.msg === null && this.partial === null && this.literal === null && this.resync === null && this.series === null;
  }

  /** Part of a message has been read (its first line piece at least, or part of a line). */
  get midMessage(): boolean {
    return this.msg !== null || this.partial !== null || this.series !== null;
  }

  /** Tag of the message being read, if its first line is complete. */
  currentTag(): string | null {
    const first = this.series?.head ?? this.msg?.lines[0];
    if (first === undefined) return null;
    const sp = first.indexOf(' ');
    return sp < 0 ? first : first.slice(0, sp);
  }

  /** `length` octets of this direction are missing. Inside a literal that only shortens it; else resync. */
  gap(length: number, frame: number, time: TimePoint): void {
    const reading = this.literal;
    if (reading) {
      const inLiteral = Math.min(length, this.literalLeft);
      reading.data = null; // incomplete octets are not handed on as if they were the literal
      this.endConsumer(false);
      this.literalLeft -= inLiteral;
      if (this.literalLeft === 0) this.literal = null;
      this.msg!.damaged = true;
      length -= inLiteral;
      if (length === 0) return; // the gap lay inside the literal: framing is still in step
    }
    if (this.msg || this.partial || this.series) {
      this.abandon(frame, time, 'a gap in the capture');
    }
    this.startResync(frame);
  }

  /** End of the stream (close or end of capture): a message still open is handed on as damaged. */
  end(frame: number, time: TimePoint): void {
    const lit = this.literal;
    if (lit && this.msg) {
      this.out.warn(frame, `${this.side} literal of ${lit.length} octets announced in frame ${this.msg.firstFrame} was cut after ${lit.received} octets by the end of the stream`);
      lit.data = null;
      this.endConsumer(false);
      this.literal = null;
    }
    if (this.msg || this.partial || this.series) this.abandon(frame, time, 'the end of the stream');
  }

  /**
   * The server refused a synchronizing literal (tagged NO/BAD instead of "+"), so the client never
   * sends its octets: finish the message without them.
   */
  abandonLiteral(): void {
    const reading = this.literal;
    if (!reading || !this.msg || reading.received > 0) return;
    reading.data = null;
    reading.refused = true;
    this.endConsumer(false);
    this.literal = null;
    addLine(this.msg, '');
    this.emit();
  }

  /** Octets `start` to `end` of `bytes` continue the current line. */
  private keepPartial(bytes: Buffer, start: number, end: number, frame: number, time: TimePoint): void {
    const length = end - start;
    if (length <= 0) return;
    const partial = (this.partial ??= { text: '', length: 0, overflowed: false, frame, time });
    const maxLine = this.settings.limits.maxLine;
    if (partial.length + length > maxLine) {
      if (!partial.overflowed) {
        partial.overflowed = true;
        this.out.warn(frame, `${this.side} line longer than ${maxLine} octets; the rest of it is not kept`);
      }
      const room = Math.max(0, maxLine - partial.length);
      if (room > 0) partial.text += latin1(bytes, start, start + room);
      partial.length += length;
      return;
    }
    partial.text += latin1(bytes, start, end);
    partial.length += length;
  }

  /** The message being read, opened at the start of its first line if there is none yet. */
  private open(lineFrame: number, lineTime: TimePoint): ImapMessage {
    if (this.msg !== null) return this.msg;
    const msg: ImapMessage = { side: this.side, lines: NO_PIECES, literals: NO_PIECES, firstFrame: lineFrame, lastFrame: lineFrame, start: lineTime, end: lineTime, damaged: false, wireBytes: 0 };
    // An instalment says so from its start: whoever takes its literals' octets as they stream asks what they are.
    const series = this.series;
    if (series !== null) msg.instalment = { head: series.head, index: series.index, last: false };
    return (this.msg = msg);
  }

  /** Record that `bytes` octets of the current message arrived in `frame`. */
  private static touch(msg: ImapMessage, frame: number, time: TimePoint, bytes: number): void {
    msg.lastFrame = frame;
    msg.end = time;
    msg.wireBytes += bytes;
  }

  private endLine(line: string, bytes: number, overflowed: boolean, frame: number, time: TimePoint, lineFrame: number, lineTime: TimePoint): void {
    const resync = this.resync;
    if (resync && !this.msg) {
      if (!this.settings.plausibleStart(line)) {
        resync.skipped += bytes;
        return;
      }
      this.resync = null;
      if (resync.skipped > 0) {
        this.out.warn(frame, `${this.side}: skipped ${resync.skipped} octets that could not be framed (from frame ${resync.frame}); resynchronised at a ${this.side === 'client' ? 'command' : 'response'}`);
      }
    }
    const msg = this.open(lineFrame, lineTime);
    ImapFramer.touch(msg, frame, time, bytes);
    if (overflowed) msg.damaged = true;
    const series = this.series;
    const literal = this.literalAnnounced(line, msg.lines.length === 0 && series === null);
    if (!literal) {
      // The last line piece is always kept: it ends the message.
      addLine(msg, line);
      this.emit();
      return;
    }
    const limits = this.settings.limits;
    if (msg.literals.length < limits.maxLiterals && this.held < limits.maxHeldOctets) this.keepPiece(msg, line, literal, series);
    else this.elide(msg, bytes, literal);
    // One comparison per literal for every message; the rest only for a FETCH response this long.
    if (series !== null) {
      series.depth = listDepthAfter(line, series.depth);
      series.cutAfterLiteral = series.depth === 1 && this.instalmentFull(msg);
    } else if (this.instalmentFull(msg)) this.startSeries(msg);
    this.literal = literal;
    this.literalLeft = literal.length;
    if (literal.length === 0) this.finishLiteral();
  }

  /** A line piece and the literal it announces join the message, the literal's octets too if someone reads them. */
  private keepPiece(msg: ImapMessage, line: string, literal: Literal, series: Series | null): void {
    addLine(msg, line);
    this.held += line.length;
    const keeps = this.settings.keepsOctets;
    if (literal.length <= this.settings.limits.keepLiteral && (keeps === undefined || keeps(series?.head ?? msg.lines[0]!))) {
      literal.data = Buffer.allocUnsafe(literal.length);
      this.held += literal.length;
    }
    if (msg.literals.length === 0) msg.literals = [literal];
    else msg.literals.push(literal);
    this.literalConsumer = this.out.literalStart?.(msg, literal) ?? null;
  }

  /** Past the caps on what a message keeps: the piece and its literal are read and counted, and nobody gets them. */
  private elide(msg: ImapMessage, bytes: number, literal: Literal): void {
    const elided = (msg.elided ??= { literals: 0, octets: 0 });
    elided.literals++;
    elided.octets += bytes + literal.length;
  }

  /** Has the message reached an instalment's size (in literals, kept or not, or in octets held)? */
  private instalmentFull(msg: ImapMessage): boolean {
    const limits = this.settings.limits;
    return msg.literals.length + (msg.elided?.literals ?? 0) >= limits.instalmentLiterals || this.held >= limits.instalmentOctets;
  }

  /** The literal this line announces at its end, not yet read; null if it announces none. */
  private literalAnnounced(line: string, firstLine: boolean): Literal | null {
    if (line.charCodeAt(line.length - 1) !== RBRACE) return null;
    if (firstLine && TEXT_ONLY.test(line)) return null;
    const brace = literalBrace(line);
    if (brace < 0) return null;
    const binary = brace > 0 && line.charCodeAt(brace - 1) === TILDE;
    if (insideQuotes(line, binary ? brace - 1 : brace)) return null;
    const nonSync = isNonSyncMark(line.charCodeAt(line.length - 2));
    const digitsEnd = line.length - (nonSync ? 2 : 1);
    // Read as a number without a string of its digits (up to 20 of them: a double is exact enough to compare).
    let length = 0;
    for (let i = brace + 1; i < digitsEnd; i++) length = length * 10 + line.charCodeAt(i) - 0x30;
    if (length >= MAX_LITERAL) {
      this.out.warn(this.msg!.lastFrame, `${this.side} announced an impossible literal of ${line.slice(brace + 1, digitsEnd)} octets; read as ordinary text`);
      return null;
    }
    return { length, received: 0, data: null, nonSync, binary };
  }

  private readLiteral(lit: Literal, bytes: Buffer, pos: number, frame: number, time: TimePoint): number {
    const take = Math.min(this.literalLeft, bytes.length - pos);
    if (lit.data) bytes.copy(lit.data, lit.received, pos, pos + take);
    // A view only for a consumer: most literals of a sync (header fields) have none.
    this.literalConsumer?.write?.(bytes.subarray(pos, pos + take));
    lit.received += take;
    this.literalLeft -= take;
    ImapFramer.touch(this.msg!, frame, time, take);
    if (this.literalLeft === 0) this.finishLiteral();
    return pos + take;
  }

  private finishLiteral(): void {
    // The line goes on after the literal; it is read as the next line piece of the same message.
    this.endConsumer(true);
    this.literal = null;
    if (this.series?.cutAfterLiteral) this.cut(this.series);
  }

  /**
   * The message has reached the instalment cap: if it is a server's FETCH response, from now on it is handed on in
   * instalments, each cut after a literal that is one of its items (not inside one: an ENVELOPE's subject may be a
   * literal), so that each instalment's items are whole.
   */
  private startSeries(msg: ImapMessage): void {
    const head = msg.lines[0]!;
    if (this.side !== 'server' || !isFetchLine(head)) return;
    let depth = 0;
    for (const line of msg.lines) depth = listDepthAfter(line, depth);
    this.series = { head, index: 0, depth, cutAfterLiteral: depth === 1 };
  }

  /** Hand on the message so far as an instalment of its series; what follows opens the next. */
  private cut(series: Series): void {
    const msg = this.msg!;
    addLine(msg, '');
    msg.instalment ??= { head: series.head, index: 0, last: false };
    series.index++;
    series.cutAfterLiteral = false;
    this.handOn(msg);
  }

  private endConsumer(complete: boolean): void {
    if (!this.literal) return;
    const c = this.literalConsumer;
    this.literalConsumer = null;
    c?.end(complete);
  }

  private abandon(frame: number, time: TimePoint, why: string): void {
    const partial = this.partial;
    this.partial = null;
    if (!this.msg && this.resync) {
      // Still looking for a message start: the partial line was never part of one.
      this.resync.skipped += partial?.length ?? 0;
      return;
    }
    // Without a message there is a partial line (the message starts with it), or an instalment was just handed on.
    const msg = this.msg ?? this.open(partial?.frame ?? frame, partial?.time ?? time);
    ImapFramer.touch(msg, frame, time, partial?.length ?? 0);
    if (partial) {
      addLine(msg, partial.text);
    } else if (msg.lines.length === msg.literals.length) {
      addLine(msg, '');
    }
    this.endConsumer(false);
    this.literal = null;
    msg.damaged = true;
    this.out.warn(frame, `${this.side} message starting in frame ${msg.firstFrame} was cut by ${why}`);
    this.emit();
  }

  private emit(): void {
    const msg = this.msg!;
    const series = this.series;
    if (series !== null) {
      // A response that ended before its first cut is handed on whole (no instalment).
      if (msg.instalment) msg.instalment.last = true;
      this.series = null;
    }
    this.handOn(msg);
  }

  /** The message leaves the framer: what it could not keep is said once, with the cap that stopped it. */
  private handOn(msg: ImapMessage): void {
    this.msg = null;
    this.held = 0;
    const elided = msg.elided;
    if (elided !== undefined) {
      const limits = this.settings.limits;
      const start = `${this.side} message starting in frame ${msg.firstFrame}`;
      const rest = `${elided.literals} literals (${elided.octets} octets) were counted, not kept`;
      this.out.warn(msg.lastFrame, msg.literals.length >= limits.maxLiterals
        ? `${start} has ${msg.literals.length + elided.literals} literals, more than the ${limits.maxLiterals} a message keeps: the other ${rest}`
        : `${start} holds more than the ${limits.maxHeldOctets} octets a message keeps: its last ${rest}`);
    }
    this.out.message(msg);
  }
}

/** What a message's lists of lines and literals start as: one frozen empty list, replaced by its own at the first. */
const NO_PIECES: never[] = Object.freeze([]) as never[];

/**
 * A message's next line piece. Its first two make a list with room for just them: most messages have one line, a
 * FETCH response with a literal two, and a push onto [] reserves 17.
 */
function addLine(msg: ImapMessage, line: string): void {
  const lines = msg.lines;
  if (lines.length === 0) msg.lines = [line];
  else if (lines.length === 1) msg.lines = [lines[0]!, line];
  else lines.push(line);
}

/** A line cut by a segment boundary, as text (input buffers are only valid during a call), at most maxLine octets of it. */
interface PartialLine {
  text: string;
  /** Octets of the line so far, including any dropped past maxLine. */
  length: number;
  overflowed: boolean;
  /** Where the line began. */
  frame: number;
  time: TimePoint;
}

/** A FETCH response handed on in instalments: its first line, the next instalment's number, its lists open so far. */
interface Series {
  readonly head: string;
  index: number;
  depth: number;
  /** The literal being read is one of the response's items, and the instalment has reached the cap. */
  cutAfterLiteral: boolean;
}

interface Resync {
  /** Octets skipped so far, and the frame where skipping began. */
  skipped: number;
  frame: number;
}

/** Is position `at` of an IMAP line inside a quoted string? (Backslash escapes quotes and itself.) */
export function insideQuotes(line: string, at: number): boolean {
  // Jump from quote to quote (indexOf is native): most lines have few quotes and many other characters.
  let i = line.indexOf('"');
  // The next backslash, looked up again only once passed: most lines have none.
  let b = i < 0 ? -1 : line.indexOf('\\', i);
  while (i >= 0 && i < at) {
    // Inside a quoted string: find its closing quote, stepping over backslash escapes.
    let j = i + 1;
    for (;;) {
      const q = line.indexOf('"', j);
      if (q < 0) return true; // never closed before the end
      if (b >= 0 && b < j) b = line.indexOf('\\', j);
      if (b >= 0 && b < q) { j = b + 2; continue; }
      j = q;
      break;
    }
    if (j >= at) return true;
    i = line.indexOf('"', j + 1);
  }
  return false;
}

/**
 * Where `{n}`, `{n+}`, `{n-}` or `~{n}` (n up to 20 digits) ends a line that ends with a closing brace: the index of
 * its opening brace, or -1. Read backwards from the end without a regular expression or a string of the digits: long
 * FETCH lines end this way by the thousand.
 */
function literalBrace(line: string): number {
  let i = line.length - 2; // before the closing brace (the caller checked it)
  if (isNonSyncMark(line.charCodeAt(i))) i--;
  const digitsEnd = i + 1;
  while (i >= 0 && digitsEnd - i <= 20) {
    const c = line.charCodeAt(i);
    if (c < 0x30 || c > 0x39) break;
    i--;
  }
  return i === digitsEnd - 1 || i < 0 || line.charCodeAt(i) !== LBRACE ? -1 : i;
}

function isNonSyncMark(c: number): boolean {
  return c === 0x2b || c === 0x2d; // + (LITERAL+), - (LITERAL-)
}

/** literalBrace's finding as parts: where the announcement starts (at "~" if binary), its digits and its marks. */
export function literalAtEnd(line: string): { at: number; digits: string; nonSync: boolean; binary: boolean } | null {
  const brace = literalBrace(line);
  if (brace < 0) return null;
  const nonSync = isNonSyncMark(line.charCodeAt(line.length - 2));
  const binary = brace > 0 && line.charCodeAt(brace - 1) === TILDE;
  return { at: binary ? brace - 1 : brace, digits: line.slice(brace + 1, line.length - (nonSync ? 2 : 1)), nonSync, binary };
}
