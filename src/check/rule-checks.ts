/**
 * Each rule as a check that follows one capture as it streams: it sees each selected exchange in request order and
 * each connection once the connection ended and its last exchange went by (drained). It keeps counts, its first
 * failures in order, and what it needs of a connection until the connection is drained: never the exchanges, and
 * nothing per connection that has drained (max-connections and max-concurrent read the lifetimes the checker keeps).
 */
import { lifetimeEvents } from '../analysis/concurrency.js';
import { latencyMs, percentile } from '../analysis/stats.js';
import type { Exchange, ImapConnection } from '../imap/model.js';
import type { TimePoint } from '../tcp/types.js';
import { atMostNamed, NAMED_AT_MOST } from '../util/named.js';
import { compareTime } from '../util/time.js';
import { float64List, listValues, pushValue } from '../util/typed-list.js';
import type { SelectedConnections } from './ended-connections.js';
import { CaptureFailures, FirstInOrder, listed, placeOf, plural, type ExchangePlace } from './failures.js';
import { MAX_FAILURES, type CaptureOutcome, type Failure, type LatencyStat, type Rule } from './types.js';

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

/** Rules that read the connections' lifetimes. */
export function needsLifetimes(rule: Rule): boolean {
  return rule.kind === 'max-connections' || rule.kind === 'max-concurrent';
}

export function statName(stat: LatencyStat): string {
  return stat.kind === 'max' ? 'max' : `p${stat.p}`;
}

export function ruleCheck(rule: Rule): RuleCheck {
  switch (rule.kind) {
    case 'max-connections': return maxConnections(rule.max);
    case 'max-concurrent': return maxConcurrent(rule.max);
    case 'no-bad': return new StatusCheck('BAD', []);
    case 'no-no': return new StatusCheck('NO', rule.except);
    case 'all-completed': return new CompletionCheck();
    case 'no-plaintext-auth': return new PlaintextAuthCheck();
    case 'latency': return new LatencyCheck(rule);
    case 'require-command': return new RequireCommandCheck(rule.command);
    case 'forbid-command': return new ForbidCommandCheck(rule.command);
    case 'require-capability': return new CapabilityCheck(rule.capability);
    case 'sequence': return new SequenceCheck(rule);
  }
}

function frames(ex: ExchangePlace): string {
  const req = ex.requestFrame !== null ? `frame ${ex.requestFrame}` : 'request not captured';
  return ex.responseFrame !== null ? `${req}, response frame ${ex.responseFrame}` : req;
}

function maxConnections(max: number): RuleCheck {
  return {
    outcome({ failures: f, lifetimes }) {
      const conns = lifetimes!;
      const n = conns.count;
      const message = `${plural(n, 'IMAP connection')} (at most ${max} allowed)`;
      if (n <= max) return f.outcome(true, message);
      const order = conns.byStart();
      const failures: Failure[] = [];
      for (let k = max; k < Math.min(n, max + MAX_FAILURES); k++) {
        const i = order[k]!;
        failures.push(f.connection(conns.id(i), conns.firstFrame(i), `connection number ${k + 1} (at most ${max} allowed), opened at frame ${conns.firstFrame(i)}`));
      }
      return f.outcome(false, message, failures, n - max);
    },
  };
}

function maxConcurrent(max: number): RuleCheck {
  return {
    outcome({ failures: f, lifetimes }) {
      const conns = lifetimes!;
      // One sweep, as concurrency() counts the peak: at equal times a start before an end, each open until its openUntil.
      const open = new Set<number>();
      const failures: Failure[] = [];
      let peak = 0;
      let count = 0;
      for (const event of lifetimeEvents(conns.lifetimes)) {
        const i = event >>> 1;
        if (event & 1) {
          open.delete(i);
          continue;
        }
        open.add(i);
        peak = Math.max(peak, open.size);
        if (open.size <= max) continue;
        // Only the failures listed are worded: with thousands open, naming everyone for everyone was quadratic.
        if (count++ < MAX_FAILURES) failures.push(f.connection(conns.id(i), conns.firstFrame(i), `opened at frame ${conns.firstFrame(i)} while ${openOthers(open, i, conns)} open (${open.size} at once)`));
      }
      const message = `${plural(peak, 'connection')} open at once at the peak (at most ${max} allowed)`;
      if (peak <= max) return f.outcome(true, message);
      return f.outcome(false, `${message}; ${plural(count, 'connection')} opened over the bound${listed(count)}`, failures, count);
    },
  };
}

