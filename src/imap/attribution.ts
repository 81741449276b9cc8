import type { Command } from './command.js';
import type { Response } from './response.js';
import { stringOf, type Value } from './tokens.js';

/**
 * Which outstanding command an untagged response answers, when several are outstanding (pipelining).
 *
 * The rule (docs/architecture.md, "Attribution"):
 * - `* n FETCH` goes to the oldest outstanding FETCH/STORE whose set contains the message — its UID set
 *   when the command is a UID command and the response carries a UID, else its sequence set — and
 *   whose items the response carries;
 * - `* SEARCH`, `* SORT`, `* THREAD` to the oldest outstanding command of that kind; `* ESEARCH` to the
 *   command its `(TAG "…")` names, else the oldest search;
 * - `* STATUS m` to the STATUS of mailbox m (or a LIST … RETURN (STATUS) whose pattern matches m);
 *   `* LIST`/`* LSUB`/`* XLIST m` to the LIST/LSUB/XLIST whose reference and pattern match m;
 * - everything else, and whatever no rule places, to the oldest outstanding command.
 *
 * A response is matched against the ATTRIBUTION_WINDOW oldest outstanding commands only.
 */

/** What a command lets us recognise among the untagged responses. */
export type Claim =
  | { kind: 'fetch'; uid: boolean; set: DeferredSet | null; items: Set<string> | null }
  | { kind: 'store'; uid: boolean; set: DeferredSet | null }
  | { kind: 'search'; type: 'SEARCH' | 'SORT' | 'THREAD' }
  | { kind: 'status'; mailbox: string }
  | { kind: 'list'; type: 'LIST' | 'LSUB' | 'XLIST'; patterns: RegExp[]; returnsStatus: boolean }
  | { kind: 'other' };

/** An outstanding command with what identifies its responses. */
export interface Claimant {
  tag: string | null;
  claim: Claim;
  /** Characters of text the command keeps while outstanding (its arguments and shape), for PendingCommands' cap. */
  readonly held?: number;
}

const OTHER: Claim = { kind: 'other' };

/** What the command's responses will look like (computed once, when the command is sent). */
export function claimOf(cmd: Command): Claim {
  const uid = cmd.name.startsWith('UID ');
  const base = uid ? cmd.name.slice(4) : cmd.name;
  switch (base) {
    case 'FETCH':
      return { kind: 'fetch', uid, set: deferredSet(cmd), items: fetchItemsOf(cmd.args[1]) };
    case 'STORE':
      return { kind: 'store', uid, set: deferredSet(cmd) };
    case 'SEARCH':
    case 'SORT':
    case 'THREAD':
      return { kind: 'search', type: base };
    case 'STATUS':
      return cmd.mailbox === null ? OTHER : { kind: 'status', mailbox: cmd.mailbox };
    case 'LIST':
    case 'LSUB':
    case 'XLIST':
      return listClaim(base, cmd.args);
    default:
      return OTHER;
  }
}

/** Outstanding commands in the order sent (PendingCommands), read without making a list while there is one. */
export interface OutstandingCommands<T> {
  readonly length: number;
  readonly first: T | undefined;
  readonly list: readonly T[];
}

/**
 * Outstanding commands an untagged response is matched against, the oldest first, at most. A server answers in order,
 * so the owner is among the oldest; without a bound, each of a million responses was matched against the 4,096
 * commands a hostile client can keep outstanding (MAX_PENDING_COMMANDS): a product of two dimensions. Real clients keep
 * a few outstanding (mbsync, eight in the recordings).
 */
export const ATTRIBUTION_WINDOW = 64;

/** Told when the window decided: more than ATTRIBUTION_WINDOW were outstanding, and none of the oldest took a response. */
export interface WindowWatcher {
  attributionWindowPassed(frame: number): void;
}

/**
 * The outstanding command an untagged response (of `frame`) belongs to. When more than ATTRIBUTION_WINDOW are outstanding
 * and none of the oldest takes a response a rule places, it goes to the oldest, though a later one might have taken it:
 * `watcher` is told.
 */
