/**
 * The rules document as a type (docs/check.md): what a rules file holds and what check() takes from code.
 * Every key is optional; a misspelled one does not compile, and is still refused at run time.
 */

/** p50, p95, p99, any pN with 0 < N <= 100, or max. */
export type LatencyStatName = `p${number}` | 'max';

/** A named sequence, so failures say which one. */
export interface NamedSequence {
  name?: string;
  commands: string[];
}

export interface Rules {
  /** Only 1 exists. */
  version?: 1;
  maxConnections?: number;
  maxConcurrent?: number;
  noBad?: boolean;
  /** true, or NO allowed for the commands listed. */
  noNo?: boolean | { except?: string[] };
  allCompleted?: boolean;
  noPlaintextAuth?: boolean;
  /** COMMAND: milliseconds (max), or COMMAND: {p95: ms, max: ms, …}. */
  latency?: Record<string, number | Partial<Record<LatencyStatName, number>>>;
  requireCommands?: string[];
  forbidCommands?: string[];
  requireCapabilities?: string[];
  requireSequences?: (string[] | NamedSequence)[];
  forbidSequences?: (string[] | NamedSequence)[];
}
