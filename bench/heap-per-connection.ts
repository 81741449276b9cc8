/**
 * The live heap each open connection costs, on a capture of many connections that stay open
 * (`scale-captures.js --kind open`: every connection opens, then each gets a greeting and sends one command
 * that is never answered; `--kind idling`: each logs in, selects INBOX and idles). Measured twice, after a full
 * garbage collection each time: when every connection has opened (handshakes only), and at the end of the input,
 * when every one has said all it says ("idle"), before the first of them is closed.
 *
 *   node --expose-gc dist/bench/heap-per-connection.js FILE streams|commands|fetches|report|compare N [KEYLOG]
 *
 * `streams` runs the TCP layer alone (what `imapscope streams` runs), `commands` the whole analysis, `fetches` the
 * analysis with FETCH tracking (what `report`, `fetches`, `compare`, `export` and `extract` run), `report` that with
 * the page's collector (its rows and ladders spilled to a temporary directory, as `imapscope report` does), `compare` what
compare reads of one capture (its spool in a temporary directory, as `imapscope compare` has it). Buffers are the
 * memory outside the heap that Buffers hold (the streams' retransmission-check rings among them).
 * N is the number of connections in the capture; KEYLOG a key log to decrypt them with (`scale-captures.js --kind
 * idling-tls`: captures/imaps-tls13.keys). Figures: docs/benchmarks.md.
 */
import { streamCapture } from '../src/pipeline.js';
import { analyzeCapture } from '../src/analysis/analyzer.js';
import { analyzeWithFetches } from '../src/analysis/full.js';
import { captureBehaviour } from '../src/compare/capture-behaviour.js';
import { CaptureCollector, LADDER_HELD } from '../src/report/html/model.js';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { KeyLog } from '../src/tls/keylog.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const gc = (globalThis as { gc?: () => void }).gc;
const [file, mode, count, keyLog] = process.argv.slice(2);
if (!gc || !file || !['streams', 'commands', 'fetches', 'report', 'compare'].includes(mode!) || !(Number(count) > 0)) {
  console.error('usage: node --expose-gc dist/bench/heap-per-connection.js FILE streams|commands|fetches|report|compare N [KEYLOG]');
  process.exit(2);
}
const connections = Number(count);
const keys = keyLog ? KeyLog.parse(readFileSync(keyLog, 'utf8')) : undefined;

gc!();
const { heapUsed: base, arrayBuffers: baseBuffers } = process.memoryUsage();
let opened = 0;
let measuredOpened = false;
let closed = 0;

function measure(label: string): void {
  gc!();
  const { heapUsed, arrayBuffers } = process.memoryUsage();
  const perConnection = (heapUsed - base) / connections;
  const buffers = (arrayBuffers - baseBuffers) / connections;
  console.log(`${mode} ${label}: ${perConnection.toFixed(0)} B of heap and ${buffers.toFixed(0)} B of buffers per connection`);
}

/** The first bytes after every connection opened: the handshakes are all there is yet. */
function seen(): void {
  if (opened === connections && !measuredOpened) {
    measuredOpened = true;
    measure('opened');
  }
}

/** None closes before the input ends: the first close is the end of the input, every connection idle. */
function closing(): void {
  if (closed++ === 0) measure('idle');
}

if (mode === 'streams') {
  await streamCapture(file, { open: () => { opened++; }, data: seen, gap: () => {}, close: closing }, () => {});
} else {
  const options = { keys, keepConnections: false, connections: () => { opened++; return true; }, onMessage: seen, onConnectionClose: closing };
  if (mode === 'fetches') await analyzeWithFetches(file, options);
  else if (mode === 'report') await inTemporaryDirectory((dir) => withCollector(options, dir));
  else if (mode === 'compare') await inTemporaryDirectory((dir) => captureBehaviour(file, options, 'capture', join(dir, 'spool')));
  else await analyzeCapture(file, options);
}

async function withCollector(options: Parameters<typeof analyzeCapture>[1], dir: string): Promise<void> {
  const collector = new CaptureCollector({ rowsFile: join(dir, 'rows'), ladderSpool: { path: join(dir, 'ladders'), budget: LADDER_HELD } });
  await analyzeWithFetches(file!, { ...options, ...collector.hooks }, { steps: false, stepUids: false });
  collector.abandon();
}

async function inTemporaryDirectory(run: (dir: string) => Promise<unknown>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'imapscope-heap-'));
  try {
    await run(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
