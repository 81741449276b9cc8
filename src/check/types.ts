/**
 * What `check` reads and says: the rules, and how each fared on each capture. Plain data: outcomes cross
 * from the worker that checked a capture to the thread that reports.
 */

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

/** `p95`, `max`: how a latency rule's statistic is named. */
export function statName(stat: LatencyStat): string {
  return stat.kind === 'max' ? 'max' : `p${stat.p}`;
}

/** Failures listed per rule and capture; more are counted, not listed. */
export const MAX_FAILURES = 100;

export interface EvaluateOptions {
  /**
   * Let rules about commands pass on what could be seen when some connections were TLS without keys.
   * By default such a rule fails: it cannot vouch for commands it could not read.
   */
  allowEncrypted?: boolean;
}
