import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { gzipSync } from 'node:zlib';
import { analyzeWithFetches, type FullAnalysis } from '../../src/analysis/full.js';
import { messageView } from '../../src/analysis/message-view.js';
import { CaptureError } from '../../src/capture/reader.js';
import { usageLine } from '../../src/cli/errors.js';
import type { FramerLimits } from '../../src/imap/framer.js';
import { Extractor } from '../../src/extract/extractor.js';
import { exchangeJson } from '../../src/report/commands.js';
import { fetchesText, messageJson, stepJson } from '../../src/report/fetches.js';
import { jsonWarnings, warningLines } from '../../src/report/format.js';
import { streamRow, streamsJson, streamsJsonStreamed, streamsText, streamsTextPieces } from '../../src/report/streams.js';
import { summaryJson, summaryJsonStreamed, summaryRow, summaryText, summaryTextPieces } from '../../src/report/summary.js';
import { KeyLog } from '../../src/tls/keylog.js';
import { jsonPieces, jsonText } from '../../src/util/json.js';
import { RowWriter, type SpilledRows } from '../../src/analysis/connection-rows.js';
import type { ImapConnection } from '../../src/imap/model.js';
import type { LateChanges } from '../../src/tcp/types.js';
import { compareTime } from '../../src/util/time.js';
import { checkCapture } from '../../src/check/check-capture.js';
import { rulesFromSpec } from '../../src/check/load.js';
import { evaluate } from '../../src/check/rules.js';
import { captureBehaviour } from '../../src/compare/capture-behaviour.js';
import { connectionsOf } from '../../src/compare/behaviour.js';
import { check, checkJsonText, checkPrintable, checkSchema } from '../invariants.js';
import type { Layer } from '../layer.js';
import { CAPTURES } from '../paths.js';
import { recordedCaptures } from '../seeds.js';

const tmp = mkdtempSync(join(tmpdir(), 'imapscope-fuzz-pipeline-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));
const keys = KeyLog.parse(['imaps-tls13.keys', 'starttls-tls12.keys'].map((f) => readFileSync(join(CAPTURES, f), 'utf8')).join('\n'));

/** Every file under `dir`, relative to it. */
function walk(dir: string, base = dir): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name), base) : [relative(base, join(dir, e.name))]));
}

/** Rows of summary and streams as they spill when each record is final: a writer per view and kind. */
class Spills {
  private readonly writers = new Map<string, RowWriter>();
  private count = 0;

  add(c: ImapConnection): void {
    for (const kind of [{ json: true }, { json: false }] as const) {
      this.writer(`summary-${kind.json}`).add(c.conn, summaryRow(c, kind));
      this.writer(`streams-${kind.json}`).add(c.conn, streamRow(c.conn, kind));
    }
  }

  settle(late: LateChanges): void {
    for (const w of this.writers.values()) w.settle(late);
  }

  rows(name: string): SpilledRows {
    const rows = this.writer(name).finish();
    this.finished.add(name);
    return rows;
  }

  /** Close what is still open and remove every file (an input must not leave its rows behind for the next). */
  dispose(): void {
    for (const [name, w] of this.writers) {
      if (!this.finished.has(name)) w.finish();
      w.remove();
    }
  }

  private readonly finished = new Set<string>();

  private writer(name: string): RowWriter {
    let w = this.writers.get(name);
    if (!w) this.writers.set(name, (w = new RowWriter(join(tmp, `rows-${++this.count}`))));
    return w;
  }
}

/** A record as it is at the close, but for its last frame and end (which late segments still move). */
function settledPart(c: ImapConnection): string {
  return JSON.stringify({ ...c, conn: { ...c.conn, lastFrame: null, end: null } });
}

/**
 * summary and streams written from rows spilled as each connection closed, completed with the last frames and ends
 * settled later, are the views written from the records held to the end: each record was handed on once at its close
 * and changed after only in its last frame and end, which were then settled once, as the record ended up.
 */
function checkSpilled(a: FullAnalysis, spills: Spills, handed: Map<ImapConnection, string>, settled: Map<number, LateChanges>): void {
  check(handed.size === a.connections.length && a.connections.every((c) => handed.has(c)), `${handed.size} records handed on at their close, ${a.connections.length} kept`);
  for (const [c, then] of handed) check(settledPart(c) === then, `connection ${c.conn.id}'s record changed after its close (beyond its last frame and end)`);
  check(settled.size === handed.size, `${settled.size} connections settled, ${handed.size} closed`);
  for (const c of a.connections) {
    const late = settled.get(c.conn.id);
    check(late !== undefined && late.lastFrame === c.conn.lastFrame && compareTime(late.end, c.conn.end) === 0 && late.end.digits === c.conn.end.digits, `connection ${c.conn.id} was settled with another last frame or end than its record's`);
  }
  const none = { ...a, connections: [] };
  const streams = { capture: a.capture, connections: a.connections.map((c) => c.conn), warnings: a.warnings };
  const same = (spilled: string, held: string, what: string) => check(spilled === held, `${what} from spilled rows differs from ${what} from the records`);
  same([...jsonPieces(summaryJsonStreamed([none], [spills.rows('summary-true')]), 2)].join(''), jsonText(summaryJson([a]), 2), 'summary --json');
  same([...summaryTextPieces(none, spills.rows('summary-false'))].join(''), summaryText(a), 'summary');
  same([...jsonPieces(streamsJsonStreamed([{ ...streams, connections: [] }], [spills.rows('streams-true')]), 2)].join(''), jsonText(streamsJson([streams]), 2), 'streams --json');
  same([...streamsTextPieces({ ...streams, connections: [] }, spills.rows('streams-false'))].join(''), streamsText(streams), 'streams');
}

