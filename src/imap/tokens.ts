import type { ImapMessage, Literal } from './types.js';

/** IMAP data as the grammar sees it: atoms (numbers, flags, section specs), strings, lists and NIL. */
export type Value =
  | { kind: 'atom'; text: string }
  | { kind: 'string'; text: string; literal?: Literal }
  | { kind: 'list'; items: Value[] }
  | { kind: 'nil' };

const SP = 0x20;
const LPAREN = 0x28;
const RPAREN = 0x29;
const DQUOTE = 0x22;
const BACKSLASH = 0x5c;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;

/** NIL, one value for all: nothing reads more of it than its kind. */
const NIL: Value = Object.freeze({ kind: 'nil' });

/** The three characters at `at` spell NIL, in any case. */
function isNil(t: string, at: number): boolean {
  return (t.charCodeAt(at) | 0x20) === 0x6e && (t.charCodeAt(at + 1) | 0x20) === 0x69 && (t.charCodeAt(at + 2) | 0x20) === 0x6c;
}

/** Values nested deeper than this are hostile (a BODYSTRUCTURE 1,000 levels deep): read flat. */
const MAX_DEPTH = 100;

/**
 * Reads IMAP values from a framed message, stepping from a line piece into the literal that ends it
 * and on to the next piece. Lenient: it never throws, and reads what it cannot classify as atoms.
 */
export class TokenReader {
  private line = 0;
  private pos = 0;
  /** The current line piece (msg.lines[line]), kept in a field: read for every character. */
  private text: string;
  /** Lists nested this deep or deeper are read on demand; none unless asked for. */
  private readonly onDemandFrom: number;
  /** Set when the input broke the grammar somewhere (the caller may warn). */
  malformed = false;
  /** The message continues a list opened in an earlier message (a FETCH response's later instalment): see continuing(). */
  private continuesList = false;

  /**
   * With `nestedListsOnDemand`, a list inside a list (a FETCH response's BODYSTRUCTURE, ENVELOPE, FLAGS) is only stepped
   * over, and read when its items are first asked for: for a reader that wants a FETCH response's item names, not its
   * structures, most of whose tokens they are. A reader that reads every structure pays for stepping over it first.
   */
  constructor(private readonly msg: ImapMessage, nestedListsOnDemand = false) {
    this.text = msg.lines[0] ?? '';
    this.onDemandFrom = nestedListsOnDemand ? 1 : Infinity;
  }

  /** The items of the list that opens at `pos` of piece `line`, read as value(depth) would have read them. */
  static listAt(msg: ImapMessage, line: number, pos: number, depth: number): Value[] {
    const r = new TokenReader(msg);
    r.line = line;
    r.text = msg.lines[line] ?? '';
    r.pos = pos;
    return r.list(depth).items;
  }

  /**
   * A reader of a later instalment of a long response (ImapMessage.instalment): its text continues the attribute list
   * the first instalment opened, so values() gives that list's remaining items as one list, read as the whole
   * message's would have been.
   */
  static continuing(msg: ImapMessage, nestedListsOnDemand = false): TokenReader {
    const r = new TokenReader(msg, nestedListsOnDemand);
    r.continuesList = true;
    return r;
  }

  atEnd(): boolean {
    this.skipSpaces();
    return this.pos >= this.text.length && this.line >= this.msg.lines.length - 1;
  }

  skipSpaces(): void {
    while (this.pos < this.text.length && this.text.charCodeAt(this.pos) === SP) this.pos++;
  }

  /** The next space-delimited word of the current line piece, raw (tags, command names). */
  word(): string {
    this.skipSpaces();
    const t = this.text;
    const start = this.pos;
    while (this.pos < t.length && t.charCodeAt(this.pos) !== SP) this.pos++;
    return t.slice(start, this.pos);
  }

  /** What is left of the current line piece (resp-text, unparsed arguments). */
  restOfLine(): string {
    this.skipSpaces();
    const r = this.text.slice(this.pos);
    this.pos = this.text.length;
    return r;
  }

  peekChar(): number {
    this.skipSpaces();
    return this.pos < this.text.length ? this.text.charCodeAt(this.pos) : -1;
  }

  /** Read one value, or null at the end of the message (or at a closing parenthesis). */
  value(depth = 0): Value | null {
    this.skipSpaces();
    const t = this.text;
    if (this.pos >= t.length) return null;
    const c = t.charCodeAt(this.pos);
    if (c === RPAREN) return null;
    if (c === LPAREN) return depth >= this.onDemandFrom ? this.listOnDemand(depth) : this.list(depth);
    if (c === DQUOTE) return this.quoted();
    if (this.atLiteral(c)) {
      const lit = this.enterLiteral();
      if (lit) return new LiteralValue(lit);
    }
    const start = this.pos;
    this.skipAtom();
    if (this.pos - start === 3 && isNil(t, start)) return NIL;
    return { kind: 'atom', text: t.slice(start, this.pos) };
  }

