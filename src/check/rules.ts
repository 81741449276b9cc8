/**
 * `imapscope check`: assertions about a protocol trace, evaluated over the analysis model only (exchanges and
 * connection records), never over packets. A capture is checked as it streams (CaptureChecker); this module names
 * the rules and gathers their outcomes over captures.
 */
import type { CaptureAnalysis } from '../analysis/analyzer.js';
import { CaptureChecker } from './capture-checker.js';
import { statName, type CaptureOutcome, type CheckReport, type EvaluateOptions, type Rule, type RuleResult } from './types.js';

export type { CaptureOutcome, CheckReport, EvaluateOptions, Failure, LatencyStat, Rule, RuleResult } from './types.js';
export { MAX_FAILURES, statName } from './types.js';

/** Command names compare upper case with single spaces ("uid  fetch" → "UID FETCH"). */
export function normalizeCommand(name: string): string {
  return name.trim().replace(/\s+/g, ' ').toUpperCase();
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

/** The outcomes of every rule on one capture, in the order of the rules. */
export interface CaptureOutcomes {
  capture: string;
  outcomes: CaptureOutcome[];
}

/** Each rule over every capture: it passes when it holds in each. */
export function combine(rules: readonly Rule[], captures: readonly CaptureOutcomes[]): CheckReport {
  const results = rules.map((rule, i): RuleResult => {
    const outcomes = captures.map((c) => c.outcomes[i]!);
    const message = outcomes.length === 1 ? outcomes[0]!.message : outcomes.map((c) => `${c.capture}: ${c.message}`).join('; ');
    return { rule: ruleName(rule), kind: rule.kind, passed: outcomes.every((c) => c.passed), message, failures: outcomes.flatMap((c) => c.failures), captures: outcomes };
  });
  return { passed: results.every((r) => r.passed), captures: captures.map((c) => c.capture), results };
}

/** Every rule on analyses that kept their exchanges (small captures, tests): the same checks, fed from the model. */
export function evaluate(rules: readonly Rule[], analyses: readonly CaptureAnalysis[], options: EvaluateOptions = {}): CheckReport {
  return combine(rules, analyses.map((a) => ({ capture: a.capture.path, outcomes: checkAnalysis(rules, a, options) })));
}

/** One rule on one analysis, on what could be read (as with --allow-encrypted). */
export function evaluateRule(rule: Rule, a: CaptureAnalysis): CaptureOutcome {
  return checkAnalysis([rule], a, { allowEncrypted: true })[0]!;
}

function checkAnalysis(rules: readonly Rule[], a: CaptureAnalysis, options: EvaluateOptions): CaptureOutcome[] {
  if (!a.exchanges) throw new Error('check needs the exchanges: analyse with keepExchanges');
  const checker = new CaptureChecker(rules, options);
  const byId = new Map(a.connections.map((c) => [c.conn.id, c]));
  for (const ex of a.exchanges) {
    const conn = byId.get(ex.conn);
    if (conn) checker.exchange(ex, conn);
  }
  for (const c of a.connections) {
    checker.ended(c, true, true);
    checker.drained(c, true);
  }
  return checker.finish(a.capture.path);
}
