/**
 * How a rule check words what it found: failures that name a place in the capture, its outcome on one capture,
 * and the first failures in an order among however many there are.
 */
import type { Exchange } from '../imap/model.js';
import { MAX_FAILURES, type CaptureOutcome, type Failure } from './types.js';

/** What a failure names of an exchange: a copy of these outlives the exchange without holding its text. */
export type ExchangePlace = Pick<Exchange, 'conn' | 'tag' | 'command' | 'requestFrame' | 'responseFrame'>;

export function placeOf(ex: ExchangePlace): ExchangePlace {
  return { conn: ex.conn, tag: ex.tag, command: ex.command, requestFrame: ex.requestFrame, responseFrame: ex.responseFrame };
}

/** Failures and outcomes of one capture. */
export class CaptureFailures {
  constructor(readonly capture: string) {}

  exchange(ex: ExchangePlace, detail: string): Failure {
    return { capture: this.capture, conn: ex.conn, tag: ex.tag, command: ex.command, requestFrame: ex.requestFrame, responseFrame: ex.responseFrame, detail };
  }

  /** A connection-level failure points at the connection's first frame. */
  connection(id: number, firstFrame: number, detail: string): Failure {
    return { capture: this.capture, conn: id, tag: null, command: null, requestFrame: firstFrame, responseFrame: null, detail };
  }

  whole(detail: string): Failure {
    return { capture: this.capture, conn: null, tag: null, command: null, requestFrame: null, responseFrame: null, detail };
  }

  /** `count`: how many failures there were, when only the first were made. */
  outcome(passed: boolean, message: string, failures: Failure[] = [], count = failures.length): CaptureOutcome {
    return { capture: this.capture, passed, message, failures: failures.slice(0, MAX_FAILURES), failureCount: count };
  }
}

/**
 * The first `limit` of the items offered, in the order `compare` gives (offered ties stay in the order offered), and how
 * many were offered: a rule lists its first failures without keeping every one.
 */
export class FirstInOrder<T> {
  private readonly items: T[] = [];
  count = 0;

  constructor(private readonly compare: (a: T, b: T) => number, private readonly limit = MAX_FAILURES) {}

  offer(item: T): void {
    this.count++;
    const items = this.items;
    if (items.length === this.limit && this.compare(item, items[items.length - 1]!) >= 0) return;
    // After every item it does not come before.
    let lo = 0;
    let hi = items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.compare(items[mid]!, item) <= 0) lo = mid + 1;
      else hi = mid;
    }
    items.splice(lo, 0, item);
    if (items.length > this.limit) items.pop();
  }

  get first(): readonly T[] {
    return this.items;
  }
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** ` (first 100 listed)` when there were more failures than are listed. */
export function listed(n: number): string {
  return n > MAX_FAILURES ? ` (first ${MAX_FAILURES} listed)` : '';
}
