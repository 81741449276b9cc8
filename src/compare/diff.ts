import { greedyMatch } from './pairing.js';
import { align, AlignedRows, similarity } from './align.js';
import type { BehaviourProfile, ConnectionProfile, ProfileConnections, Profiles, Sequences } from './profile.js';
import { LazyList } from '../util/json.js';

export interface Difference {
  /** What differs, in words ("number of connections", "commands of connection 2", …). */
  what: string;
  a: unknown;
  b: unknown;
  /** The difference in one sentence. */
  text: string;
}

/** Two connections that do the same job in a and b (or one with no counterpart). */
export interface ConnectionPair {
  a: ConnectionProfile | null;
  b: ConnectionProfile | null;
  /** What the connection does: "fetches", "idles", "appends", … */
  role: string;
  /** Share of commands the two have in common (0…1). */
  similarity: number;
  /** The two command sequences aligned side by side. */
  rows: AlignedRows;
}

export interface Comparison {
  a: string;
  b: string;
  /** The behaviour profiles match: measures (bytes, latency) and identities never count. */
  same: boolean;
  /** Each made as it is read: a server's captures have one or two per pair of connections. */
  differences: LazyList<Difference>;
  /** What matched, in words, so a reader sees what was compared. */
  sameAspects: LazyList<string>;
  pairs: LazyList<ConnectionPair>;
}

/** Comparisons in order, each made when it is read, perhaps again (comparisonsWithFirst): an array is one too. */
export type Comparisons = Iterable<Comparison> & { readonly length: number };

/** Comparisons kept once made, up to this many; past them, made anew each time they are read. */
export const KEPT_COMPARISONS = 64;

/**
 * Every profile compared with the first, in order. A few are made once and kept; more are made each time they are
 * read, and let go once read: grouped by client address, a server's 150,000 clients' comparisons held 224 MB, where a
 * second making costs a few seconds (`same` is read before they are written).
 */
export function comparisonsWithFirst(profiles: Profiles): Comparisons {
  const count = Math.max(0, profiles.length - 1);
  const make = function* (): Generator<Comparison> {
    for (let i = 1; i < profiles.length; i++) yield compareProfiles(profiles.at(0)!, profiles.at(i)!);
  };
  return count > KEPT_COMPARISONS ? new LazyList(count, make) : [...make()];
}

/** Whether every comparison found the profiles the same. */
export function allSame(comparisons: Comparisons): boolean {
  for (const c of comparisons) if (!c.same) return false;
  return true;
}

/** Compare two behaviour profiles aspect by aspect. */
export function compareProfiles(a: BehaviourProfile, b: BehaviourProfile): Comparison {
  const differences: Difference[] = [];
  const same: string[] = [];
  const check = (what: string, x: unknown, y: unknown, text: () => string) => {
    if (JSON.stringify(x) === JSON.stringify(y)) same.push(what);
    else differences.push({ what, a: x, b: y, text: text() });
  };
  check('number of connections', a.connections.length, b.connections.length,
    () => `a opens ${count(a.connections.length, 'connection')}, b ${count(b.connections.length, 'connection')}.`);
  check('most connections open at once', a.maxConcurrent, b.maxConcurrent,
    () => `a has at most ${a.maxConcurrent} open at once, b ${b.maxConcurrent}.`);
  check('extensions used', a.extensions, b.extensions, () => setSentence('uses', a.extensions, b.extensions));
  check('client ID', a.clientIds, b.clientIds, () => `a ${idText(a.clientIds)}, b ${idText(b.clientIds)}.`);
  check('authentication', a.authMechanisms, b.authMechanisms, () => `a authenticates with ${list(a.authMechanisms)}, b with ${list(b.authMechanisms)}.`);
  check('TLS', a.tls, b.tls, () => `${a.tls ? 'a' : 'b'} uses TLS, ${a.tls ? 'b' : 'a'} does not.`);
  const pairs = pairConnections(a.connections, b.connections);
  // Counted from the pairs' sequence numbers (one number per distinct sequence); each aspect is made only when listed,
  // a pair made into objects only when it differs.
  let pairDifferences = 0;
  let pairSame = 0;
  for (let k = 0; k < pairs.length; k++) {
    const alike = pairs.alike(k);
    if (alike === null) pairDifferences++;
    else {
      pairDifferences += Number(!alike.commands) + Number(!alike.fetches);
      pairSame += Number(alike.commands) + Number(alike.fetches && alike.fetchCommands > 0);
    }
  }
  const allDifferences = new LazyList(differences.length + pairDifferences, function* () {
    yield* differences;
    for (let k = 0; k < pairs.length; k++) {
      const alike = pairs.alike(k);
      if (alike === null || !alike.commands || !alike.fetches) yield* pairDifferencesOf(pairs.at(k), alike, k, pairs.length);
    }
  });
  const sameAspects = new LazyList(same.length + pairSame, function* () {
    yield* same;
    for (let k = 0; k < pairs.length; k++) {
      const alike = pairs.alike(k);
      if (alike?.commands) yield `${pairLabel(k, pairs.length)}: ${alike.commandCount} commands`;
      if (alike?.fetches && alike.fetchCommands > 0) yield `${pairLabel(k, pairs.length)}: ${alike.fetchCommands} FETCH commands with the same items`;
    }
  });
  const pairList = new LazyList(pairs.length, function* () {
    for (let k = 0; k < pairs.length; k++) yield pairs.at(k);
  });
  return { a: a.label, b: b.label, same: allDifferences.length === 0, differences: allDifferences, sameAspects, pairs: pairList };
}

