/**
 * The live heap each open connection costs, on a capture of many connections that stay open
 * (`scale-captures.js --kind open`: every connection opens, then each gets a greeting and sends one command
 * that is never answered). Measured twice, after a full garbage collection each time: when every connection
 * has opened (handshakes only), and when every one has had its greeting and sent its command ("idle").
 *
 *   node --expose-gc dist/bench/heap-per-connection.js FILE streams|commands N
 *
 * `streams` runs the TCP layer alone (what `imapscope streams` runs), `commands` the whole analysis.
 * N is the number of connections in the capture. Figures: docs/benchmarks.md.
 */
import { streamCapture } from '../src/pipeline.js';
import { analyzeCapture } from '../src/analysis/analyzer.js';

const gc = (globalThis as { gc?: () => void }).gc;
const [file, mode, count] = process.argv.slice(2);
if (!gc || !file || (mode !== 'streams' && mode !== 'commands') || !(Number(count) > 0)) {
  console.error('usage: node --expose-gc dist/bench/heap-per-connection.js FILE streams|commands N');
  process.exit(2);
}
const connections = Number(count);
gc();
const base = process.memoryUsage().heapUsed;
let opened = 0;
let events = 0;

function measure(label: string): void {
  gc!();
  const perConnection = (process.memoryUsage().heapUsed - base) / connections;
  console.log(`${mode} ${label}: ${perConnection.toFixed(0)} B of heap per connection`);
}

/** Each connection brings two messages (greeting, command) or two data deliveries. */
function seen(): void {
  events++;
  if (opened === connections && events === 1) measure('opened');
  if (events === 2 * connections) measure('idle');
}

if (mode === 'streams') {
  await streamCapture(file, { open: () => { opened++; }, data: seen, gap: () => {}, close: () => {} }, () => {});
} else {
  await analyzeCapture(file, { keepConnections: false, connections: () => { opened++; return true; }, onMessage: seen });
}