export function attribute<T extends Claimant>(r: Response, outstanding: OutstandingCommands<T>, watcher?: WindowWatcher, frame = 0): T | undefined {
  if (outstanding.length <= 1) return outstanding.first;
  const pending = outstanding.list;
  let owner: T | undefined;
  switch (r.kind) {
    case 'numbered':
      if (r.type !== 'FETCH') return pending[0];
      owner = fetchOwner(r.number, r.values, pending);
      break;
    case 'data':
      if (!PLACED_DATA.has(r.type)) return pending[0];
      owner = dataOwner(r.type, r.values, pending);
      break;
    default:
      return pending[0];
  }
  if (owner === undefined && pending.length > ATTRIBUTION_WINDOW) watcher?.attributionWindowPassed(frame);
  return owner ?? pending[0];
}

/** Data responses a rule places (the cases of dataOwner); the others go to the oldest outstanding command. */
const PLACED_DATA = new Set(['SEARCH', 'SORT', 'THREAD', 'ESEARCH', 'STATUS', 'LIST', 'LSUB', 'XLIST']);

/** The oldest of the window's commands `test` accepts. */
function oldest<T>(pending: readonly T[], test: (p: T) => boolean): T | undefined {
  const n = Math.min(pending.length, ATTRIBUTION_WINDOW);
  for (let i = 0; i < n; i++) if (test(pending[i]!)) return pending[i];
  return undefined;
}

/**
 * The oldest FETCH or STORE of the window whose set and items the response answers. With only one outstanding, it
 * (no need to read the response's items).
 */
function fetchOwner<T extends Claimant>(seq: number, values: Value[], pending: readonly T[]): T | undefined {
  const n = Math.min(pending.length, ATTRIBUTION_WINDOW);
  let first: T | undefined;
  let items: ResponseItems | null = null;
  for (let i = 0; i < n; i++) {
    const p = pending[i]!;
    if (p.claim.kind !== 'fetch' && p.claim.kind !== 'store') continue;
    if (first === undefined) {
      first = p;
      continue;
    }
    if (items === null) {
      // A second one: the response's items decide, from the oldest on.
      items = responseItems(values);
      if (answersFetch(first.claim, seq, items)) return first;
    }
    if (answersFetch(p.claim, seq, items)) return p;
  }
  if (items !== null || first === undefined) return undefined;
  // The window's only one: the only one outstanding, or (past the window) it must answer the response.
  return n === pending.length || answersFetch(first.claim, seq, responseItems(values)) ? first : undefined;
}

function answersFetch(claim: Claim, seq: number, items: ResponseItems): boolean {
  if (claim.kind !== 'fetch' && claim.kind !== 'store') return false;
  const inSet = claim.uid && items.uid !== null ? claim.set?.has(items.uid) : claim.uid ? true : claim.set?.has(seq);
  if (inSet === false) return false;
  if (claim.kind === 'store') return items.names.has('FLAGS');
  // A FETCH response carries at least one of the items asked for (UID alone is implied by UID FETCH).
  if (claim.items === null) return true;
  for (const name of items.names) if (name !== 'UID' && claim.items.has(name)) return true;
  return items.names.size === 1 && items.names.has('UID') && claim.items.has('UID');
}

