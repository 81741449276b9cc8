/**
 * The tokeniser's lists read on demand (TokenReader.values(true)): a list inside a list is stepped over and read when
 * its items are first asked for. Read in full, what it gives must equal what reading everything at once gives, on any
 * input, well formed or not.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TokenReader, type Value } from '../src/imap/tokens.js';
import { parseResponse } from '../src/imap/response.js';
import type { ImapMessage, Literal } from '../src/imap/types.js';
import { T0 } from './helpers/imap.js';
import { seededInt } from './helpers/random.js';
import { CAPTURES } from './helpers/env.js';
import { analyzeWithFetches } from '../src/analysis/full.js';
import { join } from 'node:path';

function messageOf(pieces: string[]): ImapMessage {
  const literals: Literal[] = pieces.slice(0, -1).map((_, i) => {
    const data = Buffer.from(`literal ${i}`);
    return { length: data.length, received: data.length, data, nonSync: false, binary: false };
  });
  return { side: 'server', lines: pieces, literals, firstFrame: 1, lastFrame: 1, start: T0, end: T0, damaged: false, wireBytes: 0 };
}

/** A value as plain data, every list read: literals by their place in the message. */
function plain(v: Value, msg: ImapMessage): unknown {
  switch (v.kind) {
    case 'list': return v.items.map((item) => plain(item, msg));
    case 'string': return v.literal ? { literal: msg.literals.indexOf(v.literal), text: v.text } : { string: v.text };
    case 'atom': return { atom: v.text };
    case 'nil': return null;
  }
}

/** Text made mostly of what the tokeniser treats specially, so that every path of it is walked. */
function randomPiece(int: (n: number) => number, literalEnd: boolean): string {
  const bits = ['(', '(', ')', ')', ' ', ' ', '"', '\\', '[', ']', 'a', 'NIL', 'nil', '12', 'BODY[HEADER.FIELDS (A B)]', '<5>', '{', '}', '~', '"x y"', '"\\""'];
  let s = '';
  for (let n = int(14); n > 0; n--) s += bits[int(bits.length)];
  if (literalEnd) s += [' {9}', '{9}', ' ~{9}', ' {9+}', ' {x}'][int(5)];
  return s;
}

test('lists read on demand equal lists read at once, with the same end and the same malformed flag, on 20,000 random messages', () => {
  const int = seededInt(7);
  for (let i = 0; i < 20_000; i++) {
    const count = 1 + int(3);
    const pieces = Array.from({ length: count }, (_, k) => randomPiece(int, k < count - 1));
    const msg = messageOf(pieces);
    const eager = new TokenReader(msg);
    const onDemand = new TokenReader(msg, true);
    const a = eager.values();
    const b = onDemand.values();
    assert.deepEqual(b.map((v) => plain(v, msg)), a.map((v) => plain(v, msg)), JSON.stringify(pieces));
    assert.equal(onDemand.malformed, eager.malformed, JSON.stringify(pieces));
  }
});

test('the nesting cap is the same on demand: 100 levels read, deeper ones flat and malformed', () => {
  for (const depth of [99, 100, 101, 5_000]) {
    const msg = messageOf([`(${'('.repeat(depth)}x${')'.repeat(depth)} y) z`]);
    const eager = new TokenReader(msg);
    const onDemand = new TokenReader(msg, true);
    assert.deepEqual(onDemand.values().map((v) => plain(v, msg)), eager.values().map((v) => plain(v, msg)), `depth ${depth}`);
    assert.equal(onDemand.malformed, eager.malformed, `depth ${depth}`);
  }
});

test('a FETCH response reads its BODYSTRUCTURE only when its items are asked for, and then once', () => {
  const msg = messageOf(['* 3 FETCH (UID 7 FLAGS (\\Seen) BODYSTRUCTURE (("TEXT" "PLAIN" ("CHARSET" "UTF-8") NIL NIL "7BIT" 12 1) "MIXED") BODY[HEADER] {9}', ')']);
  const { reads, restore } = countReads();
  try {
    const r = parseResponse(msg, true);
    assert.equal(r.kind, 'numbered');
    if (r.kind !== 'numbered') return;
    const items = (r.values[0] as Extract<Value, { kind: 'list' }>).items;
    assert.deepEqual(items.map((v) => v.kind), ['atom', 'atom', 'atom', 'list', 'atom', 'list', 'atom', 'string']);
    assert.deepEqual(reads, [], 'the attribute list is read, nothing inside it');
    const structure = items[5] as Extract<Value, { kind: 'list' }>;
    assert.equal(structure.items.length, 2);
    assert.deepEqual(plain(structure.items[0]!, msg), [{ string: 'TEXT' }, { string: 'PLAIN' }, [{ string: 'CHARSET' }, { string: 'UTF-8' }], null, null, { string: '7BIT' }, { atom: '12' }, { atom: '1' }]);
    assert.equal(structure.items, structure.items, 'read once, then kept');
    assert.deepEqual(reads, [1], 'one read, at the depth the list stands');
  } finally {
    restore();
  }
});

/** Counts the lists read on demand (their depths), until restored. */
function countReads(): { reads: number[]; restore: () => void } {
  const reads: number[] = [];
  const listAt = TokenReader.listAt;
  TokenReader.listAt = (...args) => {
    reads.push(args[3]);
    return listAt(...args);
  };
  return { reads, restore: () => { TokenReader.listAt = listAt; } };
}

test('on a real folder sync, the analysis with lists read on demand gives the same FETCH steps, and only then reads lists on demand', async () => {
  const file = join(CAPTURES, 'mbsync.pcap');
  const run = async (nestedListsOnDemand: boolean) => {
    const steps: unknown[] = [];
    const { reads, restore } = countReads();
    try {
      const a = await analyzeWithFetches(file, { keepExchanges: true, nestedListsOnDemand }, { retain: false, steps: true, stepUids: false, onStep: (step) => steps.push(step) });
      return { steps, exchanges: a.exchanges?.length, reads: reads.length };
    } finally {
      restore();
    }
  };
  const eager = await run(false);
  const onDemand = await run(true);
  assert.ok(eager.steps.length > 5, `${eager.steps.length} FETCH steps`);
  assert.deepEqual(onDemand.steps, eager.steps);
  assert.equal(onDemand.exchanges, eager.exchanges);
  assert.equal(eager.reads, 0, 'nothing is read on demand unless asked');
  assert.ok(onDemand.reads > 0, 'FLAGS lists are read on demand');
});
