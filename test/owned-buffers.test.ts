/**
 * What a worker moves rather than copies with its result (src/parallel/owned-buffers.ts): the buffers its typed arrays
 * span whole, wherever they are in the result, and nothing another view or the Buffer pool may share.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageChannel, receiveMessageOnPort } from 'node:worker_threads';
import { ownedBuffers } from '../src/parallel/owned-buffers.js';

test('the buffers a result\'s columns span whole are found in objects, arrays, maps and sets, each once, past cycles', () => {
  const ids = new Uint32Array(8);
  const ms = new Float64Array(4);
  const inMap = new Uint8Array(3);
  const inSet = new Float64Array(2);
  const backing = new Uint32Array(16);
  const part = backing.subarray(0, 8); // listValues-style: a view of part of its buffer
  const pooled = Buffer.from('abc'); // a slice of Node's pool
  const cycle: Record<string, unknown> = { ids, again: ids, alias: new Uint32Array(ids.buffer) };
  cycle.self = cycle;
  const result = { cycle, latencies: [{ ms }], byName: new Map([['x', inMap]]), sets: new Set([inSet]), part, pooled, empty: new Float64Array(0), n: 3, s: 'text' };
  const found = ownedBuffers(result);
  assert.deepEqual(new Set(found), new Set([ids.buffer, ms.buffer, inMap.buffer, inSet.buffer]));
  assert.equal(found.length, 4);

  // Moved: the sender's views are emptied and the receiver gets the values.
  ids[3] = 7;
  const { port1, port2 } = new MessageChannel();
  port1.postMessage(result, found);
  const got = receiveMessageOnPort(port2)!.message as typeof result;
  assert.equal(ids.length, 0, 'moved, not copied');
  assert.equal((got.cycle.ids as Uint32Array)[3], 7);
  assert.equal(got.cycle.alias === got.cycle.ids, false);
  assert.equal((got.cycle.alias as Uint32Array).buffer, (got.cycle.ids as Uint32Array).buffer, 'both views on the one moved buffer');
  assert.equal(part.length, 8, 'a view of part of a buffer is copied, its buffer left alone');
  assert.equal(pooled.toString(), 'abc');
  port1.close();
});
