/**
 * What a rule is while one capture streams: it sees each selected exchange in request order and each connection once
 * the connection ended and its last exchange went by (drained). It keeps counts, its first failures in order, and
 * what it needs of a connection until the connection is drained: never the exchanges, and nothing per connection that
 * has drained (max-connections and max-concurrent read the lifetimes the checker keeps).
 */
import type { Exchange, ImapConnection } from '../imap/model.js';
import type { SelectedConnections } from './ended-connections.js';
import type { CaptureFailures } from './failures.js';
import type { CaptureOutcome } from './types.js';

/** What a check knows once the capture is over. */
export interface CheckEnd {
  failures: CaptureFailures;
  /** How many connections the check counts (with -Y, those selected). */
  connections: number;
  /** Their lifetimes, when a rule asked for them (needsLifetimes). */
  lifetimes: SelectedConnections | null;
  /** How many exchanges it was shown. */
  exchanges: number;
}

export interface RuleCheck {
  exchange?(ex: Exchange, conn: ImapConnection): void;
  /**
   * A connection ended and each of its exchanges has been shown; its record is final but for its end. `counts`: it
   * is one the check counts (with -Y, selected).
   */
  drained?(c: ImapConnection, counts: boolean): void;
  outcome(end: CheckEnd): CaptureOutcome;
}
