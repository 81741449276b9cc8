import { test } from 'node:test';
import assert from 'node:assert/strict';
import { greedyMatch } from '../src/compare/pairing.js';
import { seededInt } from './helpers/random.js';

/** A pair taken: connection i of a with connection j of b. */
interface Match {
  i: number;
  j: number;
}

/** greedyMatch's partners as the pairs taken, in order of i. */
function matchesOf(partner: Int32Array): Match[] {
  return [...partner].flatMap((j, i) => (j >= 0 ? [{ i, j }] : []));
}

/** The matching as specified: every pair scored, sorted best first (ties by i, then j), kept when both sides are free. */
function bruteForce(classA: number[], classB: number[], score: (ca: number, cb: number) => number): Match[] {
  const all: { i: number; j: number; s: number }[] = [];
  classA.forEach((ca, i) => classB.forEach((cb, j) => all.push({ i, j, s: score(ca, cb) })));
  all.sort((p, q) => q.s - p.s || p.i - q.i || p.j - q.j);
  const usedA = new Set<number>();
  const usedB = new Set<number>();
  const out: Match[] = [];
  for (const { i, j } of all) {
    if (usedA.has(i) || usedB.has(j)) continue;
    usedA.add(i);
    usedB.add(j);
    out.push({ i, j });
  }
  return out.sort((x, y) => x.i - y.i);
}

test('greedyMatch walks classes but takes exactly the pairs the best-first greedy over every pair of connections takes', () => {
  const int = seededInt(20261203);
  for (let round = 0; round < 400; round++) {
    const classes = 1 + int(6);
    const classA = Array.from({ length: int(25) }, () => int(classes));
    const classB = Array.from({ length: int(25) }, () => int(classes));
    // Few distinct scores, so ties between classes (and their order by i, then j) decide often.
    const table = Array.from({ length: classes * classes }, () => int(4) / 2);
    const score = (ca: number, cb: number) => table[ca * classes + cb]!;
    assert.deepEqual(matchesOf(greedyMatch(classA, classB, score)), bruteForce(classA, classB, score), `round ${round}: ${JSON.stringify({ classA, classB, table })}`);
  }
});

test('greedyMatch: thousands of connections in a few classes pair without scoring every pair of connections', () => {
  const classA = Array.from({ length: 4000 }, (_, i) => i % 3);
  const classB = Array.from({ length: 5000 }, (_, i) => (i * 7) % 3);
  let scored = 0;
  const matches = matchesOf(greedyMatch(classA, classB, (ca, cb) => { scored++; return ca === cb ? 1 : 0; }));
  assert.equal(scored, 9, 'one score per pair of classes');
  assert.equal(matches.length, 4000);
  assert.ok(matches.every((m) => classA[m.i] === classB[m.j]), 'every connection of a finds one of its own class in b');
});