  /** Every value up to the end of the message. */
  values(): Value[] {
    if (this.continuesList) return [this.listItems(0)];
    const out: Value[] = [];
    for (;;) {
      const v = this.value();
      if (v) { out.push(v); continue; }
      if (this.pos < this.text.length && this.text.charCodeAt(this.pos) === RPAREN) {
        this.malformed = true;
        this.pos++; // unbalanced ')': skip it and go on
        continue;
      }
      return out;
    }
  }

  private list(depth: number): { kind: 'list'; items: Value[] } {
    this.pos++; // (
    return this.listItems(depth);
  }

  /** The items of a list whose opening parenthesis has been read, and its closing one. */
  private listItems(depth: number): { kind: 'list'; items: Value[] } {
    const items: Value[] = [];
    for (;;) {
      const v = depth >= MAX_DEPTH ? this.flatValue() : this.value(depth + 1);
      if (v) { items.push(v); continue; }
      if (this.pos < this.text.length && this.text.charCodeAt(this.pos) === RPAREN) {
        this.pos++;
        return { kind: 'list', items };
      }
      this.malformed = true; // message ended inside a list
      return { kind: 'list', items };
    }
  }

  /** Past the depth limit, nested lists are skipped as one atom so the stack stays flat. */
  private flatValue(): Value | null {
    this.skipSpaces();
    if (this.peekChar() !== LPAREN) return this.value(MAX_DEPTH);
    const start = this.pos;
    this.skipFlatList();
    return { kind: 'atom', text: this.text.slice(start, this.pos) };
  }

  private skipFlatList(): void {
    this.malformed = true;
    let level = 0;
    const t = this.text;
    for (; this.pos < t.length; this.pos++) {
      const c = t.charCodeAt(this.pos);
      if (c === LPAREN) level++;
      else if (c === RPAREN && --level === 0) { this.pos++; break; }
    }
  }

  /** A list whose items are read when first asked for: here it is stepped over, making nothing. */
  private listOnDemand(depth: number): Value {
    const line = this.line;
    const pos = this.pos;
    this.skipList(depth);
    return new ListOnDemand(this.msg, line, pos, depth);
  }

  /**
   * Step over one value exactly as value(depth) reads it (the same end, the same `malformed`), making nothing. False,
   * as value() gives null, at the end of the message or at a closing parenthesis.
   */
  private skipValue(depth: number): boolean {
    this.skipSpaces();
    const t = this.text;
    if (this.pos >= t.length) return false;
    const c = t.charCodeAt(this.pos);
    if (c === RPAREN) return false;
    if (c === LPAREN) this.skipList(depth);
    else if (c === DQUOTE) this.skipQuoted();
    else if (!(this.atLiteral(c) && this.enterLiteral())) this.skipAtom();
    return true;
  }

  private skipList(depth: number): void {
    this.pos++; // (
    for (;;) {
      if (depth >= MAX_DEPTH ? this.skipFlatValue() : this.skipValue(depth + 1)) continue;
      if (this.pos < this.text.length && this.text.charCodeAt(this.pos) === RPAREN) {
        this.pos++;
        return;
      }
      this.malformed = true; // message ended inside a list
      return;
    }
  }

  private skipFlatValue(): boolean {
    this.skipSpaces();
    if (this.peekChar() !== LPAREN) return this.skipValue(MAX_DEPTH);
    this.skipFlatList();
    return true;
  }

  private skipQuoted(): void {
    const t = this.text;
    for (let i = this.pos + 1; i < t.length; i++) {
      const c = t.charCodeAt(i);
      if (c === BACKSLASH) i++;
      else if (c === DQUOTE) {
        this.pos = i + 1;
        return;
      }
    }
    this.malformed = true;
    this.pos = t.length;
  }

  private quoted(): Value {
    const t = this.text;
    let out = '';
    let i = this.pos + 1;
    let runStart = i;
    for (; i < t.length; i++) {
      const c = t.charCodeAt(i);
      if (c === BACKSLASH) {
        out += t.slice(runStart, i);
        i++;
        runStart = i;
      } else if (c === DQUOTE) {
        out += t.slice(runStart, i);
        this.pos = i + 1;
        return { kind: 'string', text: out };
      }
    }
    this.malformed = true;
    out += t.slice(runStart, i);
    this.pos = t.length;
    return { kind: 'string', text: out };
  }

