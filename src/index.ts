/**
 * imapscope as a library: the same analysis the command line reports, as typed data.
 *
 *   import { analyze } from 'imapscope';
 *   const a = await analyze('trace.pcapng');
 *   assert.equal(a.concurrency.max, 2);
 */
import { analyzeWithFetches } from './analysis/full.js';
import { analyzeCapture } from './analysis/analyzer.js';
import { evaluate, type CheckReport, type EvaluateOptions } from './check/rules.js';
import { rulesFromSpec } from './check/load.js';
import { concurrency, type Concurrency } from './analysis/concurrency.js';
import type { CommandSummary } from './analysis/stats.js';
import type { FetchedMessage, FetchStep } from './analysis/fetches.js';
import type { CaptureInfo, Warning } from './capture/types.js';
import type { Exchange, ImapConnection } from './imap/model.js';

export interface AnalyzeOptions {
  /** IMAP server ports (default 143 and 993). */
  ports?: number[];
}

export interface Analysis {
  capture: CaptureInfo;
  connections: ImapConnection[];
  /** Every command exchange, in request order. */
  exchanges: Exchange[];
  /** Per command: counts by status and latency percentiles. */
  commands: CommandSummary[];
  concurrency: Concurrency;
  /** Messages fetched, with their MIME trees and every section fetched. */
  messages: FetchedMessage[];
  /** Each FETCH command: how many messages, which items. */
  fetchSteps: FetchStep[];
  warnings: Warning[];
}

/** Read a capture (pcap, pcapng, gzip) in one pass and return the whole analysis model. */
export async function analyze(path: string, options: AnalyzeOptions = {}): Promise<Analysis> {
  const a = await analyzeWithFetches(path, { ports: options.ports, keepExchanges: true });
  return {
    capture: a.capture,
    connections: a.connections,
    exchanges: a.exchanges ?? [],
    commands: a.commandStats.summaries(),
    concurrency: concurrency(a.connections.map((c) => c.conn)),
    messages: a.fetches.list(),
    fetchSteps: a.fetches.steps,
    warnings: a.warnings,
  };
}

/**
 * Assert rules about one or more captures, as `imapscope check` does. `rules` is what a rules file holds
 * (docs/check.md), e.g. `{ noBad: true, maxConcurrent: 2, latency: { SELECT: { p95: 200 } } }`.
 */
export async function check(captures: string | string[], rules: RulesSpec, options: AnalyzeOptions & EvaluateOptions = {}): Promise<CheckReport> {
  const parsed = rulesFromSpec(rules, 'rules');
  const analyses = [];
  for (const path of Array.isArray(captures) ? captures : [captures]) {
    analyses.push(await analyzeCapture(path, { ports: options.ports, keepExchanges: true }));
  }
  return evaluate(parsed, analyses, { allowEncrypted: options.allowEncrypted });
}

/** The rules document: see docs/check.md for every key. */
export type RulesSpec = Record<string, unknown>;

export { CaptureError } from './capture/reader.js';
export { RulesError } from './check/errors.js';
export type { CheckReport, RuleResult, Failure } from './check/rules.js';
export type { CaptureInfo, Warning } from './capture/types.js';
export type { Exchange, ImapConnection, MailboxState, TlsInfo } from './imap/model.js';
export type { Connection, Endpoint, TimePoint } from './tcp/types.js';
export type { FetchedMessage, FetchStep, SectionFetch } from './analysis/fetches.js';
export type { MimePart, Envelope, Address } from './mime/types.js';
export type { CommandSummary } from './analysis/stats.js';
export type { Concurrency } from './analysis/concurrency.js';