/** Every JSON view validates against its schema and carries no raw control character; every text view neither. */
function checkViews(a: FullAnalysis): void {
  const views: [string, object][] = [
    ['summary', summaryJson([a])],
    ['commands', { exchanges: (a.exchanges ?? []).map((ex) => exchangeJson(ex, { showSecrets: false })), warnings: jsonWarnings(a.warnings) }],
    ['fetches', { messages: a.fetches.list().map((m) => messageJson(messageView(m))), strategy: a.fetches.steps.map(stepJson), warnings: jsonWarnings(a.warnings) }],
    ['streams', streamsJson([{ capture: a.capture, connections: a.connections.map((c) => c.conn), warnings: a.warnings }])],
  ];
  for (const [name, json] of views) {
    checkSchema(json, name);
    checkJsonText(jsonText(json, 2), `${name} --json`);
  }
  checkPrintable(summaryText(a), 'summary');
  checkPrintable(fetchesText(a.fetches.list().map(messageView), a.fetches.steps), 'fetches');
  checkPrintable(streamsText({ capture: a.capture, connections: a.connections.map((c) => c.conn), warnings: a.warnings }), 'streams');
  for (const line of warningLines(a.warnings, a.capture.path)) checkPrintable(line, 'warning');
}

/**
 * The whole pipeline on a damaged capture, as the CLI runs it (TLS keys given, fetches tracked,
 * extraction on): every report validates and prints safely, counts agree (exchanges never outnumber
 * the messages framed, bytes delivered never exceed bytes captured), and extraction writes nothing
 * outside its directory.
 */
export const pipelineLayer: Layer = {
  name: 'pipeline',
  about: 'end to end: capture → TCP → TLS → IMAP → fetches → every JSON and text report, and extract',
  maxLength: 256 * 1024,
  seeds: () => {
    const files = recordedCaptures().map((c) => c.bytes.subarray(0, 96 * 1024));
    return [...files, gzipSync(files[0]!)];
  },
  async run(input) {
    const path = join(tmp, 'input.cap');
    writeFileSync(path, input);
    const jail = join(tmp, 'jail');
    const out = join(jail, 'out');
    rmSync(jail, { recursive: true, force: true });
    mkdirSync(jail);
    const spills = new Spills();
    try {
      // Every other input with room for one conversation open at once: the recordings hold two or three, so the one
      // quiet for long is let go, and what it leaves behind meets the same checks. Every third with room for 4 KiB of
      // out-of-order bytes in all, so that holes are given up across connections; every fifth with room for four
      // segments a direction and eight in all.
      const fewSegments = input.length % 5 === 0;
      await runPipeline(path, jail, out, spills, {
        maxOpen: input.length % 2 === 0 ? 1 : undefined, maxHeldTotal: input.length % 3 === 0 ? 4096 : undefined,
        maxHeldSegments: fewSegments ? 4 : undefined, maxHeldSegmentsTotal: fewSegments ? 8 : undefined,
        // Every seventh input's FETCH responses go on in instalments after each item literal; every eleventh input's
        // messages keep two literals and 512 octets at most, and its FETCH responses are cut every 256 octets.
        framerLimits: input.length % 7 === 0 ? { instalmentLiterals: 1 }
          : input.length % 11 === 0 ? { maxLiterals: 2, maxHeldOctets: 512, instalmentOctets: 256 } : undefined,
      });
    } finally {
      spills.dispose();
    }
  },
};

/** One input through the pipeline; rows of summary and streams spill into `spills`. */
/** Caps a run sets lower than the command line's. */
interface Caps {
  maxOpen: number | undefined;
  maxHeldTotal: number | undefined;
  maxHeldSegments: number | undefined;
  maxHeldSegmentsTotal: number | undefined;
  framerLimits: Partial<FramerLimits> | undefined;
}

