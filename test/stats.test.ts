/** Per-command statistics: exact nearest-rank percentiles over latencies kept in growing typed arrays. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { analyzeCapture } from '../src/analysis/analyzer.js';
import { CommandStats, latencyMs } from '../src/analysis/stats.js';
import { MAX_OTHER_COMMAND_NAMES, OTHER_COMMANDS } from '../src/analysis/command-rows.js';
import type { Exchange } from '../src/imap/model.js';
import { float64List, growableColumn, growInPlace, listValues, pushValue, RESERVED_VALUES, uint32List } from '../src/util/typed-list.js';
import { CAPTURES } from './helpers/env.js';
import { seededRandom } from './helpers/random.js';

/** Nearest-rank percentile, written out from its definition over a plainly sorted copy. */
function nearestRank(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(1, Math.ceil((p / 100) * sorted.length)) - 1]!;
}

function expectedSummaries(exchanges: readonly Exchange[]) {
  const by = new Map<string, Exchange[]>();
  for (const ex of exchanges) by.set(ex.command, [...(by.get(ex.command) ?? []), ex]);
  return [...by].map(([command, list]) => {
    const ms = list.map(latencyMs).filter((v): v is number => v !== null);
    return {
      command, count: list.length,
      ok: list.filter((e) => e.status === 'OK').length, no: list.filter((e) => e.status === 'NO').length,
      bad: list.filter((e) => e.status === 'BAD').length, incomplete: list.filter((e) => e.status === null).length,
      medianMs: nearestRank(ms, 50), p95Ms: nearestRank(ms, 95), maxMs: ms.length ? Math.max(...ms) : null,
    };
  }).sort((a, b) => b.count - a.count || a.command.localeCompare(b.command));
}

for (const inPlace of [false, true]) test(`typed lists${inPlace ? ' that grow in place' : ''} keep every value in order as they grow by half, and survive structured cloning`, () => {
  const list = float64List(1, inPlace);
  const whole = uint32List(1, inPlace);
  const column = list.values;
  const pushed: number[] = [];
  const capacities = [list.values.length];
  for (let i = 0; i < 1000; i++) {
    const v = i % 7 === 0 ? Infinity : i * 1.25 - 300;
    pushValue(list, v);
    pushValue(whole, i * 4_000_000);
    pushed.push(v);
    if (list.values.length !== capacities.at(-1)) capacities.push(list.values.length);
  }
  assert.equal(list.size, 1000);
  assert.deepEqual([...listValues(list)], pushed);
  assert.deepEqual([...listValues(whole)], pushed.map((_, i) => i * 4_000_000), 'up to 2^32 - 1 kept whole');
  // Each growth by at least half (a step per push would be quadratic), and the room left unused under half.
  assert.ok(capacities.every((c, k) => k === 0 || c >= 1.5 * capacities[k - 1]!), `grown by half: ${capacities.join(' ')}`);
  assert.ok(list.values.length < 1500, `capacity ${list.values.length} for 1000 values`);
  assert.deepEqual([...listValues(structuredClone(list))], pushed);
  // In place: the first array is the list's still, so no grown-out copy was left for the collector.
  assert.equal(list.values === column, inPlace);
});

test('a growable column grows where it stands up to the room it reserved, and no further', () => {
  const column = growableColumn(Uint8Array, 4);
  column.set([1, 2, 3, 4]);
  assert.ok(growInPlace(column, 1000));
  assert.equal(column.length, 1000);
  assert.deepEqual([...column.subarray(0, 5)], [1, 2, 3, 4, 0]);
  assert.ok(growInPlace(column, RESERVED_VALUES), 'the whole reservation');
  assert.equal(growInPlace(column, RESERVED_VALUES + 1), false, 'past the reservation: the caller copies');
  assert.equal(growInPlace(new Uint8Array(4), 8), false, 'a plain column cannot');
  assert.equal(column.length, RESERVED_VALUES);
});

