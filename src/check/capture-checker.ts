/**
 * Every rule on one capture as it streams: exchanges go to the rules as they come, connections once they are drained
 * (ended, their last exchange gone by), and the outcomes are made once the capture is over. Nothing here reads packets
 * or keeps exchanges; per connection that ended, only its lifetime when a rule reads lifetimes.
 */
import { isUnreadable } from '../analysis/visibility.js';
import type { Exchange, ImapConnection } from '../imap/model.js';
import type { LateChanges } from '../tcp/types.js';
import { EndedConnections } from './ended-connections.js';
import { CaptureFailures, FirstInOrder, plural } from './failures.js';
import type { RuleCheck } from './rule-check.js';
import { needsLifetimes, ruleCheck } from './rule-checks.js';
import type { CaptureOutcome, EvaluateOptions, Rule } from './types.js';

/** Rules that are about commands and responses, which TLS without keys hides. */
const NEEDS_COMMANDS: ReadonlySet<Rule['kind']> = new Set<Rule['kind']>([
  'no-bad', 'no-no', 'all-completed', 'latency', 'require-command', 'forbid-command', 'sequence',
]);

/** A connection whose IMAP stayed encrypted. */
interface Hidden {
  id: number;
  firstFrame: number;
  tlsFrame: number;
}

export class CaptureChecker {
  private readonly checks: RuleCheck[];
  /** The lifetimes of the connections that may count, when a rule reads them. */
  private readonly lifetimes: EndedConnections | null;
  private readonly hidden = new FirstInOrder<Hidden>((a, b) => a.id - b.id);
  private connections = 0;
  private exchanges = 0;

  constructor(private readonly rules: readonly Rule[], private readonly options: EvaluateOptions = {}) {
    this.checks = rules.map(ruleCheck);
    this.lifetimes = rules.some(needsLifetimes) ? new EndedConnections() : null;
  }

  /** A selected exchange, in request order. */
  exchange(ex: Exchange, conn: ImapConnection): void {
    this.exchanges++;
    for (const check of this.checks) check.exchange?.(ex, conn);
  }

  /**
   * A connection ended: its end, which `settle` gives later unless `settled`. `mayCount`: false when it is certainly not
   * selected; whether one that may be is, finish() asks.
   */
  ended(c: ImapConnection, mayCount: boolean, settled = false): void {
    if (mayCount) this.lifetimes?.add(c.conn, settled);
  }

  /** StreamSink.retired. */
  readonly settle = (late: LateChanges): void => this.lifetimes?.settle(late);

  /** A connection ended and each of its exchanges went by; `counts`: it is selected. */
  drained(c: ImapConnection, counts: boolean): void {
    for (const check of this.checks) check.drained?.(c, counts);
    if (!counts) return;
    this.connections++;
    if (isUnreadable(c)) this.hidden.offer({ id: c.conn.id, firstFrame: c.conn.firstFrame, tlsFrame: c.tls!.frame });
  }

  /** Each rule's outcome; the lifetimes are those of the connections `keep` accepts (with -Y: those selected). */
  finish(capture: string, keep: (id: number) => boolean = () => true): CaptureOutcome[] {
    const failures = new CaptureFailures(capture);
    const end = { failures, connections: this.connections, lifetimes: this.lifetimes?.selected(keep) ?? null, exchanges: this.exchanges };
    return this.rules.map((rule, i) => (!this.options.allowEncrypted && NEEDS_COMMANDS.has(rule.kind) && this.hidden.count > 0
      ? this.unverifiable(failures)
      : this.checks[i]!.outcome(end)));
  }

  /** A rule about commands on a capture whose commands were (partly) encrypted: fail, and say why. */
  private unverifiable(f: CaptureFailures): CaptureOutcome {
    const n = this.hidden.count;
    const failures = this.hidden.first.map((h) => f.connection(h.id, h.firstFrame, `TLS without keys from frame ${h.tlsFrame}: its commands could not be read`));
    const message = `cannot be checked: ${n} of ${plural(this.connections, 'IMAP connection')} TLS-encrypted without keys; ` +
      '--keylog (or secrets in a pcapng) would show their commands, --allow-encrypted checks only what is visible';
    return f.outcome(false, message, failures, n);
  }
}
