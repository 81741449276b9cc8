/**
 * imapscope as a library: the same analysis the command line reports, as typed data.
 *
 *   import { analyze, exchanges } from 'imapscope';
 *   const a = await analyze('trace.pcapng');                  // a path, a Buffer/Uint8Array or a stream
 *   assert.equal(a.concurrency.max, 2);
 *   for await (const ex of exchanges('huge.pcap.gz')) …       // one at a time, memory bounded
 */
import { analyzeWithFetches } from './analysis/full.js';
import { combine, type CheckReport, type EvaluateOptions } from './check/rules.js';
import { checkCapture } from './check/check-capture.js';
import { rulesFromSpec } from './check/load.js';
import type { Rules } from './check/spec.js';
import { concurrency, type Concurrency } from './analysis/concurrency.js';
import type { CommandSummary } from './analysis/stats.js';
import type { FetchedMessage, FetchStep } from './analysis/fetches.js';
import type { CaptureInput } from './capture/reader.js';
import type { CaptureInfo, Warning } from './capture/types.js';
import type { ImapConnection } from './imap/model.js';
import { publicExchange, type Exchange } from './api/exchange.js';
import { pipelineOptions, type AnalyzeOptions } from './api/options.js';

export interface Analysis {
  capture: CaptureInfo;
  connections: Connection[];
  /** Every command exchange, in request order. */
  exchanges: Exchange[];
  /** Per command: counts by status and latency percentiles. */
  commands: CommandSummary[];
  concurrency: Concurrency;
  /** Messages fetched, with their MIME trees and every section fetched. */
  messages: Message[];
  /** Each FETCH command: how many messages, which items. */
  fetchSteps: FetchStep[];
  warnings: Warning[];
}

/** An IMAP connection: its TCP facts (`conn`), user, client and server IDs, capabilities, TLS, … */
export type Connection = ImapConnection;
/** A fetched message: mailbox, UID, envelope, MIME tree and every section fetched of it. */
export type Message = FetchedMessage;

/**
 * Read a capture (pcap, pcapng, gzip; a path, a Buffer/Uint8Array or a readable stream) in one pass and
 * return the whole analysis model. An unreadable input rejects with CaptureError.
 */
export async function analyze(input: CaptureInput, options: AnalyzeOptions = {}): Promise<Analysis> {
  const a = await analyzeWithFetches(input, { ...pipelineOptions(options), keepExchanges: true });
  return {
    capture: a.capture,
    connections: a.connections,
    exchanges: (a.exchanges ?? []).map(publicExchange),
    commands: a.commandStats.summaries(),
    concurrency: concurrency(a.connections.map((c) => c.conn)),
    messages: a.fetches.list(),
    fetchSteps: a.fetches.steps,
    warnings: a.warnings,
  };
}

/**
 * Assert rules about one or more captures, as `imapscope check` does. `rules` is what a rules file holds
 * (docs/check.md), e.g. `{ noBad: true, maxConcurrent: 2, latency: { SELECT: { p95: 200 } } }`; invalid
 * rules reject with RulesError.
 */
export async function check(captures: CaptureInput | CaptureInput[], rules: Rules, options: AnalyzeOptions & EvaluateOptions = {}): Promise<CheckReport> {
  const parsed = rulesFromSpec(rules, 'rules');
  const checked = [];
  for (const input of Array.isArray(captures) ? captures : [captures]) {
    checked.push(await checkCapture(input, parsed, pipelineOptions(options), { allowEncrypted: options.allowEncrypted }));
  }
  return combine(parsed, checked);
}

/** @deprecated the rules document is typed now: use Rules. */
export type RulesSpec = Rules;

export { exchanges } from './api/stream.js';
export { CaptureError } from './capture/reader.js';
export { RulesError } from './check/errors.js';
export type { Exchange } from './api/exchange.js';
export type { AnalyzeOptions, KeyLogSource } from './api/options.js';
export type { CaptureInput, NamedSource } from './capture/reader.js';
export type { Rules, LatencyStatName, NamedSequence } from './check/spec.js';
export type { CheckReport, RuleResult, Failure } from './check/rules.js';
export type { CaptureInfo, Warning, Timestamp } from './capture/types.js';
export type { ImapConnection, MailboxState, TlsInfo } from './imap/model.js';
export type { Connection as TcpConnection, Endpoint, TimePoint, EndState } from './tcp/types.js';
export type { FetchedMessage, FetchStep, SectionFetch, FetchHow } from './analysis/fetches.js';
export type { MimePart, Envelope, Address } from './mime/types.js';
export type { CommandSummary } from './analysis/stats.js';
export type { Concurrency } from './analysis/concurrency.js';
