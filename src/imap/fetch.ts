import type { Value } from './tokens.js';
import type { Literal } from './types.js';
import { decodeMailboxName } from './utf7.js';
import { imapText, limitWarnings, parseBodyStructure, parseEnvelope } from '../mime/bodystructure.js';
import type { FetchAttributes, FetchedSection, SectionSpec } from '../mime/types.js';

export { parseEnvelope } from '../mime/bodystructure.js';

type Warn = (message: string) => void;
const noWarn: Warn = () => {};

export interface FetchParseOptions {
  /**
   * Leave BODYSTRUCTURE unparsed: `bodyStructure` stays null and the value is in `bodyStructureValue`, for a
   * caller that parses it only when it does not have the message's tree already.
   */
  deferBodyStructure?: boolean;
}

/** BODY[…]<n>, BODY.PEEK[…] (not legal in a response, but seen), BINARY[…]<n>, BINARY.SIZE[…]. */
const SECTION_ITEM = /^(BODY|BODY\.PEEK|BINARY|BINARY\.PEEK|BINARY\.SIZE)\[(.*)\](?:<(\d+)(?:\.\d+)?>)?$/is;

/**
 * The attributes of a FETCH response (RFC 9051 §7.5.2, RFC 3501 §7.4.2 and extensions): `values` as
 * parseResponse() gives them for `* n FETCH (…)`, values[0] being the attribute list (the list's items
 * themselves, `values[0].items`, are accepted as well). Never throws:
 * what cannot be read is reported through `warn` and left out (unknown items go to `other`).
 */
export function parseFetch(values: Value[], warn: Warn = noWarn, options: FetchParseOptions = {}): FetchAttributes {
  warn = limitWarnings(warn, 40);
  const out: FetchAttributes = {
    uid: null, flags: null, internalDate: null, size: null, envelope: null, bodyStructure: null,
    sections: [], modseq: null, emailId: null, threadId: null, gmail: null, other: {},
  };
  let items: Value[];
  const first = values[0];
  if (first?.kind === 'list') {
    items = first.items;
    if (values.length > 1) warn(`FETCH: ${values.length - 1} value(s) after the attribute list ignored`);
  } else {
    // The attribute list's items themselves (callers that unwrapped the list), or a server that left
    // the parentheses out: both read the same way.
    if (values.length === 0) warn('FETCH without attributes');
    items = values;
  }
  try {
    for (let i = 0; i < items.length; i += 2) {
      const nameV = items[i]!;
      if (nameV.kind !== 'atom') {
        warn(`FETCH: ${describe(nameV)} where an item name belongs; skipped`);
        i -= 1; // resynchronise on the next value
        continue;
      }
      const name = nameV.text;
      const value = items[i + 1];
      if (value === undefined) {
        warn(`FETCH ${name} without a value`);
        break;
      }
      item(out, name, value, warn, options);
    }
  } catch (e) {
    warn(`FETCH could not be read to the end: ${(e as Error).message}`);
  }
  return out;
}