/** The window's command a data response of a type in PLACED_DATA answers. */
function dataOwner<T extends Claimant>(type: string, values: Value[], pending: readonly T[]): T | undefined {
  switch (type) {
    case 'SEARCH':
    case 'SORT':
    case 'THREAD':
      return oldest(pending, (p) => p.claim.kind === 'search' && p.claim.type === type);
    case 'ESEARCH': {
      const tag = esearchTag(values[0]);
      return (tag !== null ? oldest(pending, (p) => p.tag === tag) : undefined) ?? oldest(pending, (p) => p.claim.kind === 'search');
    }
    case 'STATUS': {
      const name = stringOf(values[0]);
      if (name === null) return undefined;
      return oldest(pending, (p) => p.claim.kind === 'status' && p.claim.mailbox === name)
        ?? oldest(pending, (p) => p.claim.kind === 'list' && p.claim.returnsStatus && matchesPatterns(p.claim.patterns, name));
    }
    case 'LIST':
    case 'LSUB':
    case 'XLIST': {
      const name = stringOf(values[2]);
      if (name === null) return undefined;
      return oldest(pending, (p) => p.claim.kind === 'list' && p.claim.type === type && matchesPatterns(p.claim.patterns, name));
    }
    default:
      return undefined;
  }
}

/** `* ESEARCH (TAG "a12") …` names its command. */
function esearchTag(v: Value | undefined): string | null {
  if (v?.kind !== 'list' || stringOf(v.items[0])?.toUpperCase() !== 'TAG') return null;
  return stringOf(v.items[1]);
}

// ---- FETCH items --------------------------------------------------------------------------------

const MACROS: Record<string, string[]> = {
  ALL: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE'],
  FAST: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE'],
  FULL: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE', 'BODY'],
};

/**
 * An item name as a response carries it: upper case, `.PEEK` dropped, header field lists and partial
 * ranges left out (`BODY.PEEK[HEADER.FIELDS (FROM)]<0.100>` → `BODY[HEADER.FIELDS]`).
 */
export function itemKey(name: string): string {
  let key = name.toUpperCase();
  const open = key.indexOf('[');
  if (open < 0) return key === 'RFC822.PEEK' ? 'RFC822' : key;
  const close = key.lastIndexOf(']');
  let section = key.slice(open + 1, close < 0 ? key.length : close);
  const list = section.indexOf(' (');
  if (list >= 0) section = section.slice(0, list);
  key = key.slice(0, open).replace(/\.PEEK$/, '');
  return `${key}[${section}]`;
}

/** The items a FETCH command asks for, or null when they cannot be read (then any response fits). */
function fetchItemsOf(v: Value | undefined): Set<string> | null {
  if (!v) return null;
  const names = v.kind === 'list' ? v.items : [v];
  const out = new Set<string>();
  for (const item of names) {
    if (item.kind !== 'atom') continue;
    const key = itemKey(item.text);
    for (const k of MACROS[key] ?? [key]) out.add(k);
  }
  return out.size > 0 ? out : null;
}

interface ResponseItems {
  names: Set<string>;
  uid: number | null;
}

function responseItems(values: Value[]): ResponseItems {
  const list = values[0]?.kind === 'list' ? values[0].items : values;
  const names = new Set<string>();
  let uid: number | null = null;
  for (let i = 0; i + 1 < list.length; i += 2) {
    const name = list[i]!;
    if (name.kind !== 'atom') break;
    const key = itemKey(name.text);
    names.add(key);
    if (key === 'UID') {
      const n = Number(stringOf(list[i + 1]));
      if (Number.isSafeInteger(n)) uid = n;
    }
  }
  return { names, uid };
}

// ---- LIST patterns ------------------------------------------------------------------------------

function listClaim(type: 'LIST' | 'LSUB' | 'XLIST', args: Value[]): Claim {
  // LIST [(selection options)] reference pattern|(patterns) [RETURN (options)]  (RFC 5258)
  let i = args[0]?.kind === 'list' ? 1 : 0;
  const reference = stringOf(args[i++]) ?? '';
  const patternArg = args[i++];
  const raw = patternArg?.kind === 'list' ? patternArg.items.map((p) => stringOf(p) ?? '') : [stringOf(patternArg) ?? ''];
  const ret = args[i];
  const returnsStatus = stringOf(ret)?.toUpperCase() === 'RETURN' && args[i + 1]?.kind === 'list'
    && (args[i + 1] as Extract<Value, { kind: 'list' }>).items.some((o) => stringOf(o)?.toUpperCase() === 'STATUS');
  return { kind: 'list', type, patterns: raw.map((p) => patternRegExp(reference + p)), returnsStatus };
}

