/**
 * The sequence-number-to-UID map of the fetch analysis (src/analysis/sequence-uids.ts): the same answers as a list
 * spliced at each EXPUNGE, in O(log n) per operation, and no slot for a number far beyond the mailbox.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_AHEAD, SequenceUids } from '../src/analysis/sequence-uids.js';
import { seededRandom } from './helpers/random.js';

test('sequence numbers map to UIDs as a list spliced at each EXPUNGE would map them (random FETCH, EXPUNGE and lookups)', () => {
  const random = seededRandom(23);
  for (let round = 0; round < 200; round++) {
    const map = new SequenceUids();
    const model: (number | undefined)[] = [];
    const operations = 50 + Math.floor(random() * 3_000);
    for (let k = 0; k < operations; k++) {
      const r = random();
      const seq = 1 + Math.floor(random() * (model.length + 20));
      if (r < 0.45) {
        const uid = 1 + Math.floor(random() * 2 ** 32 - 2);
        map.set(seq, uid);
        model[seq - 1] = uid;
      } else if (r < 0.75) {
        map.expunge(seq);
        model.splice(seq - 1, 1);
      } else {
        assert.equal(map.get(seq), model[seq - 1], `round ${round}, operation ${k}: seq ${seq}`);
      }
    }
    for (let seq = 0; seq <= model.length + 2; seq++) assert.equal(map.get(seq), model[seq - 1], `round ${round}, at the end: seq ${seq}`);
  }
});

test('expunging 200,000 messages, half from the front and then the rest from the back: every lookup on the way is right, and a FETCH after starts afresh', () => {
  const map = new SequenceUids();
  const n = 200_000;
  for (let seq = 1; seq <= n; seq++) map.set(seq, seq + 100);
  for (let k = 0; k < n / 2; k++) map.expunge(1);
  assert.equal(map.get(1), n / 2 + 101);
  assert.equal(map.get(n / 2), n + 100);
  assert.equal(map.get(n / 2 + 1), undefined);
  for (let k = 0; k < n / 2; k++) map.expunge(n / 2 - k);
  assert.equal(map.get(1), undefined);
  map.set(1, 7);
  assert.equal(map.get(1), 7);
});

test('a FETCH naming a number far beyond the mailbox keeps nothing for it, unless its EXISTS said the mailbox is that large', () => {
  const map = new SequenceUids();
  assert.equal(map.set(4_000_000_000, 5), false, 'not kept');
  assert.equal(map.get(4_000_000_000), undefined);
  map.expunge(1);
  map.set(MAX_AHEAD + 1, 9);
  assert.equal(map.get(MAX_AHEAD + 1), undefined, 'one beyond the reach without an EXISTS');
  assert.equal(map.set(MAX_AHEAD, 8), true);
  assert.equal(map.get(MAX_AHEAD), 8);
  map.set(300_000, 3, 300_000);
  assert.equal(map.get(300_000), 3, 'an EXISTS of 300,000 reaches it');
  map.expunge(1);
  assert.equal(map.get(299_999), 3);
  map.set(Number.NaN, 1);
  map.set(2.5, 1);
  assert.equal(map.get(2), undefined);
});
