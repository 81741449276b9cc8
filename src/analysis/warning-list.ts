import type { Warning } from '../capture/types.js';

/** Warnings kept per capture: a damaged capture can have one per packet, and memory must not follow the file. */
export const MAX_WARNINGS_KEPT = 10_000;

/** Collects a capture's warnings up to MAX_WARNINGS_KEPT and counts the rest. */
export class WarningList {
  private readonly kept: Warning[] = [];
  private notKept = 0;
  /** The frame of the first warning not kept: where the cap was hit. */
  private firstNotKept: number | null = null;

  readonly add = (w: Warning): void => {
    if (this.kept.length < MAX_WARNINGS_KEPT) {
      this.kept.push(w);
      return;
    }
    if (this.notKept++ === 0) this.firstNotKept = w.frame;
  };

  /** The kept warnings, then one saying how many more there were, at the frame of the first not kept. */
  result(): Warning[] {
    if (this.notKept === 0) return this.kept;
    const from = this.firstNotKept === null ? '' : ` (the first in this frame)`;
    return [...this.kept, { frame: this.firstNotKept, message: `${this.notKept} more warning(s) not kept${from}: at most ${MAX_WARNINGS_KEPT.toLocaleString('en-US')} are kept per capture (the cap)` }];
  }
}
