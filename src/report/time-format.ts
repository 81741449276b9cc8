import type { TimePoint } from '../tcp/types.js';

/** tshark's -t: absolute, absolute with date, delta, delta displayed, epoch, relative, UTC, UTC with date. */
export const TIME_FORMATS = ['a', 'ad', 'd', 'dd', 'e', 'r', 'u', 'ud'] as const;
export type TimeFormat = typeof TIME_FORMATS[number];

const HEADERS: Record<TimeFormat, string> = {
  a: 'time (local)',
  ad: 'date time (local)',
  d: 'delta (s)',
  dd: 'delta shown (s)',
  e: 'epoch (s)',
  r: 'time (s)',
  u: 'time (UTC)',
  ud: 'date time (UTC)',
};

/**
 * The time column of a table. Relative times count from the capture's first frame (as Wireshark's
 * frame.time_relative), whatever is filtered; `d` from the previous row of the capture (shown or not),
 * `dd` from the previous row shown. Fractions keep the capture's resolution.
 */
export class TimeColumn {
  private previous: TimePoint | null = null;
  private previousShown: TimePoint | null = null;

  constructor(readonly format: TimeFormat, private readonly firstFrame: () => TimePoint | null) {}

  get header(): string {
    return HEADERS[this.format];
  }

  /** Every row of the capture passes here, shown or not (for `d`). */
  passed(t: TimePoint | null): void {
    if (t) this.previous = t;
  }

  /** The cell of a row that is shown; call before `passed` for the same row. */
  cell(t: TimePoint | null): string {
    if (!t) return '';
    const text = this.text(t);
    this.previousShown = t;
    return text;
  }

  private text(t: TimePoint): string {
    switch (this.format) {
      case 'r': return relative(this.firstFrame() ?? t, t);
      case 'd': return relative(this.previous ?? t, t);
      case 'dd': return relative(this.previousShown ?? t, t);
      case 'e': return `${t.sec}${fraction(t)}`;
      case 'u': return utc(t).slice(11) + fraction(t);
      case 'ud': return utc(t).replace('T', ' ') + fraction(t);
      case 'a': return local(t, false) + fraction(t);
      case 'ad': return local(t, true) + fraction(t);
    }
  }
}

/** Seconds from a to b with the resolution of b, computed in whole nanoseconds (no float rounding). */
export function relative(a: TimePoint, b: TimePoint): string {
  let ns = (b.sec - a.sec) * 1e9 + (b.nsec - a.nsec);
  const sign = ns < 0 ? '-' : '';
  ns = Math.abs(ns);
  const digits = digitsOf(b);
  const whole = Math.floor(ns / 1e9);
  const frac = String(ns % 1e9).padStart(9, '0').slice(0, digits);
  return `${sign}${whole}${digits ? `.${frac}` : ''}`;
}

function digitsOf(t: TimePoint): number {
  return Math.min(Math.max(t.digits, 0), 9);
}

function fraction(t: TimePoint): string {
  const digits = digitsOf(t);
  return digits ? `.${String(t.nsec).padStart(9, '0').slice(0, digits)}` : '';
}

function utc(t: TimePoint): string {
  return new Date(t.sec * 1000).toISOString().slice(0, 19);
}

function local(t: TimePoint, withDate: boolean): string {
  const d = new Date(t.sec * 1000);
  const two = (n: number) => String(n).padStart(2, '0');
  const time = `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
  return withDate ? `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${time}` : time;
}
