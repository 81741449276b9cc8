import { i32be, u16be } from '../util/bytes.js';
import type { AddressKey } from './types.js';

/** The address of the 4 bytes at `off`, as a segment carries it (AddressKey). */
export function ipv4Key(d: Buffer, off: number): number {
  return i32be(d, off);
}

/**
 * Dotted-quad text of an IPv4 address, or the text of an IPv6 one (see AddressKey). Joined, so it is one flat string:
 * each connection keeps its client's, and a template literal of 13 characters or more ("203.0.113.250") is a rope of
 * its pieces, twice the size.
 */
export function addressText(address: AddressKey): string {
  if (typeof address === 'string') return address;
  return [address >>> 24, (address >>> 16) & 255, (address >>> 8) & 255, address & 255].join('.');
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
  if (bestStart < 0) return hex.join(':');
  return [hex.slice(0, bestStart).join(':'), hex.slice(bestStart + bestLen).join(':')].join('::');
}