function pairLabel(k: number, total: number): string {
  return `connection ${k + 1} of ${total}`;
}

/** How the k-th of `total` pairs differs, as listed: a connection alone, or its commands, then its FETCH items. */
function* pairDifferencesOf(pair: ConnectionPair, alike: Alike | null, k: number, total: number): Generator<Difference> {
  const label = pairLabel(k, total);
  const { a: x, b: y } = pair;
  if (!x || !y || !alike) {
    const only = (x ?? y)!;
    yield { what: `${label}: only in ${x ? 'a' : 'b'}`, a: x?.commands ?? null, b: y?.commands ?? null,
      text: `${x ? 'a' : 'b'} opens a connection that ${pair.role} (conn ${only.conn}, ${count(only.commands.length, 'command')}) with no counterpart in ${x ? 'b' : 'a'}.` };
    return;
  }
  const where = `${label} (a: conn ${x.conn}, b: conn ${y.conn})`;
  if (!alike.commands) {
    const cmds = sequenceDiff(x.commands, y.commands);
    yield { what: `${where}: commands`, a: cmds.a, b: cmds.b, text: rowsSentence(`the connection that ${pair.role}`, pair.rows) };
  }
  if (!alike.fetches) {
    const fetches = sequenceDiff(x.fetches, y.fetches);
    yield { what: `${where}: fetch strategy`, a: fetches.a, b: fetches.b,
      text: `In the connection that ${pair.role}, a fetches ${list(distinct(x.fetches))} in ${count(x.fetches.length, 'FETCH command')}, b ${list(distinct(y.fetches))} in ${count(y.fetches.length, 'FETCH command')}.` };
  }
}

/** What a connection does, from its commands: what a reader recognises it by. */
export function roleOf(c: Pick<ConnectionProfile, 'commands'>): string {
  const verbs: [RegExp, string][] = [
    [/^(UID )?FETCH\b/, 'fetches'], [/^IDLE\b/, 'idles'], [/^APPEND\b/, 'appends'], [/^(UID )?STORE\b/, 'stores flags'],
    [/^(UID )?(COPY|MOVE)\b/, 'copies'], [/^(UID )?SEARCH\b/, 'searches'], [/^(LIST|LSUB|XLIST|STATUS)\b/, 'lists'],
  ];
  const roles = verbs.filter(([re]) => c.commands.some((cmd) => re.test(cmd))).map(([, role]) => role);
  if (roles.length === 0) return c.commands.some((cmd) => /^(LOGIN|AUTHENTICATE)\b/.test(cmd)) ? 'only logs in' : 'does little';
  return roles.length === 1 ? roles[0]! : `${roles.slice(0, -1).join(', ')} and ${roles[roles.length - 1]}`;
}

/** The pairs of connections in the order listed, each made into a ConnectionPair when read. */
interface PairTable {
  length: number;
  at(k: number): ConnectionPair;
  /** Whether the k-th pair's commands and item sets are the same; null for a connection alone. */
  alike(k: number): Alike | null;
}

/** What two paired connections have alike (a's counts: the same as b's where the sequences are). */
interface Alike {
  commands: boolean;
  fetches: boolean;
  commandCount: number;
  fetchCommands: number;
}

