import type libmimeModule from 'libmime';
import { lazyRequire } from '../util/lazy-require.js';
import { detached, Interner } from '../util/intern.js';
import type { Value } from '../imap/tokens.js';
import type { Address, Envelope, MimePart } from './types.js';

/** libmime and its charset tables load on the first encoded word or RFC 2231 parameter, not at start-up. */
const libmime = lazyRequire<typeof libmimeModule>('libmime');

/**
 * BODY / BODYSTRUCTURE (RFC 9051 §7.5.2, RFC 3501 §7.4.2) into a MIME tree with IMAP part numbers
 * (RFC 9051 §6.4.5). Numbering, as the RFC's example of a complex message shows it:
 *
 *   HEADER/TEXT  the message               MULTIPART/MIXED   → part ""
 *   1            TEXT/PLAIN
 *   3            MESSAGE/RFC822                              → part "3"
 *   3.TEXT       its body                  MULTIPART/MIXED   → part "3" too (no number of its own)
 *   3.1          TEXT/PLAIN
 *   4            MULTIPART/MIXED
 *   4.2          MESSAGE/RFC822
 *   4.2.1        TEXT/PLAIN
 *   4.2.2        MULTIPART/ALTERNATIVE
 *   4.2.2.1      TEXT/PLAIN
 *
 * A message whose body is not multipart has only a part 1: the single-part body of the top-level
 * message is "1", and the single-part body of a MESSAGE/RFC822 part N is "N.1".
 */

type Warn = (message: string) => void;

/** Bodies nested deeper than this are not read (the tokenizer already flattens lists past depth 100). */
const MAX_BODY_DEPTH = 120;

const noWarn: Warn = () => {};

/** The body structure of a FETCH BODY or BODYSTRUCTURE item; null when nothing could be read. Never throws. */
export function parseBodyStructure(v: Value, warn: Warn = noWarn): MimePart | null {
  warn = limitWarnings(warn);
  try {
    if (v.kind !== 'list') {
      warn(`BODYSTRUCTURE is ${describe(v)}, not a parenthesised list`);
      return null;
    }
    return parseMessageBody(v, '', 0, warn);
  } catch (e) {
    // Defensive: the parser is written not to throw, but a dissector must never die on hostile input.
    warn(`BODYSTRUCTURE could not be read: ${(e as Error).message}`);
    return null;
  }
}

/** The node with this IMAP part number ("" is the root). For a MESSAGE/RFC822 part N, "N" is that part, not its body. */
export function partByNumber(root: MimePart, part: string): MimePart | null {
  if (part === '' || root.part === part) return root;
  return partIndex(root).get(part) ?? null;
}

/**
 * Each tree's nodes by part number, the first in flattenParts' order, made once per tree: a FETCH of every section of a
 * message of 20,000 parts looked each one up by walking the whole tree (24 s; a BODYSTRUCTURE line holds up to about
 * 27,000). Trees are not changed once parsed.
 */
const partIndexes = new WeakMap<MimePart, Map<string, MimePart>>();

function partIndex(root: MimePart): Map<string, MimePart> {
  let index = partIndexes.get(root);
  if (!index) partIndexes.set(root, (index = partsByNumber(flattenParts(root))));
  return index;
}

/**
 * Parts (nodes, or their views) by number, the first of each in tree order: an encapsulated body repeats its
 * message/rfc822 part's number after it, and the number names that part.
 */
export function partsByNumber<P extends { part: string }>(parts: Iterable<P>): Map<string, P> {
  const byNumber = new Map<string, P>();
  for (const p of parts) if (!byNumber.has(p.part)) byNumber.set(p.part, p);
  return byNumber;
}

/**
 * Every node of the tree, depth first in document order: multipart containers before their children,
 * a MESSAGE/RFC822 part before its encapsulated body (whose nodes follow it). Iterative.
 */
export function flattenParts(root: MimePart): MimePart[] {
  const out: MimePart[] = [];
  const stack: MimePart[] = [root];
  while (stack.length > 0) {
    const p = stack.pop()!;
    out.push(p);
    const next: MimePart[] = [];
    if (p.message) next.push(p.message.body);
    next.push(...p.children);
    for (let i = next.length - 1; i >= 0; i--) stack.push(next[i]!);
  }
  return out;
}

