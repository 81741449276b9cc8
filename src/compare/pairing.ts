/**
 * The best-first greedy matching: every pair (i, j) scored, taken in order of score (highest first; ties by i,
 * then j), and kept when neither side is taken yet. Connections of one class score alike against another
 * class, so the pairs are walked class by class: time and memory grow with the pairs of classes (a folder
 * sync has a handful), not with the pairs of connections (millions for two captures of a few thousand
 * connections each). Returns, for each i, the j it is paired with, or -1.
 */
export function greedyMatch(classA: ArrayLike<number>, classB: ArrayLike<number>, score: (ca: number, cb: number) => number): Int32Array {
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
  const partner = new Int32Array(classA.length).fill(-1);
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
      partner[i] = best;
    }
  }
  return partner;
}

/** Indices by class, each list ascending. */
function membersByClass(classes: ArrayLike<number>): Map<number, number[]> {
  const out = new Map<number, number[]>();
  for (let index = 0; index < classes.length; index++) {
    const c = classes[index]!;
    const list = out.get(c);
    if (list) list.push(index);
    else out.set(c, [index]);
  }
  return out;
}
