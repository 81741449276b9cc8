import { greedyMatch } from './pairing.js';
import { align, similarity, type AlignedRow } from './align.js';
import type { BehaviourProfile, ConnectionProfile } from './profile.js';

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
  rows: AlignedRow[];
}

export interface Comparison {
  a: string;
  b: string;
  /** The behaviour profiles match: measures (bytes, latency) and identities never count. */
  same: boolean;
  differences: Difference[];
  /** What matched, in words, so a reader sees what was compared. */
  sameAspects: string[];
  pairs: ConnectionPair[];
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
  pairs.forEach((pair, i) => {
    const label = `connection ${i + 1} of ${pairs.length}`;
    const { a: x, b: y } = pair;
    if (!x || !y) {
      const only = (x ?? y)!;
      differences.push({ what: `${label}: only in ${x ? 'a' : 'b'}`, a: x?.commands ?? null, b: y?.commands ?? null,
        text: `${x ? 'a' : 'b'} opens a connection that ${pair.role} (conn ${only.conn}, ${count(only.commands.length, 'command')}) with no counterpart in ${x ? 'b' : 'a'}.` });
      return;
    }
    const where = `${label} (a: conn ${x.conn}, b: conn ${y.conn})`;
    const cmds = sequenceDiff(x.commands, y.commands);
    if (cmds) differences.push({ what: `${where}: commands`, a: cmds.a, b: cmds.b, text: rowsSentence(`the connection that ${pair.role}`, pair.rows) });
    else same.push(`${label}: ${x.commands.length} commands`);
    const fetches = sequenceDiff(x.fetches, y.fetches);
    if (fetches) {
      differences.push({ what: `${where}: fetch strategy`, a: fetches.a, b: fetches.b,
        text: `In the connection that ${pair.role}, a fetches ${list(distinct(x.fetches))} in ${count(x.fetches.length, 'FETCH command')}, b ${list(distinct(y.fetches))} in ${count(y.fetches.length, 'FETCH command')}.` });
    } else if (x.fetches.length) same.push(`${label}: ${x.fetches.length} FETCH commands with the same items`);
  });
  return { a: a.label, b: b.label, same: differences.length === 0, differences, sameAspects: same, pairs };
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

/**
 * Pair connections by what they do, not by when they opened: the pair with the most commands in common
 * first (a shared role counts before any similarity), then the next, and so on; leftovers stand alone.
 */
function pairConnections(a: ConnectionProfile[], b: ConnectionProfile[]): ConnectionPair[] {
  // A connection's role follows from its commands: connections with the same command sequence form a
  // class, and each pair of classes is scored once (a folder sync repeats one sequence over hundreds).
  const sequences = new Map<string, number>();
  const commandsOf: string[][] = [];
  const classOf = (c: ConnectionProfile): number => {
    const key = JSON.stringify(c.commands);
    let id = sequences.get(key);
    if (id === undefined) {
      sequences.set(key, (id = sequences.size));
      commandsOf.push(c.commands);
    }
    return id;
  };
  const classA = a.map(classOf);
  const classB = b.map(classOf);
  const roles = new Map<number, string>();
  const roleOfClass = (c: number): string => {
    let role = roles.get(c);
    if (role === undefined) roles.set(c, (role = roleOf({ commands: commandsOf[c]! })));
    return role;
  };
  // One alignment per pair of classes: it gives the score, and the rows of every pair of those classes.
  const alignments = new Map<number, { rows: AlignedRow[]; similarity: number }>();
  const alignmentOf = (ca: number, cb: number) => {
    const key = ca * sequences.size + cb;
    let found = alignments.get(key);
    if (!found) {
      const x = commandsOf[ca]!;
      const y = commandsOf[cb]!;
      const rows = align(x, y);
      alignments.set(key, (found = { rows, similarity: similarity(rows, x.length, y.length) }));
    }
    return found;
  };
  const matched = greedyMatch(classA, classB, (ca, cb) => (roleOfClass(ca) === roleOfClass(cb) ? 1 : 0) + alignmentOf(ca, cb).similarity);
  const usedA = new Set(matched.map((m) => m.i));
  const usedB = new Set(matched.map((m) => m.j));
  const pairs: ConnectionPair[] = matched.map(({ i, j }) => {
    const { rows, similarity: sim } = alignmentOf(classA[i]!, classB[j]!);
    return { a: a[i]!, b: b[j]!, role: roleOfClass(classA[i]!), similarity: Math.round(sim * 1000) / 1000, rows };
  });
  const alone = (c: ConnectionProfile, cls: number, side: 'a' | 'b'): ConnectionPair => ({
    a: side === 'a' ? c : null, b: side === 'b' ? c : null, role: roleOfClass(cls), similarity: 0,
    rows: c.commands.map((cmd) => (side === 'a' ? { mark: 'onlyA' as const, a: cmd, b: null } : { mark: 'onlyB' as const, a: null, b: cmd })),
  });
  a.forEach((x, i) => { if (!usedA.has(i)) pairs.push(alone(x, classA[i]!, 'a')); });
  b.forEach((y, j) => { if (!usedB.has(j)) pairs.push(alone(y, classB[j]!, 'b')); });
  return pairs;
}

/** "In the connection that fetches, b sends 2 commands a does not (IDLE, NOOP); 1 differs (…)". */
function rowsSentence(subject: string, rows: readonly AlignedRow[]): string {
  const changed = rows.filter((r) => r.mark === 'changed');
  const onlyA = rows.filter((r) => r.mark === 'onlyA').map((r) => r.a!);
  const onlyB = rows.filter((r) => r.mark === 'onlyB').map((r) => r.b!);
  const parts: string[] = [];
  if (onlyA.length) parts.push(`a sends ${count(onlyA.length, 'command')} that b does not (${examples(onlyA)})`);
  if (onlyB.length) parts.push(`b sends ${count(onlyB.length, 'command')} that a does not (${examples(onlyB)})`);
  if (changed.length) parts.push(`${count(changed.length, 'command')} differ${changed.length === 1 ? 's' : ''} (${changed.slice(0, 2).map((r) => `${r.a} → ${r.b}`).join('; ')}${changed.length > 2 ? '; …' : ''})`);
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

function examples(items: readonly string[]): string {
  const shown = distinct(items).slice(0, 3);
  return `${shown.join(', ')}${distinct(items).length > 3 ? ', …' : ''}`;
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

/** Where two sequences part: the first differing position and a few items of each from there. */
function sequenceDiff(x: string[], y: string[]): { a: object; b: object } | null {
  if (JSON.stringify(x) === JSON.stringify(y)) return null;
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