/**
 * Pair connections by what they do, not by when they opened: the pair with the most commands in common
 * first (a shared role counts before any similarity), then the next, and so on; leftovers stand alone.
 * Matched pairs come in a's order, then a's connections alone, then b's.
 */
function pairConnections(a: ProfileConnections, b: ProfileConnections): PairTable {
  // A connection's class is its command sequence's number (a and b number them alike), its role follows from it, and
  // each pair of classes is aligned and scored once (a folder sync repeats one sequence over thousands of sessions).
  const { sequences } = a;
  if (b.sequences !== sequences) throw new Error('compare: profiles from different buildProfiles() calls number their sequences apart');
  const { roleOfClass, alignmentOf } = classesOf(sequences);
  const classA = a.commandClasses;
  const classB = b.commandClasses;
  const partner = greedyMatch(classA, classB, (ca, cb) => (roleOfClass(ca) === roleOfClass(cb) ? 1 : 0) + alignmentOf(ca, cb).similarity);
  const taken = new Uint8Array(b.length);
  let matched = 0;
  for (const j of partner) {
    if (j >= 0) {
      taken[j] = 1;
      matched++;
    }
  }
  // Pair k: a's index (or -1) and b's (or -1).
  const length = a.length + b.length - matched;
  const left = new Int32Array(length);
  const right = new Int32Array(length);
  let k = 0;
  partner.forEach((j, i) => { if (j >= 0) { left[k] = i; right[k++] = j; } });
  partner.forEach((j, i) => { if (j < 0) { left[k] = i; right[k++] = -1; } });
  taken.forEach((t, j) => { if (!t) { left[k] = -1; right[k++] = j; } });
  return {
    length,
    at(n) {
      const i = left[n]!;
      const j = right[n]!;
      if (i >= 0 && j >= 0) {
        const { rows, similarity: sim } = alignmentOf(classA[i]!, classB[j]!);
        return { a: a.at(i), b: b.at(j), role: roleOfClass(classA[i]!), similarity: Math.round(sim * 1000) / 1000, rows };
      }
      const side = i >= 0 ? 'a' : 'b';
      const c = i >= 0 ? a.at(i) : b.at(j);
      return {
        a: side === 'a' ? c : null, b: side === 'b' ? c : null, role: roleOfClass(i >= 0 ? classA[i]! : classB[j]!), similarity: 0,
        rows: AlignedRows.oneSided(c.commands, side),
      };
    },
    alike(n) {
      const i = left[n]!;
      const j = right[n]!;
      if (i < 0 || j < 0) return null;
      const fetchClass = a.fetchClass(i);
      return {
        commands: classA[i] === classB[j], fetches: fetchClass === b.fetchClass(j),
        commandCount: sequences.values[classA[i]!]!.length, fetchCommands: sequences.values[fetchClass]!.length,
      };
    },
  };
}

/** Two command sequences aligned: the rows of every pair of connections of those classes, and their similarity. */
interface Alignment {
  rows: AlignedRows;
  similarity: number;
}

/**
 * Alignments kept for reuse, at most: a folder sync repeats a few pairs of classes over thousands of sessions, but a
 * server's capture grouped by address can meet a class per session (10,000 alignments kept took 8 MB). Those used since
 * the last half of them were made are kept; one not kept is made again when read (the pairs of a comparison are read a
 * few times, one comparison after another).
 */
export const KEPT_ALIGNMENTS = 4096;

/**
 * Each class's role, and the alignments of pairs of classes most recently used, for every comparison of one
 * buildProfiles() call (a server's capture grouped by address compares thousands of profiles, each against the first,
 * over a few classes).
 */
const classCaches = new WeakMap<Sequences, { roleOfClass: (c: number) => string; alignmentOf: (ca: number, cb: number) => Alignment; kept: () => number }>();

/** How many alignments the comparisons of one buildProfiles() call keep now (for tests). */
export function keptAlignments(sequences: Sequences): number {
  return classCaches.get(sequences)?.kept() ?? 0;
}