/** ENVELOPE (RFC 9051 §7.5.2) with encoded words decoded; null unless it is a list. Never throws. */
export function parseEnvelope(v: Value, warn: Warn = noWarn): Envelope | null {
  if (v.kind !== 'list') {
    if (v.kind !== 'nil') warn(`ENVELOPE is ${describe(v)}, not a parenthesised list`);
    return null;
  }
  const f = v.items;
  if (f.length < 10) warn(`ENVELOPE has ${f.length} fields instead of 10; the missing ones are left empty`);
  else if (f.length > 10) warn(`ENVELOPE has ${f.length} fields instead of 10; the extra ones are ignored`);
  const str = (i: number, name: string): string | null => {
    const x = f[i];
    if (x === undefined || x.kind === 'nil') return null;
    if (x.kind === 'string' || x.kind === 'atom') return imapText(x.text);
    warn(`ENVELOPE ${name} is ${describe(x)}, not a string`);
    return null;
  };
  const addrs = (i: number, name: string) => parseAddresses(f[i], name, warn);
  const subject = str(1, 'subject');
  return {
    date: str(0, 'date'),
    subject: subject === null ? null : decodeWords(subject),
    from: addrs(2, 'from'),
    sender: addrs(3, 'sender'),
    replyTo: addrs(4, 'reply-to'),
    to: addrs(5, 'to'),
    cc: addrs(6, 'cc'),
    bcc: addrs(7, 'bcc'),
    inReplyTo: str(8, 'in-reply-to'),
    messageId: str(9, 'message-id'),
  };
}

function parseAddresses(v: Value | undefined, field: string, warn: Warn): Address[] {
  if (v === undefined || v.kind === 'nil') return [];
  if (v.kind !== 'list') {
    warn(`ENVELOPE ${field} is ${describe(v)}, not a list of addresses`);
    return [];
  }
  const out: Address[] = [];
  for (const a of v.items) {
    if (a.kind !== 'list') {
      warn(`ENVELOPE ${field} holds ${describe(a)} where an address belongs`);
      continue;
    }
    if (a.items.length !== 4) warn(`ENVELOPE ${field} address has ${a.items.length} fields instead of 4`);
    const [name, , mailbox, host] = a.items.map((x) => (x.kind === 'string' || x.kind === 'atom' ? imapText(x.text) : null));
    // Group syntax (RFC 9051 §7.5.2): (NIL NIL "group" NIL) opens a group, (NIL NIL NIL NIL) closes it.
    // A cut-short address (fewer than 4 fields) is not a marker: what it has is kept.
    if (a.items.length >= 4 && host == null && (mailbox != null || name == null)) continue;
    out.push({
      name: name == null ? null : decodeWords(name),
      email: mailbox != null && host != null ? `${mailbox}@${host}` : (mailbox ?? null),
    });
  }
  return out;
}

function join(prefix: string, n: string | number): string {
  return prefix === '' ? String(n) : `${prefix}.${n}`;
}

/** Hostile input can be wrong in every field of thousands of parts: report the first few only. */
const MAX_WARNINGS = 20;

export function limitWarnings(warn: Warn, max = MAX_WARNINGS): Warn {
  let n = 0;
  return (m) => {
    n++;
    if (n <= max) warn(m);
    else if (n === max + 1) warn(`… further problems in the same response not reported`);
  };
}

/** A list whose first item is a body: a multipart (or a list the tokenizer flattened, which can only be a body here). */
function isMultipart(items: readonly Value[]): boolean {
  const first = items[0];
  return first !== undefined && (first.kind === 'list' || isFlattenedList(first));
}

/** The tokenizer reads lists nested deeper than its limit as one atom "(…)". */
function isFlattenedList(v: Value): boolean {
  return v.kind === 'atom' && v.text.startsWith('(');
}

/** The body of a message whose own number is `prefix` ("" at the top): multipart → `prefix`, single part → prefix.1. */
function parseMessageBody(v: Value & { kind: 'list' }, prefix: string, depth: number, warn: Warn): MimePart {
  return parsePart(v, isMultipart(v.items) ? prefix : join(prefix, 1), depth, warn);
}

