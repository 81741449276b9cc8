/** A pair taken by greedyMatch: connection i of a with connection j of b. */
export interface Match {
  i: number;
  j: number;
}

/**
 * The best-first greedy matching: every pair (i, j) scored, taken in order of score (highest first; ties by i,
 * then j), and kept when neither side is taken yet. Connections of one class score alike against another
 * class, so the pairs are walked class by class: time and memory grow with the pairs of classes (a folder
 * sync has a handful), not with the pairs of connections (millions for two captures of a few thousand
 * connections each). Returns the matches in order of i.
 */
export function greedyMatch(classA: readonly number[], classB: readonly number[], score: (ca: number, cb: number) => number): Match[] {
  const membersA = membersByClass(classA);
  const membersB = membersByClass(classB);
  // The pairs of classes, grouped by score: within a score, candidates go by i, so by a's class members.
  const levels = new Map<number, Map<number, number[]>>();
  for (const ca of membersA.keys()) {
    for (const cb of membersB.keys()) {
      const s = score(ca, cb);
      let byA = levels.get(s);
      if (!byA) levels.set(s, (byA = new Map()));
      const list = byA.get(ca);
      if (list) list.push(cb);
      else byA.set(ca, [cb]);
    }
  }
  const usedA = new Uint8Array(classA.length);
  const usedB = new Uint8Array(classB.length);
  // Per class of b, where its first member not yet taken is (members are only ever taken, so it only moves on).
  const firstFree = new Map<number, number>();
  const freeOf = (cb: number): number | undefined => {
    const members = membersB.get(cb)!;
    let k = firstFree.get(cb) ?? 0;
    while (k < members.length && usedB[members[k]!]) k++;
    firstFree.set(cb, k);
    return members[k];
  };
  const matches: Match[] = [];
  for (const s of [...levels.keys()].sort((x, y) => y - x)) {
    const byA = levels.get(s)!;
    const rows = [...byA.keys()].flatMap((ca) => membersA.get(ca)!).sort((x, y) => x - y);
    for (const i of rows) {
      if (usedA[i]) continue;
      // The candidate this score reaches first for i: the lowest free j among the classes it pairs with.
      let best: number | undefined;
      for (const cb of byA.get(classA[i]!)!) {
        const j = freeOf(cb);
        if (j !== undefined && (best === undefined || j < best)) best = j;
      }
      if (best === undefined) continue;
      usedA[i] = 1;
      usedB[best] = 1;
      matches.push({ i, j: best });
    }
  }
  return matches.sort((x, y) => x.i - y.i);
}

/** Indices by class, each list ascending. */
function membersByClass(classes: readonly number[]): Map<number, number[]> {
  const out = new Map<number, number[]>();
  classes.forEach((c, index) => {
    const list = out.get(c);
    if (list) list.push(index);
    else out.set(c, [index]);
  });
  return out;
}
