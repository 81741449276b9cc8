import { TokenReader, type Value } from './tokens.js';
import type { ImapMessage, Status } from './types.js';

export interface ResponseCode {
  /** Upper case: CAPABILITY, UIDVALIDITY, TRYCREATE, … */
  name: string;
  /** The code's arguments as text. */
  text: string;
}

export type Response =
  | { kind: 'continuation'; text: string }
  | { kind: 'tagged'; tag: string; status: Status; code: ResponseCode | null; text: string }
  /** Untagged OK/NO/BAD/BYE/PREAUTH (greeting, warnings, response codes). */
  | { kind: 'untagged-status'; status: Status | 'BYE' | 'PREAUTH'; code: ResponseCode | null; text: string }
  /** `* <n> EXISTS|RECENT|EXPUNGE|FETCH …` */
  | NumberedResponse
  /** `* CAPABILITY …`, `* LIST …`, `* SEARCH …` and every other keyword response. */
  | DataResponse
  | { kind: 'unknown'; text: string };

const STATUS = new Set(['OK', 'NO', 'BAD']);
const UNTAGGED_STATUS = new Set(['OK', 'NO', 'BAD', 'BYE', 'PREAUTH']);

/**
 * Response names as constants: a name cut from each line is a new string, and counting it as an object key
 * (untaggedByType) then costs a string-table lookup every time; a constant is looked up once.
 */
const KNOWN_NAMES = new Map(['OK', 'NO', 'BAD', 'BYE', 'PREAUTH', 'FETCH', 'EXISTS', 'RECENT', 'EXPUNGE', 'VANISHED',
  'CAPABILITY', 'LIST', 'LSUB', 'XLIST', 'SEARCH', 'ESEARCH', 'SORT', 'THREAD', 'FLAGS', 'STATUS', 'ID', 'ENABLED',
  'NAMESPACE', 'QUOTA', 'QUOTAROOT', 'ACL', 'MYRIGHTS', 'LISTRIGHTS', 'METADATA'].map((n) => [n, n]));

/** The responses of RFC 3501/9051 and the common extensions, by their names in upper case. */
export const KNOWN_RESPONSE_NAMES: ReadonlyMap<string, string> = KNOWN_NAMES;

/** `word` in upper case, as the constant when it is a known response name. */
function upperName(word: string): string {
  // Most lines of a folder sync: a comparison costs less than hashing the new string for the table.
  if (word === 'FETCH') return 'FETCH';
  const known = KNOWN_NAMES.get(word);
  if (known !== undefined) return known;
  const upper = word.toUpperCase();
  return KNOWN_NAMES.get(upper) ?? upper;
}

/**
 * A later instalment of a FETCH response (ImapMessage.instalment) as a response of its own: the first instalment's
 * number, and the items its text carries, as the attribute list.
 */
export function continuedFetch(number: number, msg: ImapMessage, nestedListsOnDemand = false): NumberedResponse {
  return new NumberedResponse(number, 'FETCH', TokenReader.continuing(msg, nestedListsOnDemand));
}

/** A server message as a response. With `nestedListsOnDemand`, lists inside its lists are read when looked into (TokenReader). */
export function parseResponse(msg: ImapMessage, nestedListsOnDemand = false): Response {
  const first = msg.lines[0] ?? '';
  if (first.startsWith('+')) return { kind: 'continuation', text: first.slice(1).trimStart() };
  const r = new TokenReader(msg, nestedListsOnDemand);
  const tag = r.word();
  const word = r.word();
  // `* 12 FETCH …` first: most lines of a folder sync are numbered.
  if (tag === '*' && isNumber(word)) return new NumberedResponse(Number(word), upperName(r.word()), r);
  const upper = upperName(word);
  if (tag === '*') {
    if (UNTAGGED_STATUS.has(upper)) {
      const { code, text } = statusText(r.restOfLine());
      return { kind: 'untagged-status', status: upper as Status | 'BYE' | 'PREAUTH', code, text };
    }
    if (/^[A-Za-z][A-Za-z0-9.\-_]*$/.test(word)) return new DataResponse(upper, r);
    return { kind: 'unknown', text: first };
  }
  if (tag && STATUS.has(upper)) {
    const { code, text } = statusText(r.restOfLine());
    return { kind: 'tagged', tag, status: upper as Status, code, text };
  }
  return { kind: 'unknown', text: first };
}

