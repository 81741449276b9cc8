import { signature, type BehaviourProfile, type ConnectionProfile } from './profile.js';

export interface Difference {
  /** What differs, in words ("number of connections", "commands of connection 2", …). */
  what: string;
  a: unknown;
  b: unknown;
}

export interface Comparison {
  a: string;
  b: string;
  /** The behaviour profiles match: measures (bytes, latency) and identities never count. */
  same: boolean;
  differences: Difference[];
  /** What matched, in words, so a reader sees what was compared. */
  sameAspects: string[];
}

/** Compare two behaviour profiles aspect by aspect. */
export function compareProfiles(a: BehaviourProfile, b: BehaviourProfile): Comparison {
  const differences: Difference[] = [];
  const same: string[] = [];
  const check = (what: string, x: unknown, y: unknown) => {
    if (JSON.stringify(x) === JSON.stringify(y)) same.push(what);
    else differences.push({ what, a: x, b: y });
  };
  check('number of connections', a.connections.length, b.connections.length);
  check('most connections open at once', a.maxConcurrent, b.maxConcurrent);
  check('extensions used', a.extensions, b.extensions);
  check('client ID', a.clientIds, b.clientIds);
  check('authentication', a.authMechanisms, b.authMechanisms);
  check('TLS', a.tls, b.tls);
  const pairs = pairConnections(a.connections, b.connections);
  pairs.forEach(([x, y], i) => {
    const label = `connection ${i + 1} of ${pairs.length}`;
    if (!x || !y) {
      differences.push({ what: `${label}: only in ${x ? 'a' : 'b'}`, a: x?.commands ?? null, b: y?.commands ?? null });
      return;
    }
    const cmds = sequenceDiff(x.commands, y.commands);
    if (cmds) differences.push({ what: `${label} (a: conn ${x.conn}, b: conn ${y.conn}): commands`, a: cmds.a, b: cmds.b });
    else same.push(`${label}: ${x.commands.length} commands`);
    const fetches = sequenceDiff(x.fetches, y.fetches);
    if (fetches) differences.push({ what: `${label} (a: conn ${x.conn}, b: conn ${y.conn}): fetch strategy`, a: fetches.a, b: fetches.b });
    else if (x.fetches.length) same.push(`${label}: ${x.fetches.length} FETCH commands with the same items`);
  });
  return { a: a.label, b: b.label, same: differences.length === 0, differences, sameAspects: same };
}

/** Pair connections by what they did (profiles are already sorted by signature); leftovers pair with nothing. */
function pairConnections(a: ConnectionProfile[], b: ConnectionProfile[]): [ConnectionProfile | null, ConnectionProfile | null][] {
  const rest = [...b];
  const pairs: [ConnectionProfile | null, ConnectionProfile | null][] = [];
  for (const x of a) {
    // Exact match first; else the most similar remaining connection.
    let best = rest.findIndex((y) => signature(y) === signature(x));
    if (best < 0 && rest.length) {
      let score = -1;
      rest.forEach((y, i) => {
        const s = commonPrefix(x.commands, y.commands);
        if (s > score) { score = s; best = i; }
      });
    }
    pairs.push([x, best >= 0 ? rest.splice(best, 1)[0]! : null]);
  }
  for (const y of rest) pairs.push([null, y]);
  return pairs;
}

function commonPrefix(x: string[], y: string[]): number {
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
