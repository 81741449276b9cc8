import { decodeWords } from './bodystructure.js';
import type { Address, Envelope } from './types.js';
import { latin1 } from '../util/latin1.js';

/** One shared empty list for the address fields a fetched header does not give (never mutated). */
const NO_ADDRESSES: Address[] = Object.freeze([]) as unknown as Address[];

/**
 * Date, From and Subject from a fetched top-level header (BODY[HEADER.FIELDS (…)], BODY[HEADER], BODY[]),
 * for clients that never ask for the ENVELOPE.
 */
export function envelopeFromHeader(raw: Buffer): Envelope | null {
  const fields = headerFields(raw);
  const field = (name: string) => {
    const value = fields.get(name);
    if (value === undefined) return null;
    // The header is read as latin1; 8-bit octets are taken as UTF-8 (plain ASCII needs no conversion).
    return decodeWords(/[\x80-\xff]/.test(value) ? Buffer.from(value, 'latin1').toString('utf8') : value).trim();
  };
  const date = field('date');
  const subject = field('subject');
  const from = field('from');
  if (date === null && subject === null && from === null) return null;
  const addr = from === null ? [] : [{ name: /^(.*?)\s*<[^>]*>\s*$/.exec(from)?.[1]?.replace(/^"|"$/g, '') || null, email: /<([^>]*)>/.exec(from)?.[1] ?? from }];
  return { date, subject, from: addr, sender: NO_ADDRESSES, replyTo: NO_ADDRESSES, to: NO_ADDRESSES, cc: NO_ADDRESSES, bcc: NO_ADDRESSES, inReplyTo: null, messageId: field('message-id') };
}

const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const TAB = 0x09;
const COLON = 0x3a;
const LEADING_BLANKS = /^[ \t]+/;
const FOLD = /\r?\n[ \t]+/g;

/** The envelope's header fields by the lower-case octets of their names. */
const ENVELOPE_FIELDS = ['date', 'subject', 'from', 'message-id'].map((name) => ({ name, octets: Buffer.from(name, 'latin1') }));

/**
 * The first value of each envelope field in the header (up to its blank line), unfolded, read from the octets
 * in one pass over its lines: a line starts after CR or LF and ends before either (a line break followed by
 * blanks folds the line, and the fold reads as one space); the name is matched without regard to case, the
 * value starts after the colon and any blanks. Values are new strings of their own octets (latin1), so they
 * keep nothing of the message alive. (A folder sync reads a header for every message: converting the whole
 * header to text and searching it cost more than the rest of the message's record.)
 */
export function headerFields(raw: Buffer): Map<string, string> {
  const found = new Map<string, string>();
  const stop = raw.length;
  for (let at = 0; at <= stop && found.size < ENVELOPE_FIELDS.length;) {
    const end = lineEnd(raw, at, stop);
    const field = fieldNamed(raw, at, end);
    if (field && !found.has(field.name)) found.set(field.name, fieldValue(raw, at + field.octets.length + 1, end));
    // The header ends at its first CRLFCRLF, which always ends a line here (not looked for first: a pass over it all).
    if (blankLineAfter(raw, end)) break;
    at = end + 1;
  }
  return found;
}

/** Whether CRLFCRLF starts at `end` (a line's end): the line is the header's last. */
function blankLineAfter(raw: Buffer, end: number): boolean {
  return raw[end] === CR && raw[end + 1] === LF && raw[end + 2] === CR && raw[end + 3] === LF;
}

/** The value from `start` (after the colon) to the line's `end`: without the blanks it starts with, each fold one space. */
function fieldValue(raw: Buffer, start: number, end: number): string {
  while (start < end && (raw[start] === SP || raw[start] === TAB)) start++;
  const text = latin1(raw, start, end);
  // A line holds LF only in its folds; blanks may follow a fold the value starts with.
  return text.includes('\n') ? text.replace(FOLD, ' ').replace(LEADING_BLANKS, '') : text;
}

/** Where the line starting at `at` ends: the first CR or LF before `stop` that does not fold it. */
function lineEnd(raw: Buffer, at: number, stop: number): number {
  for (let i = at; i < stop; i++) {
    const c = raw[i];
    if (c !== CR && c !== LF) continue;
    const lf = c === CR && raw[i + 1] === LF ? i + 1 : i;
    if (c === CR && lf === i) return i; // a lone CR ends the line
    const next = lf + 1 < stop ? raw[lf + 1] : -1;
    if (next !== SP && next !== TAB) return i;
    i = lf; // a fold: the line goes on
  }
  return stop;
}

/** The envelope field whose name (any case) and colon start the line [at, end), if any. */
function fieldNamed(raw: Buffer, at: number, end: number): (typeof ENVELOPE_FIELDS)[number] | undefined {
  for (const field of ENVELOPE_FIELDS) {
    const n = field.octets.length;
    if (at + n >= end || raw[at + n] !== COLON) continue;
    let i = 0;
    while (i < n && lowerCase(raw[at + i]!) === field.octets[i]) i++;
    if (i === n) return field;
  }
  return undefined;
}

function lowerCase(octet: number): number {
  return octet >= 0x41 && octet <= 0x5a ? octet | 0x20 : octet;
}