function item(out: FetchAttributes, name: string, value: Value, warn: Warn, options: FetchParseOptions): void {
  const upper = name.toUpperCase();
  const bad = (what: string) => warn(`FETCH ${name} is ${describe(value)}, not ${what}`);
  switch (upper) {
    case 'UID': {
      const n = num(value);
      if (n === null) bad('a number');
      else out.uid = n;
      return;
    }
    case 'RFC822.SIZE': {
      const n = num(value);
      if (n === null) bad('a number');
      else out.size = n;
      return;
    }
    case 'FLAGS':
      if (value.kind === 'list') {
        out.flags = [];
        for (const f of value.items) {
          if (f.kind === 'atom' || f.kind === 'string') out.flags.push(f.text);
          else warn(`FETCH FLAGS holds ${describe(f)}`);
        }
      } else if (value.kind === 'nil') {
        warn('FETCH FLAGS is NIL, not a list');
        out.flags = [];
      } else bad('a list');
      return;
    case 'INTERNALDATE':
      if (value.kind === 'string' || value.kind === 'atom') out.internalDate = value.text;
      else bad('a date string');
      return;
    case 'ENVELOPE':
      out.envelope = parseEnvelope(value, (m) => warn(`FETCH ${m}`));
      if (value.kind === 'nil') warn('FETCH ENVELOPE is NIL');
      return;
    case 'BODY':
    case 'BODYSTRUCTURE':
      if (options.deferBodyStructure) out.bodyStructureValue = value;
      else out.bodyStructure = parseBodyStructure(value, warn);
      return;
    case 'RFC822':
    case 'RFC822.HEADER':
    case 'RFC822.TEXT':
      out.sections.push(section(name, upper, upper === 'RFC822' ? '' : upper.slice(7), null, value, warn));
      return;
    case 'MODSEQ': {
      // RFC 7162: MODSEQ (mod-sequence-value), a 63-bit number kept as a string.
      const inner = value.kind === 'list' && value.items.length === 1 ? value.items[0]! : value;
      if (value.kind !== 'list') warn('FETCH MODSEQ is not in parentheses');
      if ((inner.kind === 'atom' || inner.kind === 'string') && /^\d+$/.test(inner.text)) out.modseq = inner.text;
      else bad('(mod-sequence)');
      return;
    }
    case 'EMAILID':
    case 'THREADID': {
      // RFC 8474: EMAILID (objectid), THREADID (objectid) or NIL.
      const key = upper === 'EMAILID' ? 'emailId' : 'threadId';
      if (value.kind === 'nil') {
        out[key] = null;
        return;
      }
      const inner = value.kind === 'list' && value.items.length === 1 ? value.items[0]! : value;
      if (inner.kind === 'atom' || inner.kind === 'string') {
        out[key] = inner.text;
        if (value.kind !== 'list') warn(`FETCH ${name} is not in parentheses`);
      } else bad('(objectid)');
      return;
    }
    case 'X-GM-MSGID':
    case 'X-GM-THRID': {
      const gm = (out.gmail ??= { msgId: null, threadId: null, labels: null });
      if ((value.kind === 'atom' || value.kind === 'string') && /^\d+$/.test(value.text)) {
        if (upper === 'X-GM-MSGID') gm.msgId = value.text;
        else gm.threadId = value.text;
      } else bad('a number');
      return;
    }
    case 'X-GM-LABELS': {
      const gm = (out.gmail ??= { msgId: null, threadId: null, labels: null });
      if (value.kind === 'list') {
        gm.labels = [];
        for (const l of value.items) {
          if (l.kind === 'atom' || l.kind === 'string') {
            // System labels are \Inbox, \Important, …; user labels are mailbox names (modified UTF-7).
            gm.labels.push(l.text.startsWith('\\') ? l.text : decodeMailboxName(imapText(l.text)));
          } else warn(`FETCH X-GM-LABELS holds ${describe(l)}`);
        }
      } else if (value.kind === 'nil') gm.labels = [];
      else bad('a list');
      return;
    }
  }
  const m = SECTION_ITEM.exec(name);
  if (m) {
    let kind = m[1]!.toUpperCase();
    if (kind.endsWith('.PEEK')) {
      warn(`FETCH ${name}: .PEEK belongs in the command, not in the response`);
      kind = kind.slice(0, -5);
    }
    const origin = m[3] === undefined ? null : Number(m[3]);
    if (kind === 'BINARY.SIZE') {
      const n = num(value);
      if (n === null) bad('a number');
      out.sections.push({ item: name, kind: 'BINARY.SIZE', section: m[2]!, origin, value, literal: null, length: n ?? 0 });
      return;
    }
    out.sections.push(section(name, kind as FetchedSection['kind'], m[2]!, origin, value, warn));
    return;
  }
  if (/^(BODY|BINARY)/i.test(upper) && name.includes('[')) warn(`FETCH ${name}: unreadable section item`);
  Object.defineProperty(out.other, name, { value, enumerable: true, writable: true, configurable: true });
}