function parsePart(v: Value & { kind: 'list' }, number: string, depth: number, warn: Warn): MimePart {
  return isMultipart(v.items) ? parseMultipart(v.items, number, depth, warn) : parseSinglePart(v.items, number, depth, warn);
}

/**
 * A capture can hold hundreds of thousands of trees: words that recur in them (types, encodings, parameter
 * names, charsets) are kept once, and parts without children or parameters share one frozen empty value.
 */
const MIME_WORDS = new Interner((word) => word, 4096);
const NO_CHILDREN = Object.freeze([]) as unknown as MimePart[];
const NO_PARAMS = Object.freeze({}) as Record<string, string>;

function emptyPart(part: string, type: string): MimePart {
  return {
    part, type: MIME_WORDS.get(type), params: NO_PARAMS, id: null, description: null, encoding: null, size: null, lines: null, md5: null,
    disposition: null, filename: null, language: null, location: null, children: NO_CHILDREN, message: null,
  };
}

function where(number: string): string {
  return number === '' ? 'BODYSTRUCTURE' : `BODYSTRUCTURE part ${number}`;
}

function parseMultipart(items: readonly Value[], number: string, depth: number, warn: Warn): MimePart {
  const children: MimePart[] = [];
  let i = 0;
  let skipped = false;
  for (; i < items.length; i++) {
    const item = items[i]!;
    const childNumber = join(number, i + 1);
    if (item.kind === 'list') {
      if (depth + 1 >= MAX_BODY_DEPTH) {
        if (!skipped) warn(`${where(childNumber)}: bodies nested more than ${MAX_BODY_DEPTH} deep are not read`);
        skipped = true;
        continue;
      }
      children.push(parsePart(item, childNumber, depth + 1, warn));
    } else if (isFlattenedList(item)) {
      // Numbering goes on past the unreadable part so that its siblings keep their real numbers.
      if (!skipped) warn(`${where(childNumber)}: body nested too deep to read; skipped`);
      skipped = true;
    } else {
      break;
    }
  }
  const subtypeV = items[i];
  let subtype = 'mixed';
  if (subtypeV && (subtypeV.kind === 'string' || subtypeV.kind === 'atom')) subtype = subtypeV.text.toLowerCase();
  else warn(`${where(number)}: multipart subtype is ${subtypeV ? describe(subtypeV) : 'missing'}; taken as "mixed"`);
  const part = emptyPart(number, `multipart/${subtype}`);
  part.children = children;
  // body-ext-mpart: params [disposition [language [location *extension]]]
  extensions(part, items, i + 1, false, warn);
  return part;
}

function parseSinglePart(items: readonly Value[], number: string, depth: number, warn: Warn): MimePart {
  const at = where(number);
  if (items.length < 7) warn(`${at}: ${items.length} body fields instead of at least 7`);
  const text = (i: number, name: string): string | null => {
    const x = items[i];
    if (x === undefined || x.kind === 'nil') return null;
    if (x.kind === 'string' || x.kind === 'atom') return imapText(x.text);
    warn(`${at}: ${name} is ${describe(x)}, not a string`);
    return null;
  };
  /** Media type names are strings; a bare atom is taken when it looks like a name (not a number or a list). */
  const media = (i: number, name: string): string => {
    const x = items[i];
    if (x?.kind === 'string' || (x?.kind === 'atom' && /^[A-Za-z][\w.+-]*$/.test(x.text))) return x.text.toLowerCase();
    warn(`${at}: ${name} is ${x ? describe(x) : 'missing'}, not a string; the part is taken as application/octet-stream`);
    return '';
  };
  const type = media(0, 'media type');
  const subtype = type ? media(1, 'media subtype') : '';
  const fullType = type && subtype ? `${type}/${subtype}` : 'application/octet-stream';
  const part = emptyPart(number, fullType);
  part.params = parseParams(items[2], `${at} parameters`, warn);
  part.id = text(3, 'body id');
  const description = text(4, 'description');
  part.description = description === null ? null : decodeWords(description);
  const encoding = text(5, 'encoding');
  part.encoding = encoding === null ? null : MIME_WORDS.get(encoding.toLowerCase());
  part.size = numberField(items[6], `${at}: size`, warn);
  let next = 7;
  if (type === 'message' && (subtype === 'rfc822' || subtype === 'global')) {
    const env = items[7];
    const body = items[8];
    if (env && (env.kind === 'list' || env.kind === 'nil') && body && (body.kind === 'list' || isFlattenedList(body))) {
      const envelope = parseEnvelope(env, (m) => warn(`${at}: ${m}`));
      if (body.kind === 'list' && depth + 1 < MAX_BODY_DEPTH) {
        part.message = { envelope, body: parseMessageBody(body, number, depth + 1, warn) };
      } else {
        warn(`${at}: encapsulated message nested too deep to read; skipped`);
      }
      part.lines = numberField(items[9], `${at}: line count`, warn);
      next = 10;
    } else {
      warn(`${at}: ${fullType} without the envelope and body the grammar requires`);
    }
  } else if (type === 'text') {
    const lines = items[7];
    if (lines === undefined || lines.kind === 'atom' || lines.kind === 'nil') {
      part.lines = numberField(lines, `${at}: line count`, warn);
      next = 8;
    } else {
      warn(`${at}: ${fullType} without a line count`);
    }
  }
  // body-ext-1part: md5 [disposition [language [location *extension]]]
  extensions(part, items, next, true, warn);
  const name = part.disposition?.params['filename'] ?? part.params['name'] ?? null;
  part.filename = name;
  return part;
}

