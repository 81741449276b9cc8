import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { gzipSync } from 'node:zlib';
import { analyzeWithFetches, type FullAnalysis } from '../../src/analysis/full.js';
import { messageView } from '../../src/analysis/message-view.js';
import { CaptureError } from '../../src/capture/reader.js';
import { usageLine } from '../../src/cli/errors.js';
import { Extractor } from '../../src/extract/extractor.js';
import { exchangeJson } from '../../src/report/commands.js';
import { fetchesText, messageJson, stepJson } from '../../src/report/fetches.js';
import { jsonWarnings, warningLines } from '../../src/report/format.js';
import { streamsJson, streamsText } from '../../src/report/streams.js';
import { summaryJson, summaryText } from '../../src/report/summary.js';
import { KeyLog } from '../../src/tls/keylog.js';
import { jsonText } from '../../src/util/json.js';
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
    const extractor = new Extractor(out, false, () => {});
    let messages = 0;
    let a: FullAnalysis;
    try {
      a = await analyzeWithFetches(path, {
        keys, keepExchanges: true,
        onMessage: () => { messages++; },
        onLiteralStart: (msg, lit) => extractor.literalStart(msg, lit),
      }, { onSection: (m, f, s) => extractor.section(m, f, s), numberSections: true, spill: { budget: 50, dir: extractor.tmpDir, live: 2 } });
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
    checkViews(a);
  },
};
