import type { Side, TimePoint } from '../tcp/types.js';
import type { ImapMessage, Literal, LiteralConsumer } from './types.js';

export interface FramerLimits {
  /** Longest line kept; the rest of a longer line is dropped (and reported). */
  maxLine: number;
  /** Literals up to this size are kept in memory for the parser; larger ones are only counted. */
  keepLiteral: number;
}

export const DEFAULT_FRAMER_LIMITS: FramerLimits = { maxLine: 1024 * 1024, keepLiteral: 256 * 1024 };

export interface FramerOutput {
  message(m: ImapMessage): void;
  warn(frame: number, message: string): void;
  /** A literal begins (its announcing line is the message's last line so far): who wants its octets? */
  literalStart?(m: ImapMessage, literal: Literal): LiteralConsumer | null;
}

const CR = 0x0d;

/**
 * Octets as latin1 text. Buffer#latin1Slice is what toString('latin1', …) ends in, without the
 * argument checks and the encoding lookup: this runs for every line.
 */
const latin1: (bytes: Buffer, start: number, end: number) => string =
  typeof (Buffer.prototype as { latin1Slice?: unknown }).latin1Slice === 'function'
    ? (bytes, start, end) => (bytes as Buffer & { latin1Slice(start: number, end: number): string }).latin1Slice(start, end)
    : (bytes, start, end) => bytes.toString('latin1', start, end);

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
  /**
   * The current line not yet ended, as text (input buffers are only valid during a call; a string piece
   * costs no buffer allocation and joins without a copy), at most maxLine octets of it.
   */
  private partial = '';
  /** Octets of that line so far, including any dropped past maxLine. */
  private partialLen = 0;
  private lineOverflow = false;
  /** Octets still to come of the literal being read, or 0 when reading lines. */
  private literalLeft = 0;
  private literal: Literal | null = null;
  private consumer: LiteralConsumer | null = null;
  private resyncing = false;
  private yieldRequested = false;
  private resyncSkipped = 0;
  private resyncFrame = 0;
  /** Where the line being read began. */
  private lineFrame = 0;
  private lineTime: TimePoint | null = null;

  constructor(
    readonly side: Side,
    private readonly out: FramerOutput,
    private readonly limits: FramerLimits,
    /** Does this line look like the start of a message of this side? Used to resynchronise. */
    private readonly plausibleStart: (line: string) => boolean,
  ) {}

  /** Start by looking for a plausible line: the capture began mid-stream, or after a gap. */
  startResync(frame: number): void {
    this.resyncing = true;
    this.resyncSkipped = 0;
    this.resyncFrame = frame;
  }

  get inLiteral(): boolean {
    return this.literalLeft > 0;
  }

  /**
   * Frame these bytes. Returns how many were consumed: all of them, unless a message handler called
   * yieldAfterMessage() (the protocol changes after it, so the rest must go another way).
   */
  push(bytes: Buffer, frame: number, time: TimePoint): number {
    let pos = 0;
    this.yieldRequested = false;
    while (pos < bytes.length && !this.yieldRequested) {
      if (this.literalLeft > 0) {
        pos = this.readLiteral(bytes, pos, frame, time);
        continue;
      }
      const lf = bytes.indexOf(10, pos);
      if (lf < 0) {
        this.keepPartial(bytes, pos, bytes.length, frame, time);
        return bytes.length;
      }
      let line: string;
      let lineBytes: number;
      if (this.partialLen === 0 && lf - pos <= this.limits.maxLine) {
        // The CR is left out before the text is made (one string, not a string and its slice).
        line = latin1(bytes, pos, lf > pos && bytes[lf - 1] === CR ? lf - 1 : lf);
        lineBytes = lf - pos + 1;
        this.lineFrame = frame;
        this.lineTime = time;
      } else {
        this.keepPartial(bytes, pos, lf, frame, time);
        line = this.partial.endsWith('\r') ? this.partial.slice(0, -1) : this.partial;
        lineBytes = this.partialLen + 1;
        this.partial = '';
        this.partialLen = 0;
      }
      const overflowed = this.lineOverflow;
      this.lineOverflow = false;
      pos = lf + 1;
      this.endLine(line, lineBytes, overflowed, frame, time);
    }
    return pos;
  }

  /** Stop the current push() after the message being delivered (STARTTLS or COMPRESS took effect). */
  yieldAfterMessage(): void {
    this.yieldRequested = true;
  }

  /** Part of a message has been read (its first line piece at least, or part of a line). */
  get midMessage(): boolean {
    return this.msg !== null || this.partialLen > 0;
  }

  /** Tag of the message being read, if its first line is complete. */
  currentTag(): string | null {
    const first = this.msg?.lines[0];
    if (first === undefined) return null;
    const sp = first.indexOf(' ');
    return sp < 0 ? first : first.slice(0, sp);
  }

  /** `length` octets of this direction are missing. Inside a literal that only shortens it; else resync. */
  gap(length: number, frame: number, time: TimePoint): void {
    if (this.literalLeft > 0) {
      const inLiteral = Math.min(length, this.literalLeft);
      this.literal!.data = null; // incomplete octets are not handed on as if they were the literal
      this.endConsumer(false);
      this.literalLeft -= inLiteral;
      this.msg!.damaged = true;
      length -= inLiteral;
      if (length === 0) return; // the gap lay inside the literal: framing is still in step
    }
    if (this.msg || this.partialLen > 0) {
      this.abandon(frame, time, 'a gap in the capture');
    }
    this.startResync(frame);
  }

  /** End of the stream (close or end of capture): a message still open is handed on as damaged. */
  end(frame: number, time: TimePoint): void {
    if (this.literalLeft > 0 && this.msg) {
      this.out.warn(frame, `${this.side} literal of ${this.literal!.length} octets announced in frame ${this.msg.firstFrame} was cut after ${this.literal!.received} octets by the end of the stream`);
      this.literal!.data = null;
      this.literalLeft = 0;
      this.endConsumer(false);
    }
    if (this.msg || this.partialLen > 0) this.abandon(frame, time, 'the end of the stream');
  }

  /**
   * The server refused a synchronizing literal (tagged NO/BAD instead of "+"), so the client never
   * sends its octets: finish the message without them.
   */
  abandonLiteral(): void {
    if (this.literalLeft === 0 || !this.msg || this.literal!.received > 0) return;
    this.literalLeft = 0;
    this.literal!.data = null;
    this.literal!.refused = true;
    this.endConsumer(false);
    this.msg.lines.push('');
    this.emit();
  }

  /** Octets `start` to `end` of `bytes` continue the current line. */
  private keepPartial(bytes: Buffer, start: number, end: number, frame: number, time: TimePoint): void {
    const length = end - start;
    if (length <= 0) return;
    if (this.partialLen === 0) {
      this.lineFrame = frame;
      this.lineTime = time;
    }
    if (this.partialLen + length > this.limits.maxLine) {
      if (!this.lineOverflow) {
        this.lineOverflow = true;
        this.out.warn(frame, `${this.side} line longer than ${this.limits.maxLine} octets; the rest of it is not kept`);
      }
      const room = Math.max(0, this.limits.maxLine - this.partialLen);
      if (room > 0) this.partial += latin1(bytes, start, start + room);
      this.partialLen += length;
      return;
    }
    this.partial += latin1(bytes, start, end);
    this.partialLen += length;
  }

  /** Record that bytes of the current message arrived in `frame`, opening the message (at the line's start) if needed. */
  private touch(frame: number, time: TimePoint, bytes: number): void {
    if (!this.msg) {
      this.msg = { side: this.side, lines: [], literals: [], firstFrame: this.lineFrame || frame, lastFrame: frame, start: this.lineTime ?? time, end: time, damaged: false, wireBytes: 0 };
    }
    this.msg.lastFrame = frame;
    this.msg.end = time;
    this.msg.wireBytes += bytes;
  }

  private endLine(line: string, bytes: number, overflowed: boolean, frame: number, time: TimePoint): void {
    if (this.resyncing && !this.msg) {
      if (!this.plausibleStart(line)) {
        this.resyncSkipped += bytes;
        return;
      }
      this.resyncing = false;
      if (this.resyncSkipped > 0) {
        this.out.warn(frame, `${this.side}: skipped ${this.resyncSkipped} octets that could not be framed (from frame ${this.resyncFrame}); resynchronised at a ${this.side === 'client' ? 'command' : 'response'}`);
      }
    }
    this.touch(frame, time, bytes);
    const msg = this.msg!;
    if (overflowed) msg.damaged = true;
    const announced = this.literalAnnouncement(line, msg.lines.length === 0);
    msg.lines.push(line);
    if (!announced) {
      this.emit();
      return;
    }
    this.literal = { length: announced.length, received: 0, data: null, nonSync: announced.nonSync, binary: announced.binary };
    if (announced.length <= this.limits.keepLiteral) this.literal.data = Buffer.allocUnsafe(announced.length);
    msg.literals.push(this.literal);
    this.consumer = this.out.literalStart?.(msg, this.literal) ?? null;
    this.literalLeft = announced.length;
    if (announced.length === 0) this.finishLiteral();
  }

  private literalAnnouncement(line: string, firstLine: boolean): { length: number; nonSync: boolean; binary: boolean } | null {
    if (!line.endsWith('}')) return null;
    if (firstLine && TEXT_ONLY.test(line)) return null;
    const m = literalAtEnd(line);
    if (!m || insideQuotes(line, m.at)) return null;
    const length = Number(m.digits);
    if (length >= MAX_LITERAL) {
      this.out.warn(this.msg!.lastFrame, `${this.side} announced an impossible literal of ${m.digits} octets; read as ordinary text`);
      return null;
    }
    return { length, nonSync: m.nonSync, binary: m.binary };
  }

  private readLiteral(bytes: Buffer, pos: number, frame: number, time: TimePoint): number {
    const take = Math.min(this.literalLeft, bytes.length - pos);
    const lit = this.literal!;
    if (lit.data) bytes.copy(lit.data, lit.received, pos, pos + take);
    // A view only for a consumer: most literals of a sync (header fields) have none.
    this.consumer?.write(bytes.subarray(pos, pos + take));
    lit.received += take;
    this.literalLeft -= take;
    this.touch(frame, time, take);
    if (this.literalLeft === 0) this.finishLiteral();
    return pos + take;
  }

  private finishLiteral(): void {
    // The line goes on after the literal; it is read as the next line piece of the same message.
    this.endConsumer(true);
    this.literal = null;
  }

  private endConsumer(complete: boolean): void {
    const c = this.consumer;
    this.consumer = null;
    c?.end(complete);
  }

  private abandon(frame: number, time: TimePoint, why: string): void {
    if (!this.msg && this.resyncing) {
      // Still looking for a message start: the partial line was never part of one.
      this.resyncSkipped += this.partialLen;
      this.partial = '';
      this.partialLen = 0;
      return;
    }
    this.touch(frame, time, this.partialLen);
    const msg = this.msg!;
    if (this.partialLen > 0) {
      msg.lines.push(this.partial);
    } else if (msg.lines.length === msg.literals.length) {
      msg.lines.push('');
    }
    this.partial = '';
    this.partialLen = 0;
    this.literalLeft = 0;
    this.endConsumer(false);
    this.literal = null;
    msg.damaged = true;
    this.out.warn(frame, `${this.side} message starting in frame ${msg.firstFrame} was cut by ${why}`);
    this.emit();
  }

  private emit(): void {
    const msg = this.msg!;
    this.msg = null;
    this.out.message(msg);
  }
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
 * `{n}`, `{n+}`, `{n-}` or `~{n}` at the end of a line (n up to 20 digits), read backwards from the end
 * without a regular expression: long FETCH lines end this way by the thousand.
 */
export function literalAtEnd(line: string): { at: number; digits: string; nonSync: boolean; binary: boolean } | null {
  let i = line.length - 2; // before the closing brace (the caller checked it)
  let nonSync = false;
  const mark = line.charCodeAt(i);
  if (mark === 0x2b || mark === 0x2d) {
    nonSync = true;
    i--;
  }
  const digitsEnd = i + 1;
  while (i >= 0 && digitsEnd - i <= 20) {
    const c = line.charCodeAt(i);
    if (c < 0x30 || c > 0x39) break;
    i--;
  }
  if (i === digitsEnd - 1 || i < 0 || line.charCodeAt(i) !== 0x7b) return null;
  const binary = i > 0 && line.charCodeAt(i - 1) === 0x7e;
  return { at: binary ? i - 1 : i, digits: line.slice(i + 1, digitsEnd), nonSync, binary };
}