/** The rest of a response, tokenised on first use only: most responses are counted, never read. */
abstract class LazyValues {
  private read: Value[] | null = null;

  constructor(private readonly reader: TokenReader) {}

  get values(): Value[] {
    this.read ??= this.reader.values();
    return this.read;
  }
}

/**
 * `* <n> EXISTS|RECENT|EXPUNGE|FETCH …`. FETCH data (bodies!) is only tokenised if a consumer looks at
 * it. A class, so that thousands of responses share one shape.
 */
export class NumberedResponse extends LazyValues {
  readonly kind = 'numbered' as const;

  constructor(readonly number: number, readonly type: string, reader: TokenReader) {
    super(reader);
  }
}

/** `* SEARCH 1 2 3 …` and every other keyword response (a SEARCH of a big mailbox is long and seldom read). */
export class DataResponse extends LazyValues {
  readonly kind = 'data' as const;

  constructor(readonly type: string, reader: TokenReader) {
    super(reader);
  }
}

function isNumber(word: string): boolean {
  if (word.length === 0 || word.length > 15) return word.length > 15 && /^\d+$/.test(word);
  for (let i = 0; i < word.length; i++) {
    const c = word.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}

/** Split "[CODE args] human text" into the code and the text. */
export function statusText(s: string): { code: ResponseCode | null; text: string } {
  if (s.charCodeAt(0) !== OPEN_BRACKET) return { code: null, text: s };
  const end = closingBracket(s);
  if (end < 0) return { code: null, text: s };
  const inner = s.slice(1, end);
  const sp = inner.indexOf(' ');
  const name = (sp < 0 ? inner : inner.slice(0, sp)).toUpperCase();
  return { code: { name, text: sp < 0 ? '' : inner.slice(sp + 1) }, text: s.slice(end + 1).trimStart() };
}

const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

/** Where the bracket that opens `s` closes, brackets inside it paired, or -1. */
function closingBracket(s: string): number {
  // Most codes hold no bracket of their own, so the first ']' closes it, found natively: a greeting's or a LOGIN's
  // CAPABILITY code is a long list, and read a character at a time it took 3.6 % of `summary` on 100,000 idle clients.
  const close = s.indexOf(']', 1);
  const open = s.indexOf('[', 1);
  if (close < 0 || open < 0 || open > close) return close;
  let depth = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === OPEN_BRACKET) depth++;
    else if (c === CLOSE_BRACKET && --depth === 0) return i;
  }
  return -1;
}

/** `* 12 …`: the first line of a numbered response (EXISTS, EXPUNGE, FETCH), whose data only FETCH readers look at. */
export function isNumberedResponse(firstLine: string): boolean {
  const digit = firstLine.charCodeAt(2);
  return firstLine.charCodeAt(0) === 0x2a && firstLine.charCodeAt(1) === 0x20 && digit >= 0x30 && digit <= 0x39;
}

/** `* 12 FETCH …`: the first line of a FETCH response. */
export function isFetchLine(firstLine: string): boolean {
  return FETCH_LINE.test(firstLine);
}

const FETCH_LINE = /^\* \d+ FETCH /i;

/** Is this message (or the response it is an instalment of) a FETCH response? */
export function isFetchResponse(msg: ImapMessage): boolean {
  return msg.side === 'server' && isFetchLine(msg.instalment?.head ?? msg.lines[0] ?? '');
}

/** Does a line look like the start of a server response (for resynchronising after a gap)? */
export function looksLikeResponse(line: string): boolean {
  if (/^\+( |$)/.test(line)) return true;
  if (/^\* (OK|NO|BAD|BYE|PREAUTH|CAPABILITY|LIST|LSUB|XLIST|STATUS|SEARCH|ESEARCH|FLAGS|ID|NAMESPACE|ENABLED|QUOTA|QUOTAROOT|SORT|THREAD|VANISHED|METADATA)( |$)/i.test(line)) return true;
  if (/^\* \d+ (EXISTS|RECENT|EXPUNGE|FETCH)( |$)/i.test(line)) return true;
  return /^[\x21-\x7e]+ (OK|NO|BAD)( |$)/i.test(line) && !line.startsWith('*');
}