/** `connection 3 was` / `connections 1, 2, … and N more were`: the lowest ids of those open besides the i-th. */
function openOthers(open: ReadonlySet<number>, self: number, conns: SelectedConnections): string {
  // Indices are in order of id: the lowest ids are the lowest indices, kept sorted in one pass over those open.
  const lowest: number[] = [];
  for (const o of open) {
    if (o === self || (lowest.length === NAMED_AT_MOST && o > lowest[NAMED_AT_MOST - 1]!)) continue;
    let at = lowest.length;
    while (at > 0 && lowest[at - 1]! > o) at--;
    lowest.splice(at, 0, o);
    if (lowest.length > NAMED_AT_MOST) lowest.pop();
  }
  const others = open.size - 1;
  return `${others === 1 ? 'connection' : 'connections'} ${atMostNamed(lowest.map((o) => conns.id(o)), others)} ${others === 1 ? 'was' : 'were'}`;
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

class StatusCheck implements RuleCheck {
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

class CompletionCheck implements RuleCheck {
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

/** An exchange's place per connection, held until the connection is drained. */
class PlacePerConnection {
  private readonly places = new Map<number, ExchangePlace>();

  /** Take this exchange's place, unless one is held already and `replace` is false. */
  take(ex: Exchange, replace: boolean): void {
    if (replace || !this.places.has(ex.conn)) this.places.set(ex.conn, placeOf(ex));
  }

  /** The place held for a drained connection, given up. */
  release(id: number): ExchangePlace | undefined {
    const place = this.places.get(id);
    this.places.delete(id);
    return place;
  }
}

/** A connection a rule fails at: where to point, found when it drained. */
interface FailedConnection {
  id: number;
  firstFrame: number;
  place: ExchangePlace | undefined;
}

const byId = (a: { id: number }, b: { id: number }) => a.id - b.id;

class PlaintextAuthCheck implements RuleCheck {
  /** Each connection's first LOGIN or AUTHENTICATE. */
  private readonly auth = new PlacePerConnection();
  private readonly cleartext = new FirstInOrder<FailedConnection & { what: string }>(byId);

  exchange(ex: Exchange): void {
    if (ex.command === 'LOGIN' || ex.command === 'AUTHENTICATE') this.auth.take(ex, false);
  }

  drained(c: ImapConnection, counts: boolean): void {
    const place = this.auth.release(c.conn.id);
    if (!counts || !c.cleartextAuth) return;
    const what = `${c.authMechanism ?? 'credentials'} sent without TLS${c.user !== null ? ` (user ${c.user})` : ''}`;
    this.cleartext.offer({ id: c.conn.id, firstFrame: c.conn.firstFrame, place, what });
  }

  outcome({ failures: f, connections }: CheckEnd): CaptureOutcome {
    const n = this.cleartext.count;
    const message = n === 0
      ? `no clear-text authentication in ${plural(connections, 'connection')}`
      : `clear-text authentication on ${plural(n, 'connection')}`;
    const failures = this.cleartext.first.map((c) => (c.place ? f.exchange(c.place, c.what) : f.connection(c.id, c.firstFrame, c.what)));
    return f.outcome(n === 0, message, failures, n);
  }
}

function fmtMs(ms: number): string {
  return `${Number(ms.toFixed(3))} ms`;
}

class LatencyCheck implements RuleCheck {
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

class RequireCommandCheck implements RuleCheck {
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

class ForbidCommandCheck implements RuleCheck {
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

class CapabilityCheck implements RuleCheck {
  private readonly wanted: string;
  /** Each connection's last exchange its capabilities came from. */
  private readonly source = new PlacePerConnection();
  /** Connections whose server announced capabilities. */
  private visible = 0;
  private readonly lacking = new FirstInOrder<FailedConnection & { greetingFrame: number | null }>(byId);

  constructor(private readonly capability: string) {
    this.wanted = capability.toUpperCase();
  }

  exchange(ex: Exchange): void {
    if (ex.command === 'CAPABILITY' || (ex.code?.toUpperCase().startsWith('CAPABILITY ') ?? false)) this.source.take(ex, true);
  }

  drained(c: ImapConnection, counts: boolean): void {
    const place = this.source.release(c.conn.id);
    if (!counts || c.capabilities.length === 0) return;
    this.visible++;
    if (c.capabilities.some((cap) => cap.toUpperCase() === this.wanted)) return;
    this.lacking.offer({ id: c.conn.id, firstFrame: c.conn.firstFrame, place, greetingFrame: c.greeting?.frame ?? null });
  }

  outcome({ failures: f, connections }: CheckEnd): CaptureOutcome {
    const { capability, visible } = this;
    if (visible === 0) {
      const message = `no server capabilities visible in ${plural(connections, 'connection')} (encrypted or not captured)`;
      return f.outcome(false, message, [f.whole(message)]);
    }
    const n = this.lacking.count;
    const hidden = connections - visible;
    const note = hidden ? `; ${plural(hidden, 'connection')} without visible capabilities not checked` : '';
    if (n === 0) return f.outcome(true, `${capability} announced on ${plural(visible, 'connection')}${note}`);
    const detail = `the server did not announce ${capability}`;
    const failures = this.lacking.first.map((c) => {
      // Point at the last place the connection's capabilities came from.
      if (c.place) return f.exchange(c.place, `${detail} (capabilities from this exchange)`);
      if (c.greetingFrame !== null) return { ...f.connection(c.id, c.firstFrame, `${detail} (greeting, frame ${c.greetingFrame})`), responseFrame: c.greetingFrame };
      return f.connection(c.id, c.firstFrame, detail);
    });
    return f.outcome(false, `${capability} missing on ${plural(n, 'connection')} of ${visible}${note}`, failures, n);
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

class SequenceCheck implements RuleCheck {
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
