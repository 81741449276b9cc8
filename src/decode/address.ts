import { i32be, u16be } from '../util/bytes.js';
import type { AddressKey } from './types.js';

/** The address of the 4 bytes at `off`, as a segment carries it (AddressKey). */
export function ipv4Key(d: Buffer, off: number): number {
  return i32be(d, off);
}

/**
 * Dotted-quad text of an IPv4 address, or the text of an IPv6 one (see AddressKey). Every connection keeps its client's,
 * so a long one is joined into one flat string: a template literal of 13 characters or more ("203.0.113.250") is a rope
 * of its pieces, twice the size. A short one, most of a private network's, is a template literal, which is flat and
 * takes half the time (a SYN flood has an address per connection).
 */
export function addressText(address: AddressKey): string {
  if (typeof address === 'string') return address;
  const a = address >>> 24;
  const b = (address >>> 16) & 255;
  const c = (address >>> 8) & 255;
  const d = address & 255;
  return digits(a) + digits(b) + digits(c) + digits(d) + 3 < ROPE_LENGTH ? `${a}.${b}.${c}.${d}` : [a, b, c, d].join('.');
}

/** V8 makes a string joined by `+` or a template literal a rope (a cons string) from this length up. */
const ROPE_LENGTH = 13;

function digits(octet: number): number {
  return octet >= 100 ? 3 : octet >= 10 ? 2 : 1;
}

/** RFC 5952 text of the 16 bytes at `off`: lower case, leading zeros dropped, longest zero run (≥ 2 groups) as `::`. */
export function formatIPv6(d: Buffer, off: number): string {
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push(u16be(d, off + i * 2));
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) { bestStart = i; bestLen = j - i; }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  // The run becomes an empty group ("a::b"), two at either end ("::b", "a::") and three for all ("::"). One join makes
  // one flat string: a template literal around "::" made a rope, which the index and the record keep per connection.
  if (bestStart >= 0) hex.splice(bestStart, bestLen, ...(bestLen === 8 ? ['', '', ''] : bestStart === 0 || bestStart + bestLen === 8 ? ['', ''] : ['']));
  return hex.join(':');
}
