import type { TimePoint } from '../tcp/types.js';

/** ISO 8601 in UTC, keeping the capture's resolution (6 digits for µs captures, 9 for ns). */
let cachedDay = NaN;
let cachedDate = '';

export function isoTime(t: TimePoint): string {
  // The date is formatted once per day and the time of day by hand: rows alternate between start and
  // end times, so a cache of the last second missed on every call (200,000 summary rows).
  const day = Math.floor(t.sec / 86400);
  if (day !== cachedDay) {
    cachedDay = day;
    const iso = new Date(day * 86400_000).toISOString();
    cachedDate = iso.slice(0, iso.indexOf('T') + 1);
  }
  const s = t.sec - day * 86400;
  const base = `${cachedDate}${two(Math.floor(s / 3600))}:${two(Math.floor(s / 60) % 60)}:${two(s % 60)}`;
  const digits = Math.min(Math.max(t.digits, 0), 9);
  if (digits === 0) return `${base}Z`;
  const frac = String(t.nsec).padStart(9, '0').slice(0, digits);
  return `${base}.${frac}Z`;
}

function two(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** Seconds from a to b as a float (for durations and relative times). */
export function secondsBetween(a: Pick<TimePoint, 'sec' | 'nsec'>, b: Pick<TimePoint, 'sec' | 'nsec'>): number {
  return (b.sec - a.sec) + (b.nsec - a.nsec) / 1e9;
}

export function compareTime(a: TimePoint, b: TimePoint): number {
  return a.sec !== b.sec ? a.sec - b.sec : a.nsec - b.nsec;
}