/** Extension data from index `i`: (md5 for single parts | params for multiparts), disposition, language, location. */
function extensions(part: MimePart, items: readonly Value[], i: number, single: boolean, warn: Warn): void {
  const at = where(part.part);
  if (i >= items.length) return;
  const first = items[i]!;
  if (single) {
    if (first.kind === 'string' || first.kind === 'atom') part.md5 = imapText(first.text);
    else if (first.kind !== 'nil') warn(`${at}: MD5 is ${describe(first)}, not a string`);
  } else {
    part.params = parseParams(first, `${at} parameters`, warn);
  }
  const dsp = items[i + 1];
  if (dsp) part.disposition = parseDisposition(dsp, at, warn);
  const lang = items[i + 2];
  if (lang) part.language = parseLanguage(lang, at, warn);
  const loc = items[i + 3];
  if (loc) {
    if (loc.kind === 'string' || loc.kind === 'atom') part.location = imapText(loc.text);
    else if (loc.kind !== 'nil') warn(`${at}: location is ${describe(loc)}, not a string`);
  }
}

function parseDisposition(v: Value, at: string, warn: Warn): MimePart['disposition'] {
  if (v.kind === 'nil') return null;
  if (v.kind === 'string' || v.kind === 'atom') {
    warn(`${at}: disposition is a bare string, not (type params)`);
    return { type: v.text.toLowerCase(), params: {} };
  }
  if (v.kind !== 'list') return null;
  const t = v.items[0];
  if (!t || (t.kind !== 'string' && t.kind !== 'atom')) {
    warn(`${at}: disposition type is ${t ? describe(t) : 'missing'}`);
    return null;
  }
  return { type: MIME_WORDS.get(imapText(t.text).toLowerCase()), params: parseParams(v.items[1], `${at} disposition parameters`, warn) };
}

function parseLanguage(v: Value, at: string, warn: Warn): string[] | null {
  if (v.kind === 'nil') return null;
  if (v.kind === 'string' || v.kind === 'atom') return [imapText(v.text)];
  const out: string[] = [];
  for (const x of v.items) {
    if (x.kind === 'string' || x.kind === 'atom') out.push(imapText(x.text));
    else warn(`${at}: language list holds ${describe(x)}`);
  }
  return out;
}

/** A number field (size, lines); null and a warning when it is anything else. */
function numberField(v: Value | undefined, what: string, warn: Warn): number | null {
  if (v === undefined) {
    warn(`${what} missing`);
    return null;
  }
  if ((v.kind === 'atom' || v.kind === 'string') && /^\d{1,15}$/.test(v.text)) return Number(v.text);
  warn(`${what} is ${describe(v)}, not a number`);
  return null;
}

