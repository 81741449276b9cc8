import type { Exchange } from '../imap/model.js';
import type { TimePoint } from '../tcp/types.js';
import { secondsBetween } from '../util/time.js';
import { percentile, roundMs } from './stats.js';

/** IDLE on its own: how long clients idled, what the server pushed meanwhile and how fast clients reacted. */
export interface IdleSummary {
  count: number;
  /** From "+ idling" to DONE (periods the capture saw end). */
  medianMs: number | null;
  longestMs: number | null;
  /** Untagged responses pushed while idling, by type (EXISTS, EXPUNGE, FETCH, keep-alive OK, …). */
  pushed: Record<string, number>;
  /** From the first push of a period to the client's DONE, and to its next command. */
  reactionToDoneMs: number | null;
  reactionToNextCommandMs: number | null;
}

/** Commands where the turn passes to the client and back: the server's time apart from the client's. */
export interface TurnSummary {
  command: string;
  count: number;
  /** Of those, how many got a continuation request ("+"). */
  withContinuation: number;
  /** Median time from the request to the server's first "+". */
  continuationMs: number | null;
  /** Median time the turn was the client's (uploading the literal, answering SASL challenges). */
  clientMs: number | null;
  /** Median number of continuation requests (SASL round trips). */
  roundTrips: number | null;
}

const TURN_COMMANDS = new Set(['APPEND', 'AUTHENTICATE']);

/** Built one exchange at a time, in request order (so the command after an IDLE comes after it). */
export class TurnStats {
  private readonly idleMs: number[] = [];
  private readonly toDone: number[] = [];
  private readonly toNext: number[] = [];
  private readonly pushed: Record<string, number> = {};
  private idles = 0;
  /** Per connection: when its last IDLE's first push came, until its next command is seen. */
  private readonly awaitingNext = new Map<number, TimePoint>();
  private readonly turns = new Map<string, { count: number; withContinuation: number; continuation: number[]; client: number[]; roundTrips: number[] }>();

  add(ex: Exchange): void {
    const pushAt = this.awaitingNext.get(ex.conn);
    if (pushAt && ex.start) {
      this.toNext.push(ms(pushAt, ex.start));
      this.awaitingNext.delete(ex.conn);
    }
    if (ex.idle) this.addIdle(ex, ex.idle);
    else if (TURN_COMMANDS.has(ex.command)) this.addTurn(ex);
  }

  /** A connection has no more exchanges: an IDLE it ended with waits for no next command (a phone that went away). */
  drained(conn: number): void {
    this.awaitingNext.delete(conn);
  }

  private addIdle(ex: Exchange, idle: NonNullable<Exchange['idle']>): void {
    this.idles++;
    for (const [type, n] of Object.entries(ex.untaggedByType)) this.pushed[type] = (this.pushed[type] ?? 0) + n;
    if (ex.continuationAt && idle.doneAt) this.idleMs.push(ms(ex.continuationAt, idle.doneAt));
    if (idle.firstPushAt) {
      if (idle.doneAt) this.toDone.push(ms(idle.firstPushAt, idle.doneAt));
      this.awaitingNext.set(ex.conn, idle.firstPushAt);
    }
  }

  private addTurn(ex: Exchange): void {
    let t = this.turns.get(ex.command);
    if (!t) {
      t = { count: 0, withContinuation: 0, continuation: [], client: [], roundTrips: [] };
      this.turns.set(ex.command, t);
    }
    t.count++;
    t.roundTrips.push(ex.continuations);
    if (!ex.continuationAt || !ex.start) return;
    t.withContinuation++;
    t.continuation.push(Math.max(0, ms(ex.start, ex.continuationAt)));
    t.client.push(roundMs(ex.clientMs));
  }

  idle(): IdleSummary {
    const idleMs = sorted(this.idleMs);
    return {
      count: this.idles,
      medianMs: median(idleMs),
      longestMs: idleMs.length ? idleMs[idleMs.length - 1]! : null,
      pushed: { ...this.pushed },
      reactionToDoneMs: median(sorted(this.toDone)),
      reactionToNextCommandMs: median(sorted(this.toNext)),
    };
  }

  turnSummaries(): TurnSummary[] {
    return [...this.turns.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([command, t]) => ({
      command, count: t.count, withContinuation: t.withContinuation,
      continuationMs: median(sorted(t.continuation)), clientMs: median(sorted(t.client)), roundTrips: median(sorted(t.roundTrips)),
    }));
  }
}

function ms(from: TimePoint, to: TimePoint): number {
  return roundMs(secondsBetween(from, to) * 1e3);
}

function sorted(values: readonly number[]): number[] {
  return [...values].sort((a, b) => a - b);
}

function median(sortedValues: readonly number[]): number | null {
  return percentile(sortedValues, 50);
}
