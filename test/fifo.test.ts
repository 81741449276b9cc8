import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Fifo } from '../src/util/fifo.js';
import { seededInt } from './helpers/random.js';

test('Fifo takes entries in the order they were pushed, across cuts of its front and retains, as an array would', () => {
  const random = seededInt(11);
  const fifo = new Fifo<number>([0, 1, 2]);
  let model = [0, 1, 2];
  let next = 3;
  for (let step = 0; step < 200_000; step++) {
    // Pushes and takes about even (the front is passed thousands of times over, and cut), a rare retain.
    const roll = random(10_000);
    if (roll < 5_000) {
      fifo.push(next);
      model.push(next++);
    } else if (roll < 9_998) {
      assert.equal(fifo.shift(), model.shift(), `step ${step}`);
    } else {
      const odd = (n: number) => n % 3 !== 0;
      fifo.retain(odd);
      model = model.filter(odd);
    }
    assert.equal(fifo.length, model.length, `step ${step}`);
  }
  while (model.length > 0) assert.equal(fifo.shift(), model.shift());
  assert.equal(fifo.shift(), undefined, 'empty');
  assert.equal(fifo.length, 0);
});
