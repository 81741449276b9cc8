/**
 * `imapscope check`: assertions about a protocol trace, evaluated over the analysis model only
 * (CaptureAnalysis with its exchanges kept), never over packets. Everything here is pure.
 */
import type { CaptureAnalysis } from '../analysis/analyzer.js';
import { concurrency } from '../analysis/concurrency.js';
import { latencyMs, percentile } from '../analysis/stats.js';
import type { Exchange, ImapConnection } from '../imap/model.js';
import { atMostNamed, NAMED_AT_MOST } from '../util/named.js';
import { compareTime } from '../util/time.js';
import { isUnreadable } from '../analysis/visibility.js';

/** A latency statistic: a nearest-rank percentile (1–100) or the maximum. */
export type LatencyStat = { kind: 'percentile'; p: number } | { kind: 'max' };

export type Rule =
  | { kind: 'max-connections'; max: number }
  | { kind: 'max-concurrent'; max: number }
  | { kind: 'no-bad' }
  /** No NO response, except to the commands listed (normalised names). */
  | { kind: 'no-no'; except: string[] }
  | { kind: 'all-completed' }
  | { kind: 'no-plaintext-auth' }
  | { kind: 'latency'; command: string; stat: LatencyStat; maxMs: number }
  | { kind: 'require-command'; command: string }
  | { kind: 'forbid-command'; command: string }
  | { kind: 'require-capability'; capability: string }
  /** An ordered subsequence of command names that must (present) or must not appear in some connection. */
  | { kind: 'sequence'; commands: string[]; present: boolean; name?: string };

/** One place in the capture where a rule does not hold; frames are Wireshark's frame.number. */
export interface Failure {
  capture: string;
  /** Connection id (Wireshark tcp.stream), or null for a failure of the capture as a whole. */
  conn: number | null;
  tag: string | null;
  command: string | null;
  /** The command's request frame; for a connection-level failure, the connection's first frame. */
  requestFrame: number | null;
  responseFrame: number | null;
  detail: string;
}

/** How one rule fared on one capture. */
export interface CaptureOutcome {
  capture: string;
  passed: boolean;
  message: string;
  /** At most MAX_FAILURES per capture and rule; `failureCount` has the full number. */
  failures: Failure[];
  failureCount: number;
}

export interface RuleResult {
  rule: string;
  kind: Rule['kind'];
  passed: boolean;
  message: string;
  failures: Failure[];
  /** Per capture (the JUnit report has one test suite per capture). */
  captures: CaptureOutcome[];
}

export interface CheckReport {
  passed: boolean;
  captures: string[];
  results: RuleResult[];
}

/** Failures listed per rule and capture; more are counted, not listed. */
export const MAX_FAILURES = 100;

/** Command names compare upper case with single spaces ("uid  fetch" → "UID FETCH"). */
export function normalizeCommand(name: string): string {
  return name.trim().replace(/\s+/g, ' ').toUpperCase();
}

export function statName(stat: LatencyStat): string {
  return stat.kind === 'max' ? 'max' : `p${stat.p}`;
}

/** The rule's stable, readable name (the JSON `rule`, the JUnit test case name). */
export function ruleName(rule: Rule): string {
  switch (rule.kind) {
    case 'max-connections': return `max-connections ${rule.max}`;
    case 'max-concurrent': return `max-concurrent ${rule.max}`;
    case 'no-bad': return 'no-bad';
    case 'no-no': return rule.except.length ? `no-no except ${rule.except.join(', ')}` : 'no-no';
    case 'all-completed': return 'all-completed';
    case 'no-plaintext-auth': return 'no-plaintext-auth';
    case 'latency': return `latency ${rule.command} ${statName(rule.stat)} <= ${rule.maxMs} ms`;
    case 'require-command': return `require-command ${rule.command}`;
    case 'forbid-command': return `forbid-command ${rule.command}`;
    case 'require-capability': return `require-capability ${rule.capability}`;
    case 'sequence': {
      const seq = rule.commands.join(' > ');
      return `${rule.present ? 'require' : 'forbid'}-sequence ${rule.name ? `${rule.name} (${seq})` : seq}`;
    }
  }
}