function classesOf(sequences: Sequences): { roleOfClass: (c: number) => string; alignmentOf: (ca: number, cb: number) => Alignment; kept: () => number } {
  let cache = classCaches.get(sequences);
  if (cache) return cache;
  const roles = new Map<number, string>();
  // By pair of classes (a's times the number of classes, plus b's), in two generations: the recent, and before them
  // the older, let go when the recent are half the alignments kept. (A Map in order of use, its oldest deleted, took
  // ever longer to find that oldest: deleted entries stay as holes at its start until it is rebuilt.)
  let recent = new Map<number, Alignment>();
  let older = new Map<number, Alignment>();
  cache = {
    roleOfClass: (c) => {
      let role = roles.get(c);
      if (role === undefined) roles.set(c, (role = roleOf({ commands: sequences.values[c]! })));
      return role;
    },
    alignmentOf: (ca, cb) => {
      const key = ca * sequences.values.length + cb;
      let found = recent.get(key);
      if (found) return found;
      found = older.get(key);
      if (!found) {
        const x = sequences.values[ca]!;
        const y = sequences.values[cb]!;
        const rows = align(x, y);
        found = { rows, similarity: similarity(rows, x.length, y.length) };
      }
      if (recent.size >= KEPT_ALIGNMENTS / 2) {
        older = recent;
        recent = new Map();
      }
      recent.set(key, found);
      return found;
    },
    kept: () => recent.size + older.size,
  };
  classCaches.set(sequences, cache);
  return cache;
}

/** "In the connection that fetches, b sends 2 commands a does not (IDLE, NOOP); 1 differs (…)". */
function rowsSentence(subject: string, rows: AlignedRows): string {
  const changed = rows.count('changed');
  const onlyA = rows.count('onlyA');
  const onlyB = rows.count('onlyB');
  const parts: string[] = [];
  if (onlyA) parts.push(`a sends ${count(onlyA, 'command')} that b does not (${examples(rows, 'onlyA')})`);
  if (onlyB) parts.push(`b sends ${count(onlyB, 'command')} that a does not (${examples(rows, 'onlyB')})`);
  if (changed) parts.push(`${count(changed, 'command')} differ${changed === 1 ? 's' : ''} (${rows.firstWith('changed', 2).map((r) => `${r.a} → ${r.b}`).join('; ')}${changed > 2 ? '; …' : ''})`);
  return `In ${subject}, ${parts.join('; ')}.`;
}

function setSentence(verb: string, x: readonly string[], y: readonly string[]): string {
  const onlyX = x.filter((e) => !y.includes(e));
  const onlyY = y.filter((e) => !x.includes(e));
  const parts: string[] = [];
  if (onlyX.length) parts.push(`a ${verb} ${list(onlyX)}, b does not`);
  if (onlyY.length) parts.push(`b ${verb} ${list(onlyY)}, a does not`);
  return `${parts.join('; ')}.`;
}

function idText(ids: readonly string[]): string {
  return ids.length ? `identifies as ${ids.join(', ')}` : 'sends no client ID';
}

/** The first three distinct commands of the rows with this mark ("IDLE, NOOP, …" when there are more). */
function examples(rows: AlignedRows, mark: 'onlyA' | 'onlyB'): string {
  const seen = new Set<string>();
  for (const r of rows) {
    if (r.mark !== mark) continue;
    seen.add((mark === 'onlyA' ? r.a : r.b)!);
    if (seen.size > 3) break;
  }
  const shown = [...seen].slice(0, 3);
  return `${shown.join(', ')}${seen.size > 3 ? ', …' : ''}`;
}

function distinct(items: readonly string[]): string[] {
  return [...new Set(items)];
}

function list(items: readonly string[]): string {
  return items.length ? items.join(', ') : 'nothing';
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

function commonPrefix(x: readonly string[], y: readonly string[]): number {
  let i = 0;
  while (i < x.length && i < y.length && x[i] === y[i]) i++;
  return i;
}

/** Where two sequences (that differ) part: the first differing position and a few items of each from there. */
function sequenceDiff(x: string[], y: string[]): { a: object; b: object } {
  const at = commonPrefix(x, y);
  const onlyIn = (p: string[], q: string[]) => {
    const counts = new Map<string, number>();
    for (const s of q) counts.set(s, (counts.get(s) ?? 0) + 1);
    return p.filter((s) => {
      const n = counts.get(s) ?? 0;
      if (n > 0) { counts.set(s, n - 1); return false; }
      return true;
    });
  };
  return {
    a: { count: x.length, divergesAt: at + 1, from: x.slice(at, at + 3), onlyHere: onlyIn(x, y).slice(0, 10) },
    b: { count: y.length, divergesAt: at + 1, from: y.slice(at, at + 3), onlyHere: onlyIn(y, x).slice(0, 10) },
  };
}