/** `*` matches anything, `%` anything but a hierarchy delimiter (any of the usual ones). */
function patternRegExp(pattern: string): RegExp {
  let src = '';
  for (const ch of pattern.slice(0, 1000)) {
    if (ch === '*') src += '.*';
    else if (ch === '%') src += '[^/.]*';
    else src += ch.replace(/[\\^$.|?+()[\]{}]/g, '\\$&');
  }
  return new RegExp(`^${src}$`, 'is');
}

function matchesPatterns(patterns: RegExp[], name: string): boolean {
  // INBOX is case-insensitive everywhere; other names are matched case-insensitively too, which at worst
  // prefers the right LIST among several outstanding ones.
  return patterns.some((p) => p.test(name));
}

// ---- sequence sets ------------------------------------------------------------------------------

/** Hostile sets are cut here; the rest of the set is not considered. */
const MAX_RANGES = 10_000;

/** An IMAP sequence set (`1:4,7,9:*`), `*` as infinity; ranges sorted and merged for binary search. */
export class SequenceSet {
  private constructor(private readonly lows: number[], private readonly highs: number[]) {}

  static parse(text: string | null): SequenceSet | null {
    if (!text || text === '$') return null; // $: the saved search result (RFC 5182), unknown here
    const ranges: [number, number][] = [];
    for (const piece of text.split(',', MAX_RANGES)) {
      const colon = piece.indexOf(':');
      const a = seqNumber(colon < 0 ? piece : piece.slice(0, colon));
      const b = colon < 0 ? a : seqNumber(piece.slice(colon + 1));
      if (a === null || b === null) return null;
      ranges.push(a <= b ? [a, b] : [b, a]);
    }
    ranges.sort((x, y) => x[0] - y[0]);
    const lows: number[] = [];
    const highs: number[] = [];
    for (const [lo, hi] of ranges) {
      const last = highs.length - 1;
      if (last >= 0 && lo <= highs[last]! + 1) highs[last] = Math.max(highs[last]!, hi);
      else { lows.push(lo); highs.push(hi); }
    }
    return new SequenceSet(lows, highs);
  }

  has(n: number): boolean {
    let lo = 0;
    let hi = this.lows.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (n < this.lows[mid]!) hi = mid - 1;
      else if (n > this.highs[mid]!) lo = mid + 1;
      else return true;
    }
    return false;
  }
}

/**
 * A command's set, parsed when a response is first matched against it. Most commands are answered before another is
 * sent; a pipeline nobody answers (a capture of the client's side only) kept every set's ranges as numbers, 8,192 of
 * them for a line of 64 KiB, beside the line.
 */
export class DeferredSet {
  /** Not yet parsed; then the set, or null when the text is not a set. */
  private parsed: SequenceSet | null | undefined = undefined;

  /** The set is the first `length` characters of `text`. */
  constructor(private readonly text: string, private readonly length: number) {}

  /** Undefined when the text is not a set: the response may belong to the command or not. */
  has(n: number): boolean | undefined {
    if (this.parsed === undefined) this.parsed = SequenceSet.parse(this.text.length === this.length ? this.text : this.text.slice(0, this.length));
    return this.parsed?.has(n);
  }
}

function deferredSet(cmd: Command): DeferredSet | null {
  const text = stringOf(cmd.args[0]);
  if (!text || text === '$') return null;
  // Read off the start of the command's text, which its exchange keeps anyway: the set's own text is cut from the
  // wire line, and would keep the whole line alive while the command is outstanding.
  const shown = cmd.displayClear;
  return shown.startsWith(text) ? new DeferredSet(shown, text.length) : new DeferredSet(text, text.length);
}

function seqNumber(s: string): number | null {
  if (s === '*') return Infinity;
  if (!/^\d{1,15}$/.test(s)) return null;
  return Number(s);
}