/**
 * A body-fld-param list ("name" "value" …) with names lower case, RFC 2231 continuations and charsets
 * (`name*0*=`, `filename*=UTF-8''…`) and RFC 2047 encoded words decoded.
 */
export function parseParams(v: Value | undefined, what: string, warn: Warn = noWarn): Record<string, string> {
  if (v === undefined || v.kind === 'nil') return NO_PARAMS;
  const params: Record<string, string> = {};
  if (v.kind !== 'list') {
    warn(`${what}: ${describe(v)} instead of a list`);
    return params;
  }
  if (v.items.length % 2 !== 0) warn(`${what}: odd number of items (${v.items.length}); the last is ignored`);
  const extended: [string, string][] = [];
  for (let i = 0; i + 1 < v.items.length; i += 2) {
    const k = v.items[i]!;
    const val = v.items[i + 1]!;
    if ((k.kind !== 'string' && k.kind !== 'atom') || (val.kind !== 'string' && val.kind !== 'atom')) {
      warn(`${what}: ${describe(k)} ${describe(val)} is not a name-value pair of strings`);
      continue;
    }
    const name = MIME_WORDS.get(k.text.toLowerCase());
    if (name.includes('*')) extended.push([name, val.text]);
    else {
      const value = decodeWords(imapText(val.text));
      setOwn(params, name, name === 'charset' ? MIME_WORDS.get(value) : value);
    }
  }
  if (extended.length > 0) {
    for (const [k, val] of Object.entries(decode2231(extended, what, warn))) setOwn(params, k, val);
  }
  return params;
}

/** RFC 2231 parameters decoded with libmime: the segments are rebuilt into a header value and parsed. */
function decode2231(extended: [string, string][], what: string, warn: Warn): Record<string, string> {
  const header = 'x' + extended.map(([k, val]) => `; ${k.replace(/[^\x21-\x7e]|[;="\\]/g, '')}="${val.replace(/[\r\n]/g, '').replace(/["\\]/g, '\\$&')}"`).join('');
  const out: Record<string, string> = {};
  try {
    const parsed = libmime().parseHeaderValue(header);
    const assembled = new Set(parsed.decodedParams ?? []);
    for (const [k, val] of Object.entries(parsed.params)) {
      setOwn(out, k, assembled.has(k) ? imapText(val) : decodeWords(imapText(val)));
    }
  } catch (e) {
    warn(`${what}: RFC 2231 parameters could not be decoded (${(e as Error).message}); kept as sent`);
    for (const [k, val] of extended) setOwn(out, k, imapText(val));
  }
  return out;
}

/** obj[k] = v as an own property, even for names like "__proto__" that a server may send. */
function setOwn(obj: Record<string, string>, k: string, v: string): void {
  // Only "__proto__" is special to plain assignment (a setter on Object.prototype); the rest is cheaper assigned.
  if (k === '__proto__') Object.defineProperty(obj, k, { value: v, enumerable: true, writable: true, configurable: true });
  else obj[k] = v;
}

/** RFC 2047 encoded words decoded; the input unchanged when there are none or they cannot be read. */
export function decodeWords(s: string): string {
  if (!s.includes('=?')) return s;
  try {
    return libmime().decodeWords(s);
  } catch {
    return s;
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Text of an IMAP string as Unicode. Lines are latin1-decoded (one char per octet), but servers send
 * 8-bit strings as UTF-8 (RFC 6855, RFC 6532, and many in practice): valid UTF-8 is read as such.
 */
export function imapText(s: string): string {
  // Detached: the text often outlives the line it was cut from (message trees, envelopes).
  if (!/[\x80-\xff]/.test(s)) return detached(s);
  try {
    return utf8.decode(Buffer.from(s, 'latin1'));
  } catch {
    return s;
  }
}

function describe(v: Value): string {
  switch (v.kind) {
    case 'nil': return 'NIL';
    case 'list': return `a list of ${v.items.length}`;
    case 'atom': return `the atom ${JSON.stringify(v.text.length > 40 ? `${v.text.slice(0, 40)}…` : v.text)}`;
    case 'string': return `the string ${JSON.stringify(v.text.length > 40 ? `${v.text.slice(0, 40)}…` : v.text)}`;
  }
}