test('where address space is too short to reserve, a growable column is a plain one and a list of it still grows', (t) => {
  if (!existsSync('/proc/self/status')) return t.skip('needs /proc to size the address-space limit');
  // Room for a node that has just started, and less than one column's reservation (RESERVED_VALUES doubles: 512 MiB).
  const started = spawnSync(process.execPath, ['-e', `process.stdout.write(require('fs').readFileSync('/proc/self/status', 'utf8'))`], { encoding: 'utf8' });
  const limit = Number(/VmSize:\s+(\d+) kB/.exec(started.stdout)![1]) + 256 * 1024;
  const lists = fileURLToPath(new URL('../src/util/typed-list.js', import.meta.url));
  const script = `import { growableColumn, float64List, pushValue, listValues } from ${JSON.stringify(lists)};
    const column = growableColumn(Float64Array, 8);
    const list = float64List(1, true);
    for (let i = 0; i < 1000; i++) pushValue(list, i / 4);
    console.log(JSON.stringify({ resizable: column.buffer.resizable === true, length: column.length, sum: listValues(list).reduce((a, b) => a + b, 0) }));`;
  const run = spawnSync('sh', ['-c', `ulimit -v ${limit} && exec "${process.execPath}" --input-type=module -e "$0"`, script], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  assert.deepEqual(JSON.parse(run.stdout), { resizable: false, length: 8, sum: 999 * 1000 / 8 });
});

test('summaries give each command exact nearest-rank percentiles, on thousands of latencies in any order', () => {
  const random = seededRandom(5);
  const stats = new CommandStats();
  const exchanges: Exchange[] = [];
  const commands = ['UID FETCH', 'NOOP', 'SELECT'];
  for (let i = 0; i < 5000; i++) {
    // Some beyond 2^32 microseconds (71 minutes), which are not kept as microseconds.
    const usec = i % 97 === 0 ? 4_294_967_296 + Math.floor(random() * 1e9) : Math.floor(random() * 2_000_000);
    const status = i % 11 === 0 ? null : i % 13 === 0 ? 'NO' : 'OK';
    const ex = {
      command: commands[i % (i % 5 === 0 ? 1 : 3)]!, status, clientMs: 0, continuationAt: null,
      start: { sec: 1000, nsec: 0, digits: 6 }, end: status === null ? null : { sec: 1000 + Math.floor(usec / 1e6), nsec: (usec % 1e6) * 1000, digits: 6 },
    } as unknown as Exchange;
    exchanges.push(ex);
    stats.add(ex);
  }
  // IDLE counts to its "+", which a clock stepping back can put before the command: negative latencies.
  for (let i = 0; i < 300; i++) {
    const ex = {
      command: 'IDLE', status: 'OK', clientMs: 0, start: { sec: 1000, nsec: 0, digits: 9 }, end: { sec: 2000, nsec: 0, digits: 9 },
      continuationAt: { sec: i % 3 === 0 ? 1000 : 999, nsec: Math.floor(random() * 1e9), digits: 9 },
    } as unknown as Exchange;
    exchanges.push(ex);
    stats.add(ex);
  }
  const expected = expectedSummaries(exchanges);
  assert.ok(expected.some((s) => (s.maxMs ?? 0) > 4_294_967) && expected.some((s) => s.command === 'IDLE' && s.medianMs! < 0), 'latencies out of the microsecond range were made');
  assert.deepEqual(stats.summaries(), expected);
});

test('on every recorded capture the statistics equal those computed from its exchanges', async () => {
  const captures = readdirSync(CAPTURES).filter((n) => /\.pcap(ng)?$/.test(n)).sort();
  assert.ok(captures.length >= 5);
  for (const name of captures) {
    const a = await analyzeCapture(join(CAPTURES, name), { keepExchanges: true });
    assert.deepEqual(a.commandStats.summaries(), expectedSummaries(a.exchanges!), name);
  }
});

test('names that are not IMAP\'s get rows of their own up to the cap; later new ones share one row, said once', () => {
  const stats = new CommandStats();
  const ex = (command: string) => ({ command, status: 'BAD', clientMs: 0, continuationAt: null, start: { sec: 1, nsec: 0, digits: 6 }, end: { sec: 1, nsec: 5000, digits: 6 } }) as unknown as Exchange;
  const firsts: string[] = [];
  const extra = 7;
  for (let i = 0; i < MAX_OTHER_COMMAND_NAMES + extra; i++) {
    // Each invented name twice, and IMAP's own commands among them: those always keep their rows.
    for (const name of [`X${i}`, `X${i}`, i % 100 === 0 ? 'UID FETCH' : 'NOOP']) if (stats.add(ex(name))) firsts.push(name);
  }
  const rows = new Map(stats.summaries().map((s) => [s.command, s.count]));
  assert.equal(rows.get(OTHER_COMMANDS), 2 * extra, 'the invented names past the cap, both times each');
  assert.equal(rows.get('X0'), 2);
  assert.equal(rows.get(`X${MAX_OTHER_COMMAND_NAMES - 1}`), 2);
  assert.equal(rows.has(`X${MAX_OTHER_COMMAND_NAMES}`), false);
  assert.equal(rows.get('UID FETCH'), Math.ceil((MAX_OTHER_COMMAND_NAMES + extra) / 100));
  assert.equal(rows.size, MAX_OTHER_COMMAND_NAMES + 3);
  assert.deepEqual(firsts, [`X${MAX_OTHER_COMMAND_NAMES}`], 'the first exchange pooled, and only it');
});