function section(name: string, kind: FetchedSection['kind'], spec: string, origin: number | null, value: Value, warn: Warn): FetchedSection {
  let literal: Literal | null = null;
  let length = 0;
  if (value.kind === 'string') {
    literal = value.literal ?? null;
    length = literal ? literal.length : value.text.length;
  } else if (value.kind === 'atom') {
    warn(`FETCH ${name} is an atom, not a string`);
    length = value.text.length;
  } else if (value.kind === 'list') {
    warn(`FETCH ${name} is a list, not a string`);
  }
  return { item: name, kind, section: spec, origin, value, literal, length };
}

const TEXT_SPECS = new Set(['HEADER', 'HEADER.FIELDS', 'HEADER.FIELDS.NOT', 'TEXT', 'MIME']);

/**
 * A section spec as it stands inside BODY[…]: "", "1", "1.2.MIME", "HEADER", "TEXT",
 * "2.HEADER.FIELDS (DATE SUBJECT)", "HEADER.FIELDS.NOT (X-A)". Case-insensitive; field names upper case.
 * Never throws: an unknown text part is reported through `warn` and left null.
 */
export function parseSectionSpec(spec: string, warn: Warn = noWarn): SectionSpec {
  let s = spec.trim();
  let fields: string[] = [];
  const paren = s.indexOf('(');
  if (paren >= 0) {
    const close = s.lastIndexOf(')');
    if (close < paren) warn(`section "${spec}": field list not closed`);
    fields = parseFieldList(s.slice(paren + 1, close > paren ? close : s.length));
    s = s.slice(0, paren).trim();
  }
  const pieces = s === '' ? [] : s.split('.');
  let k = 0;
  while (k < pieces.length && /^[1-9]\d*$/.test(pieces[k]!)) k++;
  const part = pieces.slice(0, k).join('.');
  const rest = pieces.slice(k).join('.').toUpperCase();
  let text: SectionSpec['text'] = null;
  if (rest !== '') {
    if (TEXT_SPECS.has(rest)) text = rest as SectionSpec['text'];
    else warn(`section "${spec}": unknown part specifier "${pieces.slice(k).join('.')}"`);
  }
  if (text === 'MIME' && part === '') warn(`section "${spec}": MIME needs a part number`);
  if ((text === 'HEADER.FIELDS' || text === 'HEADER.FIELDS.NOT') && paren < 0) warn(`section "${spec}": ${text} without a field list`);
  if (paren >= 0 && text !== 'HEADER.FIELDS' && text !== 'HEADER.FIELDS.NOT') {
    warn(`section "${spec}": a field list only follows HEADER.FIELDS or HEADER.FIELDS.NOT`);
    fields = [];
  }
  return { part, text, fields };
}

/** Field names of HEADER.FIELDS (…): atoms or quoted strings, upper case. */
function parseFieldList(s: string): string[] {
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|([^\s"()]+)/g;
  for (let m = re.exec(s); m; m = re.exec(s)) {
    const f = m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2]!;
    out.push(f.toUpperCase());
  }
  return out;
}

/** A non-negative number (atom; a quoted string of digits is accepted too), or null. */
function num(v: Value): number | null {
  if ((v.kind === 'atom' || v.kind === 'string') && /^\d{1,15}$/.test(v.text)) return Number(v.text);
  return null;
}

function describe(v: Value): string {
  const short = (t: string) => JSON.stringify(t.length > 40 ? `${t.slice(0, 40)}…` : t);
  switch (v.kind) {
    case 'nil': return 'NIL';
    case 'list': return `a list of ${v.items.length}`;
    case 'atom': return `the atom ${short(v.text)}`;
    case 'string': return `the string ${short(v.text)}`;
  }
}