async function runPipeline(path: string, jail: string, out: string, spills: Spills, caps: Caps): Promise<void> {
  const extractor = new Extractor(out, false, () => {});
  let messages = 0;
  let a: FullAnalysis;
  const handed = new Map<ImapConnection, string>();
  const settled = new Map<number, LateChanges>();
  const drained = new Set<number>();
  try {
    a = await analyzeWithFetches(path, {
      keys, keepExchanges: true, ...caps,
      onMessage: () => { messages++; },
      onExchange: (ex) => check(!drained.has(ex.conn), `an exchange of connection ${ex.conn} came after the connection was drained`),
      onConnectionDrained: (c) => {
        check(handed.has(c), `connection ${c.conn.id} was drained before it ended`);
        check(!drained.has(c.conn.id), `connection ${c.conn.id} was drained twice`);
        drained.add(c.conn.id);
      },
      onConnectionClose: (c) => {
        check(!handed.has(c), `connection ${c.conn.id}'s record was handed on twice`);
        handed.set(c, settledPart(c));
        spills.add(c);
      },
      onConnectionSettled: (late) => {
        check(!settled.has(late.id), `connection ${late.id} was settled twice`);
        settled.set(late.id, { id: late.id, lastFrame: late.lastFrame, end: { ...late.end } });
        spills.settle(late);
      },
      onLiteralStart: (msg, lit) => extractor.literalStart(msg, lit),
    }, { onSection: (m, f, s) => extractor.section(m, f, s), numberSections: true, spill: { budget: 50, dir: extractor.tmpDir, live: 2, fetchesHeld: 2 } });
  } catch (err) {
    if (!(err instanceof CaptureError)) throw err;
    checkPrintable(usageLine(err), 'error');
    extractor.dispose();
    return;
  }
  await extractor.finish(path, a.fetches.sorted());
  check(readdirSync(jail).join() === 'out', `extract wrote beside its directory: ${readdirSync(jail).join(', ')}`);
  for (const file of walk(out)) check(!file.startsWith('..') && !file.includes('\0'), `extract wrote ${JSON.stringify(file)}`);

  const exchanges = a.exchanges ?? [];
  check(exchanges.length <= messages, `${exchanges.length} exchanges from ${messages} framed messages`);
  const delivered = a.connections.reduce((n, c) => n + c.conn.stats.client.bytes + c.conn.stats.server.bytes, 0);
  check(delivered <= a.capture.bytes, `${delivered} bytes delivered, ${a.capture.bytes} captured`);
  check(a.commandStats.summaries().reduce((n, s) => n + s.count, 0) === exchanges.length, 'per-command counts do not add up to the exchanges');
  check(drained.size === handed.size, `${drained.size} connections drained, ${handed.size} ended`);
  checkViews(a);
  checkSpilled(a, spills, handed, settled);
  await checkStreamed(path, a, caps);
}

/** Every kind of rule, each failing somewhere in the recordings. */
const RULES = rulesFromSpec({
  maxConnections: 1, maxConcurrent: 1, noBad: true, noNo: true, allCompleted: true, noPlaintextAuth: true,
  latency: { SELECT: { p50: 0.01 }, FETCH: 0.001 }, requireCommands: ['LOGOUT'], forbidCommands: ['CAPABILITY'],
  requireCapabilities: ['IDLE'], requireSequences: [['LOGIN', 'SELECT', 'LOGOUT']], forbidSequences: [['SELECT', 'FETCH']],
}, 'fuzz rules');

/**
 * check and compare, which gather as the capture streams and keep nothing per drained connection, find what the
 * model kept to the end holds: the rules' outcomes of `evaluate`, and each connection's commands and FETCH steps.
 */
async function checkStreamed(path: string, a: FullAnalysis, caps: Caps): Promise<void> {
  const streamed = await checkCapture(path, RULES, { keys, ...caps });
  const kept = evaluate(RULES, [a]).results.map((r) => r.captures[0]);
  check(JSON.stringify(streamed.outcomes) === JSON.stringify(kept), 'the rules checked as the capture streams differ from the rules over the kept model');
  const behaviour = await captureBehaviour(path, { keys, ...caps });
  const shapes = new Map<number, string[]>();
  for (const ex of a.exchanges ?? []) if (!ex.requestMissing) shapes.set(ex.conn, [...(shapes.get(ex.conn) ?? []), ex.shape]);
  const rows = [...connectionsOf(behaviour)];
  check(rows.length === a.connections.length, `compare saw ${rows.length} connections, the model ${a.connections.length}`);
  const itemSets = new Map<number, string[]>();
  for (const step of a.fetches.steps) itemSets.set(step.conn, [...(itemSets.get(step.conn) ?? []), step.items.join(' ')]);
  for (const { id, commands, fetches } of rows) {
    check(JSON.stringify(commands) === JSON.stringify(shapes.get(id) ?? []), `compare's commands of connection ${id} differ from the model's`);
    check(JSON.stringify(fetches) === JSON.stringify(itemSets.get(id) ?? []), `compare's FETCH item sets of connection ${id} differ from the model's steps`);
  }
}