  /** `c`, the character at the position, may begin a literal's announcement: {n} or ~{n}. */
  private atLiteral(c: number): boolean {
    return c === 0x7b /* { */ || (c === 0x7e /* ~ */ && this.text.charCodeAt(this.pos + 1) === 0x7b);
  }

  /** At a literal's announcement that ends the line piece: step into the next piece, giving the literal. */
  private enterLiteral(): Literal | null {
    const t = this.text;
    const m = /^~?\{(\d+)[+-]?\}$/.exec(t.slice(this.pos));
    const lit = this.msg.literals[this.line];
    if (!m || !lit) return null;
    this.line++;
    this.text = this.msg.lines[this.line] ?? '';
    this.pos = 0;
    return lit;
  }

  /** Past an atom, taking a bracketed section (which may hold spaces and parentheses) and <partial> with it. */
  private skipAtom(): void {
    const t = this.text;
    const start = this.pos;
    let i = start;
    let brackets = 0;
    for (; i < t.length; i++) {
      const c = t.charCodeAt(i);
      if (c > RPAREN && c !== LBRACKET && c !== RBRACKET) continue; // most of an atom: letters, digits, '.', '\\'
      if (c === LBRACKET) brackets++;
      else if (c === RBRACKET && brackets > 0) brackets--;
      else if (brackets === 0 && (c === SP || c === LPAREN || c === RPAREN)) break;
    }
    this.pos = i;
    if (i === start) {
      this.pos++; // a lone special character: consume it so reading always advances
      this.malformed = true;
    }
  }
}

/**
 * How many lists are open after `piece` (a line piece of a framed message), when `depth` were open before it: quoted
 * strings and bracketed sections (`BODY[HEADER.FIELDS (FROM)]`) are stepped over, as the reader steps over them. The
 * framer asks it of a long FETCH response, to cut it into instalments only between two of its items.
 */
export function listDepthAfter(piece: string, depth: number): number {
  let brackets = 0;
  for (let i = 0; i < piece.length; i++) {
    const c = piece.charCodeAt(i);
    if (c === DQUOTE) {
      for (i++; i < piece.length; i++) {
        const q = piece.charCodeAt(i);
        if (q === BACKSLASH) i++;
        else if (q === DQUOTE) break;
      }
    } else if (c === LBRACKET) brackets++;
    else if (c === RBRACKET && brackets > 0) brackets--;
    else if (brackets > 0) continue;
    else if (c === LPAREN) depth++;
    else if (c === RPAREN && depth > 0) depth--;
  }
  return depth;
}

/** Text of a string-like value (atom, string, NIL → null), for mailbox names, ID values and the like. */
export function stringOf(v: Value | null | undefined): string | null {
  if (!v) return null;
  if (v.kind === 'atom' || v.kind === 'string') return v.text;
  return null;
}

/** Render values back to IMAP-like text for display; literals show as {n} unless small and printable. */
export function renderValues(values: readonly Value[]): string {
  return values.map(renderValue).join(' ');
}

export function renderValue(v: Value): string {
  switch (v.kind) {
    case 'atom': return v.text;
    case 'nil': return 'NIL';
    case 'list': return `(${renderValues(v.items)})`;
    case 'string':
      if (v.literal && (v.literal.data === null || v.literal.length > 200 || /[\r\n]/.test(v.text))) return `{${v.literal.length}}`;
      return `"${v.text.replace(/["\\]/g, (c) => `\\${c}`)}"`;
  }
}

/**
 * A literal as a string value; its text is made only if someone reads it (bodies usually are not). A class, not an
 * object literal with a getter: that made a closure and an accessor of its own for every literal.
 */
class LiteralValue {
  readonly kind = 'string';
  private made: string | undefined;

  constructor(readonly literal: Literal) {}

  get text(): string {
    this.made ??= this.literal.data ? this.literal.data.toString('latin1') : '';
    return this.made;
  }
}


/** A nested list read on demand (TokenReader.values): where it opens, and its items once someone has asked. */
class ListOnDemand {
  readonly kind = 'list';
  private made: Value[] | undefined;

  constructor(private readonly msg: ImapMessage, private readonly line: number, private readonly pos: number, private readonly depth: number) {}

  get items(): Value[] {
    this.made ??= TokenReader.listAt(this.msg, this.line, this.pos, this.depth);
    return this.made;
  }
}
