/**
 * Strings kept one per connection or per section are flat. V8 makes a template literal of 13 characters or more a rope
 * of its pieces (a cons string per join, each piece a string of its own): about twice to four times the heap of the same
 * text flat. Measured by the heap each kept string adds, next to a rope of the same text, so that the measure is seen
 * to tell them apart.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import chalk from 'chalk';
import type { SectionFetch } from '../src/analysis/fetches.js';
import { addressText, formatIPv6 } from '../src/decode/address.js';
import { parseSectionSpec } from '../src/imap/fetch.js';
import { fetchedLine } from '../src/report/fetches.js';
import { bytesHuman } from '../src/report/format.js';
import { collectGarbage } from './helpers/gc.js';

/** The heap each string `make` gives for the items adds, when all are kept (after full collections). */
async function bytesEach<T>(items: readonly T[], make: (item: T) => string): Promise<number> {
  await collectGarbage();
  const before = process.memoryUsage().heapUsed;
  const kept = items.map(make);
  await collectGarbage();
  const grown = process.memoryUsage().heapUsed - before;
  assert.equal(kept.length, items.length);
  return grown / items.length;
}

test('a section\'s line in the text listing is flat (50,000 lines: a message fetched that often keeps them all)', async () => {
  const spec = parseSectionSpec('HEADER');
  const sections: SectionFetch[] = [];
  for (let i = 0; i < 50_000; i++) {
    sections.push({ conn: i % 100, tag: `A${1000 + (i % 50)}`, command: 'UID FETCH', requestFrame: 1, frame: 2, item: 'BODY[HEADER]', section: 'HEADER',
      spec, origin: i % 3 === 0 ? 0 : null, how: 'header', bytes: 200 + (i % 50), sha256: null, complete: i % 7 !== 0, part: null });
  }
  // The line as a template literal once made it.
  const template = (f: SectionFetch) => `conn ${f.conn} ${f.tag ?? '?'} ${f.how}${f.origin !== null ? ` <${f.origin}.${f.bytes}>` : ''} ${bytesHuman(f.bytes)}${f.complete ? '' : chalk.yellow(' (cut)')}`;
  assert.deepEqual(sections.map(fetchedLine), sections.map(template), 'the same text');
  assert.equal(fetchedLine(sections[0]!), `conn 0 A1000 header <0.200> 200 B${chalk.yellow(' (cut)')}`);
  const rope = await bytesEach(sections, template);
  const flat = await bytesEach(sections, fetchedLine);
  assert.ok(rope > 150, `a rope of the same text takes ${rope.toFixed(0)} bytes a line`);
  assert.ok(flat < 100, `a section's line takes ${flat.toFixed(0)} bytes (flat: about 50)`);
});

test('an address\'s text is flat, IPv4 and IPv6 (50,000 each: every connection keeps its client\'s)', async () => {
  // 203.0.113.x and 198.51.100.x: 12 to 14 characters, the longer ones past V8's rope length.
  const v4 = Array.from({ length: 50_000 }, (_, i) => ((i & 1 ? 0xcb007100 : 0xc6336400) | (i % 250)) >>> 0);
  const quad = (a: number) => `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
  assert.deepEqual(v4.map(addressText), v4.map(quad), 'the same text');
  assert.equal(addressText(v4[1]!), '203.0.113.1');
  const long = v4.filter((a) => quad(a).length >= 13);
  assert.ok(long.length > 20_000);
  const rope = await bytesEach(long, quad);
  const flat = await bytesEach(long, addressText);
  assert.ok(rope > flat + 20, `a rope of the same text takes ${rope.toFixed(0)} bytes, the text ${flat.toFixed(0)}`);
  assert.ok(flat < 45, `an IPv4 address's text takes ${flat.toFixed(0)} bytes (flat: 40)`);
  // 2001:db8:x:y::a:b: the run of zeros written "::" between the groups before and after it.
  const v6 = Array.from({ length: 50_000 }, (_, i) => {
    const b = Buffer.alloc(16);
    b.writeUInt32BE(0x20010db8, 0);
    b.writeUInt16BE(0x1000 + (i >> 8), 4);
    b.writeUInt16BE(0x2000 + (i & 255), 6);
    b.writeUInt16BE(1 + (i % 7), 12);
    b.writeUInt16BE(1 + (i % 11), 14);
    return b;
  });
  assert.equal(formatIPv6(v6[300]!, 0), '2001:db8:1001:202c::7:4');
  // The text as a template literal once made it: the groups before and after the run, joined, around "::".
  const groups = (b: Buffer, from: number, to: number) => Array.from({ length: to - from }, (_, k) => b.readUInt16BE(2 * (from + k)).toString(16)).join(':');
  const template = (b: Buffer) => `${groups(b, 0, 4)}::${groups(b, 6, 8)}`;
  assert.deepEqual(v6.map(template), v6.map((b) => formatIPv6(b, 0)), 'the same text');
  const rope6 = await bytesEach(v6, template);
  const flat6 = await bytesEach(v6, (b) => formatIPv6(b, 0));
  assert.ok(rope6 > flat6 + 40, `a rope of the same text takes ${rope6.toFixed(0)} bytes, the text ${flat6.toFixed(0)}`);
  assert.ok(flat6 < 64, `an IPv6 address's text takes ${flat6.toFixed(0)} bytes (flat: 48)`);
});
