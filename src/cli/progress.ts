import { basename } from 'node:path';
import type { ReadProgress } from '../capture/reader.js';
import { bytesHuman } from '../report/format.js';

/** Short runs never show a progress line: it appears after this long. */
const SHOW_AFTER_MS = 1000;
/** And is redrawn at most this often. */
const REDRAW_MS = 200;

/** "reading big.pcap: 120.5 MiB of 1.20 GiB (10%), 1,234,567 frames, 0:42 left". */
export function progressText(p: ReadProgress, elapsedMs: number): string {
  const name = p.path === '-' ? 'stdin' : basename(p.path);
  const frames = `${p.frames.toLocaleString('en-US')} frames`;
  if (p.totalBytes === null || p.totalBytes <= 0) return `reading ${name}: ${bytesHuman(p.bytesRead)}, ${frames}`;
  const fraction = Math.min(1, p.bytesRead / p.totalBytes);
  const left = fraction > 0 ? (elapsedMs * (1 - fraction)) / fraction : null;
  const eta = left !== null && elapsedMs >= SHOW_AFTER_MS ? `, ${clock(left)} left` : '';
  return `reading ${name}: ${bytesHuman(p.bytesRead)} of ${bytesHuman(p.totalBytes)} (${Math.floor(fraction * 100)}%), ${frames}${eta}`;
}

/** m:ss, or h:mm:ss from an hour on. */
function clock(ms: number): string {
  const s = Math.round(ms / 1000);
  const pad = (n: number) => String(n).padStart(2, '0');
  return s >= 3600 ? `${Math.floor(s / 3600)}:${pad(Math.floor(s / 60) % 60)}:${pad(s % 60)}` : `${Math.floor(s / 60)}:${pad(s % 60)}`;
}

export interface ProgressStream {
  write(s: string): boolean;
  columns?: number;
}

/** One self-overwriting line on a terminal's stderr, cleared when reading ends or other output comes. */
export class ProgressLine {
  private shown = false;
  private path: string | null = null;
  private started = 0;
  private drawn = 0;
  private latest: ReadProgress | null = null;
  /** Redraws while the input stalls (a slow pipe sends nothing for a while); never keeps the process alive. */
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly stream: ProgressStream, private readonly now: () => number = Date.now) {}

  update(p: ReadProgress): void {
    const t = this.now();
    if (p.path !== this.path) {
      this.path = p.path;
      this.started = t;
    }
    if (p.done) {
      this.clear();
      this.path = null;
      this.latest = null;
      if (this.timer) clearInterval(this.timer);
      this.timer = null;
      return;
    }
    this.latest = p;
    this.timer ??= setInterval(() => this.draw(), REDRAW_MS).unref();
    this.draw();
  }

  private draw(): void {
    const p = this.latest;
    const t = this.now();
    if (!p || t - this.started < SHOW_AFTER_MS || t - this.drawn < REDRAW_MS) return;
    this.drawn = t;
    const width = Math.max(20, (this.stream.columns ?? 80) - 1);
    const text = progressText(p, t - this.started);
    this.stream.write(`\r${text.length > width ? `${text.slice(0, width - 1)}…` : text}\x1b[K`);
    this.shown = true;
  }

  clear(): void {
    if (!this.shown) return;
    this.stream.write('\r\x1b[K');
    this.shown = false;
  }
}
