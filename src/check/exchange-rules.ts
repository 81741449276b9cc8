/** The rules about exchanges: statuses, completion, latency, commands sent, sequences of commands in a connection. */
import { latencyMs, percentile } from '../analysis/stats.js';
import type { Exchange, ImapConnection } from '../imap/model.js';
import type { TimePoint } from '../tcp/types.js';
import { atMostNamed, NAMED_AT_MOST } from '../util/named.js';
import { compareTime } from '../util/time.js';
import { float64List, listValues, pushValue } from '../util/typed-list.js';
import { CaptureFailures, FirstInOrder, listed, placeOf, plural, type ExchangePlace } from './failures.js';
import type { CheckEnd, RuleCheck } from './rule-check.js';
import { MAX_FAILURES, statName, type CaptureOutcome, type Failure, type Rule } from './types.js';

function frames(ex: ExchangePlace): string {
  const req = ex.requestFrame !== null ? `frame ${ex.requestFrame}` : 'request not captured';
  return ex.responseFrame !== null ? `${req}, response frame ${ex.responseFrame}` : req;
}

/** Exchanges of one kind: how many, and the first MAX_FAILURES of them as failures. */
class Counted {
  count = 0;
  readonly first: { place: ExchangePlace; detail: string }[] = [];

  add(ex: Exchange, detail: () => string): void {
    if (this.count++ < MAX_FAILURES) this.first.push({ place: placeOf(ex), detail: detail() });
  }

  failures(f: CaptureFailures): Failure[] {
    return this.first.map((x) => f.exchange(x.place, x.detail));
  }
}

export class StatusCheck implements RuleCheck {
  private hits = 0;
  private readonly counted = new Counted();

  constructor(private readonly status: 'BAD' | 'NO', private readonly except: readonly string[]) {}

  exchange(ex: Exchange): void {
    if (ex.status !== this.status) return;
    this.hits++;
    if (!this.except.includes(ex.command)) this.counted.add(ex, () => `${this.status}${ex.code ? ` [${ex.code}]` : ''}${ex.text ? ` ${ex.text}` : ''}`);
  }

  outcome({ failures: f, exchanges }: CheckEnd): CaptureOutcome {
    const { status } = this;
    const n = this.counted.count;
    const allowed = this.hits - n;
    const note = allowed ? ` (${allowed} ${status} to ${this.except.join(', ')} allowed)` : '';
    const message = n === 0 ? `no ${status} response in ${plural(exchanges, 'command')}${note}` : `${plural(n, `${status} response`)}${listed(n)}${note}`;
    return f.outcome(n === 0, message, this.counted.failures(f), n);
  }
}

export class CompletionCheck implements RuleCheck {
  private readonly open = new Counted();

  exchange(ex: Exchange): void {
    if (ex.status === null) this.open.add(ex, () => 'no tagged response in the capture');
  }

  outcome({ failures: f, exchanges }: CheckEnd): CaptureOutcome {
    const n = this.open.count;
    const message = n === 0 ? `all ${plural(exchanges, 'command')} completed` : `${plural(n, 'command')} without a tagged response${listed(n)}`;
    return f.outcome(n === 0, message, this.open.failures(f), n);
  }
}

function fmtMs(ms: number): string {
  return `${Number(ms.toFixed(3))} ms`;
}

export class LatencyCheck implements RuleCheck {
  /** Every measured latency of the command (8 bytes each, outside the collected heap), for the percentile. */
  private readonly measured = float64List();
  private seen = 0;
  /** The slowest over the bound, slowest first (ties in request order). */
  private readonly slow = new FirstInOrder<{ ms: number; seq: number; place: ExchangePlace }>((a, b) => b.ms - a.ms || a.seq - b.seq);

  constructor(private readonly rule: Extract<Rule, { kind: 'latency' }>) {}

  exchange(ex: Exchange): void {
    if (ex.command !== this.rule.command) return;
    const ms = latencyMs(ex);
    if (ms === null) return;
    pushValue(this.measured, ms);
    if (ms > this.rule.maxMs) this.slow.offer({ ms, seq: this.seen, place: placeOf(ex) });
    this.seen++;
  }

  outcome({ failures: f }: CheckEnd): CaptureOutcome {
    const { rule } = this;
    if (this.measured.size === 0) return f.outcome(true, `no ${rule.command} with a measured latency`);
    const sorted = listValues(this.measured).sort();
    const value = rule.stat.kind === 'max' ? sorted[sorted.length - 1]! : percentile(sorted, rule.stat.p)!;
    const message = `${rule.command} ${statName(rule.stat)} ${fmtMs(value)} over ${plural(sorted.length, 'command')} (at most ${fmtMs(rule.maxMs)} allowed)`;
    if (value <= rule.maxMs) return f.outcome(true, message);
    const n = this.slow.count;
    const failures = this.slow.first.map((x) => f.exchange(x.place, `took ${fmtMs(x.ms)} > ${fmtMs(rule.maxMs)}`));
    return f.outcome(false, `${message}; ${plural(n, 'command')} over the bound${listed(n)}`, failures, n);
  }
}