export interface EvaluateOptions {
  /**
   * Let rules about commands pass on what could be seen when some connections were TLS without keys.
   * By default such a rule fails: it cannot vouch for commands it could not read.
   */
  allowEncrypted?: boolean;
}

/** Rules that are about commands and responses, which TLS without keys hides. */
const NEEDS_COMMANDS: ReadonlySet<Rule['kind']> = new Set<Rule['kind']>([
  'no-bad', 'no-no', 'all-completed', 'latency', 'require-command', 'forbid-command', 'sequence',
]);

/** Evaluate every rule on every capture; a rule passes when it holds in each capture. */
export function evaluate(rules: readonly Rule[], analyses: readonly CaptureAnalysis[], options: EvaluateOptions = {}): CheckReport {
  const results = rules.map((rule): RuleResult => {
    const captures = analyses.map((a) => (!options.allowEncrypted && NEEDS_COMMANDS.has(rule.kind) && hiddenConnections(a).length > 0
      ? unverifiable(a)
      : evaluateRule(rule, a)));
    const passed = captures.every((c) => c.passed);
    const message = captures.length === 1
      ? captures[0]!.message
      : captures.map((c) => `${c.capture}: ${c.message}`).join('; ');
    return { rule: ruleName(rule), kind: rule.kind, passed, message, failures: captures.flatMap((c) => c.failures), captures };
  });
  return { passed: results.every((r) => r.passed), captures: analyses.map((a) => a.capture.path), results };
}

function hiddenConnections(a: CaptureAnalysis): ImapConnection[] {
  return a.connections.filter(isUnreadable);
}

/** A rule about commands on a capture whose commands were (partly) encrypted: fail, and say why. */
function unverifiable(a: CaptureAnalysis): CaptureOutcome {
  const hidden = hiddenConnections(a);
  const ctx = new Context(a);
  const failures = hidden.map((c) => ctx.connFailure(c, `TLS without keys from frame ${c.tls!.frame}: its commands could not be read`));
  const message = `cannot be checked: ${hidden.length} of ${plural(a.connections.length, 'IMAP connection')} TLS-encrypted without keys; ` +
    '--keylog (or secrets in a pcapng) would show their commands, --allow-encrypted checks only what is visible';
  return ctx.outcome(false, message, failures);
}

/** One rule on one capture. */
export function evaluateRule(rule: Rule, a: CaptureAnalysis): CaptureOutcome {
  const ctx = new Context(a);
  switch (rule.kind) {
    case 'max-connections': return maxConnections(ctx, rule.max);
    case 'max-concurrent': return maxConcurrent(ctx, rule.max);
    case 'no-bad': return statusRule(ctx, 'BAD', []);
    case 'no-no': return statusRule(ctx, 'NO', rule.except);
    case 'all-completed': return allCompleted(ctx);
    case 'no-plaintext-auth': return noPlaintextAuth(ctx);
    case 'latency': return latency(ctx, rule);
    case 'require-command': return requireCommand(ctx, rule.command);
    case 'forbid-command': return forbidCommand(ctx, rule.command);
    case 'require-capability': return requireCapability(ctx, rule.capability);
    case 'sequence': return sequence(ctx, rule);
  }
}

class Context {
  readonly capture: string;
  readonly exchanges: readonly Exchange[];
  readonly connections: readonly ImapConnection[];

  constructor(readonly analysis: CaptureAnalysis) {
    if (!analysis.exchanges) throw new Error('check needs the exchanges: analyse with keepExchanges');
    this.capture = analysis.capture.path;
    this.exchanges = analysis.exchanges;
    this.connections = analysis.connections;
  }

  private byConn: Map<number, Exchange[]> | null = null;

  /** Exchanges of one connection, in request order. */
  ofConn(id: number): Exchange[] {
    if (!this.byConn) {
      this.byConn = new Map();
      for (const e of this.exchanges) {
        const list = this.byConn.get(e.conn);
        if (list) list.push(e);
        else this.byConn.set(e.conn, [e]);
      }
    }
    return this.byConn.get(id) ?? [];
  }

  exchangeFailure(ex: Exchange, detail: string): Failure {
    return { capture: this.capture, conn: ex.conn, tag: ex.tag, command: ex.command, requestFrame: ex.requestFrame, responseFrame: ex.responseFrame, detail };
  }

