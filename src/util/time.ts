import type { TimePoint } from '../tcp/types.js';

/** ISO 8601 in UTC, keeping the capture's resolution (6 digits for µs captures, 9 for ns). */
let cachedSec = NaN;
let cachedBase = '';

export function isoTime(t: TimePoint): string {
  // Consecutive times mostly share their second: format the date part once per second.
  if (t.sec !== cachedSec) {
    cachedSec = t.sec;
    cachedBase = new Date(t.sec * 1000).toISOString().slice(0, 19);
  }
  const base = cachedBase;
  const digits = Math.min(Math.max(t.digits, 0), 9);
  if (digits === 0) return `${base}Z`;
  const frac = String(t.nsec).padStart(9, '0').slice(0, digits);
  return `${base}.${frac}Z`;
}

/** Seconds from a to b as a float (for durations and relative times). */
export function secondsBetween(a: TimePoint, b: TimePoint): number {
  return (b.sec - a.sec) + (b.nsec - a.nsec) / 1e9;
}

export function compareTime(a: TimePoint, b: TimePoint): number {
  return a.sec !== b.sec ? a.sec - b.sec : a.nsec - b.nsec;
}