export class RequireCommandCheck implements RuleCheck {
  private count = 0;
  private first: ExchangePlace | null = null;

  constructor(private readonly command: string) {}

  exchange(ex: Exchange): void {
    if (ex.command !== this.command) return;
    if (this.count++ === 0) this.first = placeOf(ex);
  }

  outcome({ failures: f, connections }: CheckEnd): CaptureOutcome {
    const { command, first } = this;
    if (first) return f.outcome(true, `${command} sent ${plural(this.count, 'time')} (first in connection ${first.conn}, ${frames(first)})`);
    const message = `no ${command} in ${plural(connections, 'connection')}`;
    return f.outcome(false, message, [f.whole(message)]);
  }
}

export class ForbidCommandCheck implements RuleCheck {
  private readonly found = new Counted();

  constructor(private readonly command: string) {}

  exchange(ex: Exchange): void {
    if (ex.command === this.command) this.found.add(ex, () => `${this.command} sent`);
  }

  outcome({ failures: f }: CheckEnd): CaptureOutcome {
    const n = this.found.count;
    if (n === 0) return f.outcome(true, `no ${this.command}`);
    return f.outcome(false, `${this.command} sent ${plural(n, 'time')}${listed(n)}`, this.found.failures(f), n);
  }
}

/** How far one connection got into a sequence: the exchanges matched, greedily, in order. */
interface SequenceMatch {
  id: number;
  start: TimePoint;
  matched: ExchangePlace[];
}

function describeMatch(matched: readonly ExchangePlace[]): string {
  return matched.map((e) => `${e.tag ?? '?'} ${e.command} (frame ${e.requestFrame ?? e.responseFrame ?? '?'})`).join(' > ');
}

/** Earlier start first, then lower id: the order connections are reported in. */
const byStart = (a: SequenceMatch, b: SequenceMatch) => compareTime(a.start, b.start) || a.id - b.id;

export class SequenceCheck implements RuleCheck {
  /** Connections not drained yet that matched at least the sequence's first command. */
  private readonly open = new Map<number, SequenceMatch>();
  /** Drained connections with the whole sequence: the first in order, and how many. */
  private readonly full = new FirstInOrder<SequenceMatch>(byStart);
  /** The longest partial match, the earliest connection among equals. */
  private best: SequenceMatch | null = null;

  constructor(private readonly rule: Extract<Rule, { kind: 'sequence' }>) {}

  exchange(ex: Exchange, conn: ImapConnection): void {
    const wanted = this.rule.commands;
    let m = this.open.get(ex.conn);
    if (m && m.matched.length === wanted.length) return;
    if (ex.command !== wanted[m?.matched.length ?? 0]) return;
    if (!m) this.open.set(ex.conn, (m = { id: ex.conn, start: conn.conn.start, matched: [] }));
    m.matched.push(placeOf(ex));
  }

  drained(c: ImapConnection, counts: boolean): void {
    const m = this.open.get(c.conn.id);
    if (!m) return;
    this.open.delete(c.conn.id);
    if (!counts) return;
    if (m.matched.length === this.rule.commands.length) this.full.offer(m);
    else if (!this.best || m.matched.length > this.best.matched.length || (m.matched.length === this.best.matched.length && byStart(m, this.best) < 0)) this.best = m;
  }

  outcome({ failures: f, connections }: CheckEnd): CaptureOutcome {
    const { rule, best } = this;
    const seq = rule.commands.join(' > ');
    const n = this.full.count;
    if (rule.present) {
      if (n) {
        const m = this.full.first[0]!;
        return f.outcome(true, `${seq} in connection ${m.id}${n > 1 ? ` and ${plural(n - 1, 'other')}` : ''}: ${describeMatch(m.matched)}`);
      }
      if (!best) {
        const message = `${seq} in no connection (not even ${rule.commands[0]})`;
        return f.outcome(false, message, [f.whole(message)]);
      }
      const last = best.matched[best.matched.length - 1]!;
      const missing = rule.commands[best.matched.length]!;
      const message = `${seq} in no connection; longest start in connection ${best.id}: ${describeMatch(best.matched)}, then no ${missing}`;
      return f.outcome(false, message, [f.exchange(last, `${describeMatch(best.matched)}, then no ${missing}`)]);
    }
    if (n === 0) return f.outcome(true, `${seq} in none of ${plural(connections, 'connection')}`);
    const failures = this.full.first.map((m) => f.exchange(m.matched[m.matched.length - 1]!, `forbidden sequence: ${describeMatch(m.matched)}`));
    const named = this.full.first.slice(0, NAMED_AT_MOST).map((m) => m.id);
    return f.outcome(false, `${seq} in ${n === 1 ? 'connection' : 'connections'} ${atMostNamed(named, n)}`, failures, n);
  }
}
