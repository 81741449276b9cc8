import type { Side } from '../tcp/types.js';

/** Octets [start, end) of the client's byte stream, counted from its first octet (ISN + 1). */
export interface StreamRange {
  start: number;
  end: number;
}

/** A piece of one IMAP message as it lay in the stream: a line (without CRLF) or a literal's octets. */
type Piece = { kind: 'line'; text: string; start: number } | { kind: 'literal'; start: number; length: number };

/** Lines longer than this are not kept (no command with credentials is that long); the framing goes on. */
const MAX_LINE = 64 * 1024;
const LITERAL_AT_END = /~?\{(\d+)[+-]?\}$/;

/**
 * Frames one direction of an IMAP connection into messages, keeping where each line and literal lay in
 * the stream (the session's own framer keeps no stream offsets, and redaction needs nothing else).
 */
class OffsetFramer {
  private pos = 0;
  private line: number[] = [];
  private lineStart = 0;
  private lineTooLong = false;
  private literalLeft = 0;
  private pieces: Piece[] = [];
  /** After a gap: drop everything up to the next line end. */
  private resync = false;

  constructor(private readonly onMessage: (pieces: Piece[]) => void) {}

  data(bytes: Buffer): void {
    let i = 0;
    while (i < bytes.length) {
      if (this.literalLeft > 0) {
        const take = Math.min(this.literalLeft, bytes.length - i);
        this.literalLeft -= take;
        this.pos += take;
        i += take;
        continue;
      }
      const lf = bytes.indexOf(0x0a, i);
      const end = lf < 0 ? bytes.length : lf + 1;
      if (!this.resync) {
        if (this.line.length === 0 && !this.lineTooLong) this.lineStart = this.pos;
        if (this.line.length + (end - i) > MAX_LINE) this.lineTooLong = true;
        else for (let k = i; k < end; k++) this.line.push(bytes[k]!);
      } else if (lf >= 0) {
        this.resync = false;
        this.line = [];
        this.lineTooLong = false;
        this.lineStart = this.pos + (end - i);
        this.pos += end - i;
        i = end;
        continue;
      }
      this.pos += end - i;
      i = end;
      if (lf >= 0 && !this.resync) this.lineDone();
    }
  }

  gap(length: number): void {
    this.pos += length;
    if (this.literalLeft >= length) {
      this.literalLeft -= length; // inside a literal the count keeps us in step
      return;
    }
    this.literalLeft = 0;
    this.line = [];
    this.pieces = [];
    this.lineTooLong = false;
    this.resync = true;
  }

  private lineDone(): void {
    const raw = Buffer.from(this.line).toString('latin1');
    const text = raw.endsWith('\r\n') ? raw.slice(0, -2) : raw.slice(0, -1);
    const tooLong = this.lineTooLong;
    this.line = [];
    this.lineTooLong = false;
    this.pieces.push({ kind: 'line', text: tooLong ? '' : text, start: this.lineStart });
    const lit = tooLong ? null : LITERAL_AT_END.exec(text);
    if (lit) {
      const length = Number(lit[1]);
      this.pieces.push({ kind: 'literal', start: this.pos, length });
      this.literalLeft = length;
      return;
    }
    const pieces = this.pieces;
    this.pieces = [];
    this.onMessage(pieces);
  }
}

/** A cursor over a message's pieces that reads IMAP astrings (atom, quoted string or literal) with their positions. */
class ArgReader {
  private piece = 0;
  private at = 0;

  constructor(private readonly pieces: Piece[], startAt: number) {
    this.at = startAt;
  }

  /** The next argument's content range (quotes excluded), or null at the end of the command. */
  next(): StreamRange | null {
    const p = this.pieces[this.piece];
    if (!p || p.kind !== 'line') return null;
    while (p.text[this.at] === ' ') this.at++;
    if (this.at >= p.text.length) return null;
    const rest = p.text.slice(this.at);
    const lit = LITERAL_AT_END.exec(rest);
    if (lit && lit.index === 0) {
      const l = this.pieces[this.piece + 1];
      if (!l || l.kind !== 'literal') return null;
      this.piece += 2;
      this.at = 0;
      return { start: l.start, end: l.start + l.length };
    }
    if (rest[0] === '"') {
      let k = 1;
      while (k < rest.length && rest[k] !== '"') k += rest[k] === '\\' ? 2 : 1;
      const from = p.start + this.at + 1;
      const to = p.start + this.at + Math.min(k, rest.length);
      this.at += k + 1;
      return { start: from, end: to };
    }
    const sp = rest.indexOf(' ');
    const len = sp < 0 ? rest.length : sp;
    const range = { start: p.start + this.at, end: p.start + this.at + len };
    this.at += len;
    return range;
  }
}

/**
 * Finds where credentials lie in one IMAP connection's client stream: LOGIN passwords, AUTHENTICATE
 * initial responses (SASL-IR) and every SASL line until the server's tagged answer. Stops at STARTTLS
 * or COMPRESS (after their OK the bytes are encrypted or compressed: nothing to find in place).
 */
export class SecretLocator {
  readonly ranges: StreamRange[] = [];
  /** Set when the stream stopped being plain IMAP (STARTTLS, COMPRESS). */
  stoppedBy: string | null = null;
  private saslTag: string | null = null;
  private switchTag: { tag: string; what: string } | null = null;
  private readonly framers: Record<Side, OffsetFramer>;

  constructor() {
    this.framers = {
      client: new OffsetFramer((m) => this.clientMessage(m)),
      server: new OffsetFramer((m) => this.serverMessage(m)),
    };
  }

  data(side: Side, bytes: Buffer): void {
    if (!this.stoppedBy) this.framers[side].data(bytes);
  }

  gap(side: Side, length: number): void {
    if (!this.stoppedBy) this.framers[side].gap(length);
  }

  private clientMessage(pieces: Piece[]): void {
    const first = pieces[0];
    if (!first || first.kind !== 'line') return;
    if (this.saslTag !== null) {
      // A SASL response line; "*" cancels the exchange and reveals nothing.
      if (first.text !== '*' && first.text.length > 0) this.ranges.push({ start: first.start, end: first.start + first.text.length });
      return;
    }
    const m = /^(\S+) (UID )?(\S+)/i.exec(first.text);
    if (!m) return;
    const tag = m[1]!;
    const command = m[3]!.toUpperCase();
    const args = new ArgReader(pieces, m[0].length);
    if (command === 'LOGIN') {
      args.next(); // the user name stays
      const password = args.next();
      if (password && password.end > password.start) this.ranges.push(password);
    } else if (command === 'AUTHENTICATE') {
      args.next(); // the mechanism stays
      const initial = args.next();
      // "=" is an empty initial response: nothing to hide.
      if (initial && !(initial.end - initial.start === 1 && first.text.endsWith(' ='))) this.ranges.push(initial);
      this.saslTag = tag;
    } else if (command === 'STARTTLS' || command === 'COMPRESS') {
      this.switchTag = { tag, what: command };
    }
  }

  private serverMessage(pieces: Piece[]): void {
    const first = pieces[0];
    if (!first || first.kind !== 'line') return;
    const m = /^(\S+) (OK|NO|BAD)\b/i.exec(first.text);
    if (!m) return;
    if (m[1] === this.saslTag) this.saslTag = null;
    if (this.switchTag && m[1] === this.switchTag.tag) {
      if (m[2]!.toUpperCase() === 'OK') this.stoppedBy = this.switchTag.what;
      this.switchTag = null;
    }
  }
}
