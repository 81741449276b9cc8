import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isoTime } from '../src/util/time.js';
import { seededInt } from './helpers/random.js';

/** What isoTime must write: Date's own ISO text to the second, then the capture's digits of the fraction. */
function expected(sec: number, nsec: number, digits: number): string {
  const base = new Date(sec * 1000).toISOString().slice(0, 19);
  return digits === 0 ? `${base}Z` : `${base}.${String(nsec).padStart(9, '0').slice(0, digits)}Z`;
}

test('isoTime matches Date for every second of a day, across days and years, at 0, 6 and 9 digits', () => {
  const rand = seededInt(5);
  // Every second of one day (each hour, minute and second), then times spread over the pcap range (to 2106), in
  // an order that jumps between days as a summary's start and end times do.
  const secs = Array.from({ length: 86400 }, (_, i) => 1_700_000_000 - (1_700_000_000 % 86400) + i);
  for (let i = 0; i < 20000; i++) secs.push(rand(2 ** 31) * 2 + rand(2), 0, 86399, 86400, 951782400 + rand(86400));
  for (const sec of secs) {
    const nsec = rand(1e9);
    for (const digits of [0, 6, 9]) assert.equal(isoTime({ sec, nsec, digits }), expected(sec, nsec, digits));
  }
});