  connFailure(c: ImapConnection, detail: string): Failure {
    return { capture: this.capture, conn: c.conn.id, tag: null, command: null, requestFrame: c.conn.firstFrame, responseFrame: null, detail };
  }

  captureFailure(detail: string): Failure {
    return { capture: this.capture, conn: null, tag: null, command: null, requestFrame: null, responseFrame: null, detail };
  }

  /** `count`: how many failures there were, when only the first MAX_FAILURES were made. */
  outcome(passed: boolean, message: string, failures: Failure[] = [], count = failures.length): CaptureOutcome {
    return { capture: this.capture, passed, message, failures: failures.slice(0, MAX_FAILURES), failureCount: count };
  }
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

function listed(n: number): string {
  return n > MAX_FAILURES ? ` (first ${MAX_FAILURES} listed)` : '';
}

function frames(ex: Exchange): string {
  const req = ex.requestFrame !== null ? `frame ${ex.requestFrame}` : 'request not captured';
  return ex.responseFrame !== null ? `${req}, response frame ${ex.responseFrame}` : req;
}

function byStart(conns: readonly ImapConnection[]): ImapConnection[] {
  return [...conns].sort((x, y) => compareTime(x.conn.start, y.conn.start) || x.conn.id - y.conn.id);
}

function maxConnections(ctx: Context, max: number): CaptureOutcome {
  const conns = byStart(ctx.connections);
  const n = conns.length;
  const message = `${plural(n, 'IMAP connection')} (at most ${max} allowed)`;
  if (n <= max) return ctx.outcome(true, message);
  const failures = conns.slice(max).map((c, i) =>
    ctx.connFailure(c, `connection number ${max + i + 1} (at most ${max} allowed), opened at frame ${c.conn.firstFrame}`));
  return ctx.outcome(false, message, failures);
}

function maxConcurrent(ctx: Context, max: number): CaptureOutcome {
  const conns = ctx.connections;
  const peak = concurrency(conns.map((c) => c.conn)).max;
  const message = `${plural(peak, 'connection')} open at once at the peak (at most ${max} allowed)`;
  if (peak <= max) return ctx.outcome(true, message);
  // The same sweep as concurrency(): at equal times a start counts before an end.
  const events = conns.flatMap((c) => [{ c, t: c.conn.start, delta: 1 }, { c, t: c.conn.end, delta: -1 }]);
  events.sort((x, y) => compareTime(x.t, y.t) || y.delta - x.delta);
  const open = new Set<ImapConnection>();
  const failures: Failure[] = [];
  let count = 0;
  for (const e of events) {
    if (e.delta < 0) {
      open.delete(e.c);
      continue;
    }
    open.add(e.c);
    if (open.size <= max) continue;
    // Only the failures listed are worded: with thousands open, naming everyone for everyone was quadratic.
    if (count++ < MAX_FAILURES) failures.push(ctx.connFailure(e.c, `opened at frame ${e.c.conn.firstFrame} while ${openOthers(open, e.c)} open (${open.size} at once)`));
  }
  return ctx.outcome(false, `${message}; ${plural(count, 'connection')} opened over the bound${listed(count)}`, failures, count);
}

/** `connection 3 was` / `connections 1, 2, … and N more were`: the lowest ids of those open besides `c`. */
function openOthers(open: ReadonlySet<ImapConnection>, c: ImapConnection): string {
  // The lowest ids, kept sorted: one pass over the open connections, not a sort of them all.
  const lowest: number[] = [];
  for (const o of open) {
    const id = o.conn.id;
    if (o === c || (lowest.length === NAMED_AT_MOST && id > lowest[NAMED_AT_MOST - 1]!)) continue;
    let at = lowest.length;
    while (at > 0 && lowest[at - 1]! > id) at--;
    lowest.splice(at, 0, id);
    if (lowest.length > NAMED_AT_MOST) lowest.pop();
  }
  const others = open.size - 1;
  return `${others === 1 ? 'connection' : 'connections'} ${atMostNamed(lowest, others)} ${others === 1 ? 'was' : 'were'}`;
}

function statusRule(ctx: Context, status: 'BAD' | 'NO', except: readonly string[]): CaptureOutcome {
  const hits = ctx.exchanges.filter((e) => e.status === status);
  const counted = hits.filter((e) => !except.includes(e.command));
  const allowed = hits.length - counted.length;
  const note = allowed ? ` (${allowed} ${status} to ${except.join(', ')} allowed)` : '';
  const message = counted.length === 0
    ? `no ${status} response in ${plural(ctx.exchanges.length, 'command')}${note}`
    : `${plural(counted.length, `${status} response`)}${listed(counted.length)}${note}`;
  const failures = counted.map((e) => ctx.exchangeFailure(e, `${status}${e.code ? ` [${e.code}]` : ''}${e.text ? ` ${e.text}` : ''}`));
  return ctx.outcome(counted.length === 0, message, failures);
}

function allCompleted(ctx: Context): CaptureOutcome {
  const open = ctx.exchanges.filter((e) => e.status === null);
  const message = open.length === 0
    ? `all ${plural(ctx.exchanges.length, 'command')} completed`
    : `${plural(open.length, 'command')} without a tagged response${listed(open.length)}`;
  const failures = open.map((e) => ctx.exchangeFailure(e, 'no tagged response in the capture'));
  return ctx.outcome(open.length === 0, message, failures);
}

function noPlaintextAuth(ctx: Context): CaptureOutcome {
  const bad = ctx.connections.filter((c) => c.cleartextAuth);
  const message = bad.length === 0
    ? `no clear-text authentication in ${plural(ctx.connections.length, 'connection')}`
    : `clear-text authentication on ${plural(bad.length, 'connection')}`;
  const failures = bad.map((c) => {
    const what = `${c.authMechanism ?? 'credentials'} sent without TLS${c.user !== null ? ` (user ${c.user})` : ''}`;
    const auth = ctx.ofConn(c.conn.id).find((e) => e.command === 'LOGIN' || e.command === 'AUTHENTICATE');
    return auth ? ctx.exchangeFailure(auth, what) : ctx.connFailure(c, what);
  });
  return ctx.outcome(bad.length === 0, message, failures);
}

function fmtMs(ms: number): string {
  return `${Number(ms.toFixed(3))} ms`;
}

function latency(ctx: Context, rule: Extract<Rule, { kind: 'latency' }>): CaptureOutcome {
  const measured = ctx.exchanges
    .filter((e) => e.command === rule.command)
    .map((e) => ({ e, ms: latencyMs(e) }))
    .filter((x): x is { e: Exchange; ms: number } => x.ms !== null);
  const stat = statName(rule.stat);
  if (measured.length === 0) return ctx.outcome(true, `no ${rule.command} with a measured latency`);
  const sorted = measured.map((x) => x.ms).sort((x, y) => x - y);
  const value = rule.stat.kind === 'max' ? sorted[sorted.length - 1]! : percentile(sorted, rule.stat.p)!;
  const message = `${rule.command} ${stat} ${fmtMs(value)} over ${plural(sorted.length, 'command')} (at most ${fmtMs(rule.maxMs)} allowed)`;
  if (value <= rule.maxMs) return ctx.outcome(true, message);
  const slow = measured.filter((x) => x.ms > rule.maxMs).sort((x, y) => y.ms - x.ms);
  const failures = slow.map((x) => ctx.exchangeFailure(x.e, `took ${fmtMs(x.ms)} > ${fmtMs(rule.maxMs)}`));
  return ctx.outcome(false, `${message}; ${plural(slow.length, 'command')} over the bound${listed(slow.length)}`, failures);
}

function requireCommand(ctx: Context, command: string): CaptureOutcome {
  const found = ctx.exchanges.filter((e) => e.command === command);
  if (found.length) {
    return ctx.outcome(true, `${command} sent ${plural(found.length, 'time')} (first in connection ${found[0]!.conn}, ${frames(found[0]!)})`);
  }
  const message = `no ${command} in ${plural(ctx.connections.length, 'connection')}`;
  return ctx.outcome(false, message, [ctx.captureFailure(message)]);
}

function forbidCommand(ctx: Context, command: string): CaptureOutcome {
  const found = ctx.exchanges.filter((e) => e.command === command);
  if (found.length === 0) return ctx.outcome(true, `no ${command}`);
  const failures = found.map((e) => ctx.exchangeFailure(e, `${command} sent`));
  return ctx.outcome(false, `${command} sent ${plural(found.length, 'time')}${listed(found.length)}`, failures);
}

function requireCapability(ctx: Context, capability: string): CaptureOutcome {
  const wanted = capability.toUpperCase();
  const visible = ctx.connections.filter((c) => c.capabilities.length > 0);
  if (visible.length === 0) {
    const message = `no server capabilities visible in ${plural(ctx.connections.length, 'connection')} (encrypted or not captured)`;
    return ctx.outcome(false, message, [ctx.captureFailure(message)]);
  }
  const lacking = visible.filter((c) => !c.capabilities.some((cap) => cap.toUpperCase() === wanted));
  const hidden = ctx.connections.length - visible.length;
  const note = hidden ? `; ${plural(hidden, 'connection')} without visible capabilities not checked` : '';
  if (lacking.length === 0) return ctx.outcome(true, `${capability} announced on ${plural(visible.length, 'connection')}${note}`);
  const failures = lacking.map((c) => {
    const detail = `the server did not announce ${capability}`;
    // Point at the last place the connection's capabilities came from.
    const source = ctx.ofConn(c.conn.id).filter((e) => e.command === 'CAPABILITY' || (e.code?.toUpperCase().startsWith('CAPABILITY ') ?? false)).pop();
    if (source) return ctx.exchangeFailure(source, `${detail} (capabilities from this exchange)`);
    if (c.greeting) return { ...ctx.connFailure(c, `${detail} (greeting, frame ${c.greeting.frame})`), responseFrame: c.greeting.frame };
    return ctx.connFailure(c, detail);
  });
  return ctx.outcome(false, `${capability} missing on ${plural(lacking.length, 'connection')} of ${visible.length}${note}`, failures);
}

/** Greedy match of an ordered subsequence: the exchanges matched, in order (shorter than wanted if incomplete). */
function matchSequence(exchanges: readonly Exchange[], wanted: readonly string[]): Exchange[] {
  const matched: Exchange[] = [];
  for (const e of exchanges) {
    if (matched.length === wanted.length) break;
    if (e.command === wanted[matched.length]) matched.push(e);
  }
  return matched;
}

function describeMatch(matched: readonly Exchange[]): string {
  return matched.map((e) => `${e.tag ?? '?'} ${e.command} (frame ${e.requestFrame ?? e.responseFrame ?? '?'})`).join(' > ');
}

function sequence(ctx: Context, rule: Extract<Rule, { kind: 'sequence' }>): CaptureOutcome {
  const seq = rule.commands.join(' > ');
  const matches = byStart(ctx.connections).map((c) => ({ c, matched: matchSequence(ctx.ofConn(c.conn.id), rule.commands) }));
  const full = matches.filter((m) => m.matched.length === rule.commands.length);
  if (rule.present) {
    if (full.length) {
      const m = full[0]!;
      return ctx.outcome(true, `${seq} in connection ${m.c.conn.id}${full.length > 1 ? ` and ${plural(full.length - 1, 'other')}` : ''}: ${describeMatch(m.matched)}`);
    }
    const best = matches.reduce<typeof matches[number] | null>((b, m) => (b === null || m.matched.length > b.matched.length ? m : b), null);
    if (!best || best.matched.length === 0) {
      const message = `${seq} in no connection (not even ${rule.commands[0]})`;
      return ctx.outcome(false, message, [ctx.captureFailure(message)]);
    }
    const last = best.matched[best.matched.length - 1]!;
    const missing = rule.commands[best.matched.length]!;
    const message = `${seq} in no connection; longest start in connection ${best.c.conn.id}: ${describeMatch(best.matched)}, then no ${missing}`;
    return ctx.outcome(false, message, [ctx.exchangeFailure(last, `${describeMatch(best.matched)}, then no ${missing}`)]);
  }
  if (full.length === 0) return ctx.outcome(true, `${seq} in none of ${plural(ctx.connections.length, 'connection')}`);
  const failures = full.map((m) => ctx.exchangeFailure(m.matched[m.matched.length - 1]!, `forbidden sequence: ${describeMatch(m.matched)}`));
  return ctx.outcome(false, `${seq} in ${full.length === 1 ? 'connection' : 'connections'} ${atMostNamed(full.map((m) => m.c.conn.id))}`, failures);
}
