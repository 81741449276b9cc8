/** Each rule as the check that follows a capture for it (rule-check.ts). */
import { maxConcurrent, maxConnections, CapabilityCheck, PlaintextAuthCheck } from './connection-rules.js';
import { CompletionCheck, ForbidCommandCheck, LatencyCheck, RequireCommandCheck, SequenceCheck, StatusCheck } from './exchange-rules.js';
import type { RuleCheck } from './rule-check.js';
import type { Rule } from './types.js';

/** Rules that read the connections' lifetimes. */
export function needsLifetimes(rule: Rule): boolean {
  return rule.kind === 'max-connections' || rule.kind === 'max-concurrent';
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
