/**
 * compare gathers each connection's behaviour as the capture streams (src/compare/behaviour.ts), once the connection
 * is drained: its exchanges may be reported after its end, and its end may move after that (its last ACK). Both
 * must still count; and what compare keeps of a capture is per connection, never per exchange object.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeCapture } from '../src/analysis/analyzer.js';
import { concurrency } from '../src/analysis/concurrency.js';
import { analyzeWithFetches } from '../src/analysis/full.js';
import { BehaviourCollector, connectionsOf } from '../src/compare/behaviour.js';
import { captureBehaviour } from '../src/compare/capture-behaviour.js';
import { compareProfiles, comparisonsWithFirst, KEPT_ALIGNMENTS, KEPT_COMPARISONS, keptAlignments } from '../src/compare/diff.js';
import { buildProfiles, KEPT_PROFILES, signature } from '../src/compare/profile.js';
import { spawnSync } from 'node:child_process';
import { CAPTURES, CLI } from './helpers/env.js';
import { compareJson } from '../src/report/compare.js';
import { jsonPieces, jsonText } from '../src/util/json.js';
import { TcpFlow, writeCapture, type SynthPacket } from './helpers/synth.js';
import { generateScaleCapture } from '../bench/scale-captures.js';
import { footprint, perUnit } from './helpers/footprint.js';
import { collectGarbage } from './helpers/gc.js';
import type { Exchange } from '../src/imap/model.js';
import { idleAcrossAnotherSession, lastAckAfterNextSyn } from './helpers/late-sessions.js';

const tmp = mkdtempSync(join(tmpdir(), 'imapscope-compare-streaming-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

test('a connection whose exchanges are reported after its end keeps them (commands, latencies, extensions)', async () => {
  const path = join(tmp, 'idle-across.pcap');
  idleAcrossAnotherSession(path);
  const behaviour = await captureBehaviour(path, {}, 'client-ip');
  const [idler, other] = connectionsOf(behaviour);
  assert.deepEqual(other!.commands, ['CAPABILITY', 'LOGIN <user> <password>', 'LOGOUT']);
  // Each exchange's latency is kept with its command name, a connection's exchanges together, found from its row (in
  // order of id: the idler's row is first, though it was drained last).
  const { names, ms } = behaviour.latencies;
  const { firstExchange, exchanges, groups } = behaviour.connections;
  const exchangesOf = (row: number) => Array.from({ length: exchanges[row]! }, (_, k) => firstExchange[row]! + k);
  assert.deepEqual([0, 1].map((row) => behaviour.groups[groups[row]!]), ['10.0.0.1', '10.0.0.2']);
  assert.deepEqual(exchangesOf(1).map((e) => behaviour.strings[names[e]!]), ['CAPABILITY', 'LOGIN', 'LOGOUT']);
  assert.ok(exchangesOf(1).every((e) => ms[e]! >= 0), 'each measured');
  assert.deepEqual(exchangesOf(0).map((e) => behaviour.strings[names[e]!]), ['IDLE']);
  assert.equal(ms.length, 4);
  assert.deepEqual(idler!.traits.extensions, ['IDLE']);
  assert.notEqual(idler!.traits, other!.traits);
  assert.deepEqual([...buildProfiles([{ label: 'x', behaviour }], 'client-ip')].map((p) => [p.label, Object.keys(p.latency)]), [['x: 10.0.0.1', ['IDLE']], ['x: 10.0.0.2', ['CAPABILITY', 'LOGIN', 'LOGOUT']]]);
});

test('profiles by address meet within captures of one label only; profiles by user meet across captures', async () => {
  // Both scale captures number their clients from 10.1.0.0: the same addresses in captures of different labels.
  const named = join(tmp, 'named-5.pcap');
  const closed = join(tmp, 'closed-4.pcap');
  await generateScaleCapture('named', 5, named);
  await generateScaleCapture('closed', 4, closed);
  const byAddress = async (path: string) => captureBehaviour(path, {}, 'client-ip');
  const [a, b] = [await byAddress(named), await byAddress(closed)];
  const profiles = [...buildProfiles([{ label: 'a', behaviour: a }, { label: 'b', behaviour: b }, { label: 'a', behaviour: a }], 'client-ip')];
  const addresses = (n: number) => Array.from({ length: n }, (_, i) => `10.1.0.${i}`);
  assert.deepEqual(profiles.map((p) => [p.label, p.connections.length]), [
    ...addresses(5).map((ip) => [`a: ${ip}`, 2]),
    ...addresses(4).map((ip) => [`b: ${ip}`, 1]),
  ]);
  const byUser = async (path: string) => captureBehaviour(path, {}, 'user');
  const users = buildProfiles([
    { label: 'alice', behaviour: await byUser(join(CAPTURES, 'seed-alice.pcap')) }, { label: 'named', behaviour: await byUser(named) },
    { label: 'bob', behaviour: await byUser(join(CAPTURES, 'seed-bob.pcap')) }, { label: 'closed', behaviour: await byUser(closed) },
  ], 'user');
  assert.deepEqual([...users].map((p) => [p.label, p.connections.length]), [['alice', 3], ['user', 9], ['bob', 3]]);
});

test('the alignments kept for reuse are the recent ones, at most KEPT_ALIGNMENTS; one made again reads the same', async () => {
  // A client of its own per address, each authenticating with a mechanism of its own: a command sequence per session.
  const path = join(tmp, `named-${KEPT_ALIGNMENTS + 100}.pcap`);
  await generateScaleCapture('named', KEPT_ALIGNMENTS + 100, path);
  const profiles = buildProfiles([{ label: 'x', behaviour: await captureBehaviour(path, {}, 'client-ip') }], 'client-ip');
  const sequences = profiles.at(0)!.connections.sequences;
  const comparisons = comparisonsWithFirst(profiles);
  const rowsOf = (c: { pairs: Iterable<{ rows: Iterable<unknown> }> }) => [...c.pairs].map((p) => [...p.rows]);
  const first = [...comparisons].slice(0, 3).map(rowsOf);
  const kept = keptAlignments(sequences);
  assert.ok(kept <= KEPT_ALIGNMENTS && kept >= KEPT_ALIGNMENTS / 2, `${kept} alignments kept`);
  // The first comparisons' alignments were let go for later ones, and are made again as they were.
  assert.deepEqual([...comparisons].slice(0, 3).map(rowsOf), first);
  assert.notDeepEqual(first[0], first[1], 'the sequences differ');
});

test('the most connections at once counts a connection open until its last ACK, after its end was first reported', async () => {
  const path = join(tmp, 'last-ack.pcap');
  lastAckAfterNextSyn(path);
  const [profile] = buildProfiles([{ label: 'x', behaviour: await captureBehaviour(path) }], 'capture');
  assert.equal(profile!.maxConcurrent, 2);
});

test('a profile\'s most connections at once is the capture\'s, whether it has a few connections or many', async () => {
  const closed = join(tmp, 'closed-40.pcap');
  await generateScaleCapture('closed', 40, closed, 0.002);
  for (const path of [...['seed-alice.pcap', 'seed-bob.pcap', 'curl.pcap', 'offlineimap.pcapng', 'append-idle.pcap'].map((c) => join(CAPTURES, c)), closed]) {
    const { connections } = await analyzeCapture(path);
    const [profile] = buildProfiles([{ label: 'x', behaviour: await captureBehaviour(path) }], 'capture');
    assert.equal(profile!.maxConcurrent, concurrency(connections.map((c) => c.conn)).max, path);
  }
});

test('what compare keeps per drained connection is a row of numbers: no object, no exchange', async () => {
  const path = join(tmp, 'closed.pcap');
  await generateScaleCapture('closed', 300, path);
  const model = await analyzeCapture(path, { keepExchanges: true });
  /** With `lingering`, each connection is drained before its end is final (its conversation lingers), and not settled yet. */
  const collected = (count: number, lingering = false) => {
    const collector = new BehaviourCollector();
    const conns = model.connections.slice(0, count);
    const ids = new Set(conns.map((c) => c.conn.id));
    const idled = new Set<number>();
    for (const ex of model.exchanges!) {
      if (!ids.has(ex.conn)) continue;
      collector.exchange(ex);
      // And an extension's command: what the collector keeps of a connection's extensions goes when it is drained.
      if (!idled.has(ex.conn)) collector.exchange({ ...ex, command: 'IDLE', shape: 'IDLE', args: '' });
      idled.add(ex.conn);
    }
    for (const c of conns) {
      collector.endedAt(c);
      if (!lingering) collector.settle({ id: c.conn.id, lastFrame: c.conn.lastFrame, end: c.conn.end });
      collector.drained(c);
    }
    return collector;
  };
  const shared = [model];
  const each = perUnit(footprint([collected(300).result()], shared), footprint([collected(150).result()], shared), 150);
  // A drained connection is a row of numbers in columns (their buffers are counted once each, not by size): no object.
  assert.deepEqual(each.kinds, {});
  assert.equal(each.bytes, 0);
  // The collector holds nothing more per connection than what it hands back; a drained connection whose end is not final
  // yet waits as its row's number (a Map entry), not as an object.
  assert.deepEqual(perUnit(footprint([collected(300)], shared), footprint([collected(150)], shared), 150).kinds, {});
  const waiting = perUnit(footprint([collected(300, true)], shared), footprint([collected(150, true)], shared), 150);
  assert.deepEqual(waiting.kinds, {});
  assert.ok(waiting.bytes <= 24, `${waiting.bytes} bytes per connection waiting to be settled`);
  const result = collected(300).result();
  const columns = [...Object.values(result.connections.lifetimes), ...Object.values(result.connections)].filter(ArrayBuffer.isView);
  const bytes = columns.reduce((n, column) => n + column.byteLength, 0);
  assert.ok(bytes / 300 <= 78, `${bytes / 300} bytes per connection in columns`);
  // Each exchange is its name's number and its latency; its connection's row says where its exchanges are.
  const { names, ms } = result.latencies;
  assert.equal((names.byteLength + ms.byteLength) / ms.length, 12);
  assert.equal(ms.length, model.exchanges!.filter((ex) => model.connections.slice(0, 300).some((c) => c.conn.id === ex.conn)).length + 300, 'and an IDLE each');
  const fewer = collected(150).result();
  assert.deepEqual([result.strings.length, result.sequences.length, result.traits.length], [fewer.strings.length, fewer.sequences.length, fewer.traits.length],
    'shapes, names, sequences and traits are kept once per capture');
  assert.deepEqual([...connectionsOf(result)].map((c) => c.id), model.connections.slice(0, 300).map((c) => c.conn.id), 'in order of id');
});

/** Connection 0 only logs out; connection 1 asks for capabilities first, so it sorts first. */
function twoOutOfOrder(path: string): void {
  const first = new TcpFlow({ client: { ip: '10.0.0.1', port: 40000 }, start: 1_700_000_000 });
  const second = new TcpFlow({ client: { ip: '10.0.0.2', port: 40001 }, start: 1_700_000_001 });
  const packets: SynthPacket[] = [
    ...first.handshake(), ...first.send('server', '* OK ready\r\n'), ...first.send('client', 'a1 LOGOUT\r\n'),
    ...first.send('server', '* BYE\r\na1 OK\r\n'), ...first.close('fin', 'server'),
    ...second.handshake(), ...second.send('server', '* OK ready\r\n'), ...second.send('client', 'b1 CAPABILITY\r\n'),
    ...second.send('server', '* CAPABILITY IMAP4rev1\r\nb1 OK\r\n'), ...second.send('client', 'b2 LOGOUT\r\n'),
    ...second.send('server', '* BYE\r\nb2 OK\r\n'), ...second.close('fin', 'server'),
  ];
  writeCapture(path, { format: 'pcap', packets });
}

test('a profile lists its connections by what they did (commands, then item sets), those alike in the order they came', async () => {
  const closed = join(tmp, 'closed-order.pcap');
  await generateScaleCapture('closed', 200, closed);
  const two = join(tmp, 'two-out-of-order.pcap');
  twoOutOfOrder(two);
  const [profile] = buildProfiles([{ label: two, behaviour: await captureBehaviour(two) }], 'capture');
  assert.deepEqual([...profile!.connections].map((c) => c.conn), [1, 0]);
  for (const path of [closed, join(CAPTURES, 'offlineimap.pcapng'), join(CAPTURES, 'seed-alice.pcap'), join(CAPTURES, 'append-idle.pcap')]) {
    const behaviour = await captureBehaviour(path);
    const [profile] = buildProfiles([{ label: path, behaviour }], 'capture');
    const listed = [...profile!.connections];
    assert.deepEqual(listed.map((c) => c.conn).sort((x, y) => x - y), [...connectionsOf(behaviour)].map((c) => c.id), `${path}: each connection once`);
    for (let k = 1; k < listed.length; k++) {
      const order = signature(listed[k - 1]!).localeCompare(signature(listed[k]!));
      assert.ok(order < 0 || (order === 0 && listed[k - 1]!.conn < listed[k]!.conn), `${path}: connections ${listed[k - 1]!.conn} and ${listed[k]!.conn} out of order`);
    }
  }
});

test('a connection not yet drained with two exchanges keeps its six numbers in a list of six, not of twenty (garbage collector\'s count)', async () => {
  const connections = 20_000;
  const exchange = (conn: number, command: string) => ({ conn, requestMissing: false, shape: command, command, start: null, end: null, clientMs: 0, status: 'OK' }) as unknown as Exchange;
  const collector = new BehaviourCollector();
  // The exchanges' texts are numbered once: made before the measure starts.
  collector.exchange(exchange(-1, 'LOGIN <user> <secret>'));
  collector.exchange(exchange(-1, 'SELECT <mailbox>'));
  await collectGarbage();
  const before = process.memoryUsage().heapUsed;
  for (let conn = 0; conn < connections; conn++) {
    collector.exchange(exchange(conn, 'LOGIN <user> <secret>'));
    collector.exchange(exchange(conn, 'SELECT <mailbox>'));
  }
  await collectGarbage();
  const each = (process.memoryUsage().heapUsed - before) / connections;
  // Its entry in the map of its exchanges (about 40 bytes), its list (32) and six numbers (64), about 140: a push onto
  // an empty list made room for twenty (176), 250 in all, and a record per connection holding its lists cost 48 more.
  assert.ok(each < 170, `${each.toFixed(0)} bytes per connection`);
  // Read after the measure, so the collector (and what it holds) was alive through it.
  assert.equal(collector.result().connections.lifetimes.size, 0, 'none drained');
});

test('each connection\'s FETCH item sets, taken as each step completes, are in request order: as the tracker lists its steps', async () => {
  // Two FETCH commands sent in two frames, answered in reverse order; then 60 more, each answered in turn (a
  // connection's numbers move from a plain list to a typed one past 32 exchanges).
  const reversed = join(tmp, 'fetches-answered-in-reverse.pcap');
  const flow = new TcpFlow({ client: { ip: '10.0.0.1', port: 40000 }, start: 1_700_000_000 });
  const items = (k: number) => (k % 3 === 0 ? 'FLAGS' : k % 3 === 1 ? 'UID RFC822.SIZE' : 'FLAGS RFC822.SIZE');
  const answer = (k: number) => (k % 3 === 0 ? 'UID 7 FLAGS ()' : k % 3 === 1 ? 'UID 7 RFC822.SIZE 9' : 'UID 7 FLAGS () RFC822.SIZE 9');
  const inTurn = Array.from({ length: 60 }, (_, k) => k);
  writeCapture(reversed, { format: 'pcap', packets: [
    ...flow.handshake(), ...flow.send('server', '* OK ready\r\n'), ...flow.send('client', 'a1 SELECT INBOX\r\n'),
    ...flow.send('server', '* 1 EXISTS\r\n* OK [UIDVALIDITY 3] ok\r\na1 OK [READ-WRITE] done\r\n'),
    ...flow.send('client', 'a2 UID FETCH 7 (FLAGS)\r\n'), ...flow.send('client', 'a3 UID FETCH 7 (UID RFC822.SIZE)\r\n'),
    ...flow.send('server', '* 1 FETCH (UID 7 RFC822.SIZE 9)\r\na3 OK done\r\n* 1 FETCH (UID 7 FLAGS ())\r\na2 OK done\r\n'),
    ...inTurn.flatMap((k) => [
      ...flow.send('client', `b${k} UID FETCH 7 (${items(k)})\r\n`), ...flow.send('server', `* 1 FETCH (${answer(k)})\r\nb${k} OK done\r\n`),
    ]),
    ...flow.close('fin', 'client'),
  ] });
  let steps = 0;
  for (const path of [reversed, ...['offlineimap.pcapng', 'mbsync.pcap', 'seed-alice.pcap', 'fetchmail.pcap'].map((name) => join(CAPTURES, name))]) {
    const name = path;
    const { fetches } = await analyzeWithFetches(path, {}, { stepUids: false });
    const expected = new Map<number, string[]>();
    for (const step of fetches.steps) {
      const list = expected.get(step.conn) ?? [];
      list.push(step.items.join(' '));
      expected.set(step.conn, list);
    }
    fetches.dispose();
    for (const c of connectionsOf(await captureBehaviour(path))) {
      assert.deepEqual(c.fetches, expected.get(c.id) ?? [], `${name}: connection ${c.id}`);
      if (path === reversed) {
        assert.deepEqual(c.fetches.slice(0, 2), ['UID FLAGS', 'UID RFC822.SIZE'], 'the first sent first');
        assert.equal(c.fetches.length, 62);
        // Every command once, in request order (its shape ends with its items).
        assert.deepEqual(c.commands.slice(1).map((shape) => /\(([^()]*)\)$/.exec(shape)?.[1]), ['FLAGS', 'UID RFC822.SIZE', ...inTurn.map(items)]);
        assert.equal(c.commands.length, 63);
      }
      steps += c.fetches.length;
    }
  }
  assert.ok(steps > 20, `${steps} steps`);
});

test('a comparison\'s lists, made as they are read, are as long as they say; it is the same exactly when nothing differs', async () => {
  const names = ['seed-alice.pcap', 'seed-bob.pcap', 'mbsync.pcap', 'offlineimap.pcapng', 'append-idle.pcap', 'curl.pcap', 'fetchmail.pcap'];
  const inputs = await Promise.all(names.map(async (name) => ({ label: name, behaviour: await captureBehaviour(join(CAPTURES, name)) })));
  const profiles = buildProfiles(inputs, 'capture');
  let sameSeen = false;
  for (const a of profiles) {
    for (const b of profiles) {
      const c = compareProfiles(a, b);
      const where = `${a.label} against ${b.label}`;
      assert.equal([...c.differences].length, c.differences.length, `${where}: differences`);
      assert.equal([...c.sameAspects].length, c.sameAspects.length, `${where}: the same`);
      assert.equal([...c.pairs].length, c.pairs.length, `${where}: pairs`);
      assert.equal(c.same, [...c.differences].length === 0, where);
      assert.deepEqual(c.sameAspects.first(3), [...c.sameAspects].slice(0, 3));
      if (a === b) assert.ok(c.same, `${where}: a profile is the same as itself`);
      sameSeen ||= c.same && a !== b;
    }
  }
  assert.ok(sameSeen, 'two accounts of one client behave the same');
});

test('grouped by capture, a capture given twice makes one profile, of its own connections once', async () => {
  const behaviour = await captureBehaviour(join(CAPTURES, 'offlineimap.pcapng'));
  const once = buildProfiles([{ label: 'o', behaviour }], 'capture');
  const twice = buildProfiles([{ label: 'o', behaviour }, { label: 'o', behaviour }], 'capture');
  assert.equal(twice.length, 1);
  assert.deepEqual([...twice.at(0)!.connections], [...once.at(0)!.connections]);
  assert.deepEqual({ ...twice.at(0)!, connections: null }, { ...once.at(0)!, connections: null });
});

test('a connection of 150,000 commands aligns into rows kept as numbers, written one at a time (text and JSON); its profile\'s list in batches', async () => {
  const path = join(tmp, 'pipelined.pcap');
  await generateScaleCapture('pipelined', 150_000, path);
  const profiles = buildProfiles([
    { label: 'long', behaviour: await captureBehaviour(path) },
    { label: 'mbsync', behaviour: await captureBehaviour(join(CAPTURES, 'mbsync.pcap')) },
  ], 'capture');
  const comparison = compareProfiles(profiles.at(0)!, profiles.at(1)!);
  const [pair] = [...comparison.pairs];
  assert.equal(pair!.a!.commands.length, 150_000);
  const rows = pair!.rows;
  // Too different to search (more than 2,000 edits apart): every command of b is a changed row, the rest only in a.
  assert.deepEqual([rows.length, rows.count('changed'), rows.count('onlyA'), rows.count('same')], [150_000, 25, 149_975, 0]);
  assert.deepEqual(rows.row(149_999), { mark: 'onlyA', a: 'NOOP', b: null });
  // No object per row: the marks and positions are typed arrays, the commands the profiles' own.
  const held = footprint([rows], [pair!.a!.commands, pair!.b!.commands]);
  assert.ok(held.kinds.object! + (held.kinds.Array ?? 0) < 10, JSON.stringify(held.kinds));

  // JSON: no piece of the comparisons is the pair's 150,000 rows at once.
  // Nor of the profiles: the connection's 150,000 commands are written in batches, not as one string.
  const document = compareJson(profiles, [comparison]) as { comparisons: unknown; profiles: unknown };
  for (const [part, atLeast] of [[document.comparisons, 10_000_000], [document.profiles, 2_000_000]] as const) {
    let longest = 0;
    let total = 0;
    for (const piece of jsonPieces(part, 2)) {
      longest = Math.max(longest, piece.length);
      total += piece.length;
    }
    assert.ok(total > atLeast && longest < 100_000, `${total} characters, the longest piece ${longest}`);
  }

  // Text: one line per row that is not folded (a spread of 150,000 rows as arguments overflowed the stack).
  const r = spawnSync(process.execPath, [CLI, 'compare', path, join(CAPTURES, 'mbsync.pcap')], { encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0' }, maxBuffer: 1 << 30 });
  assert.equal(r.status, 0, r.stderr.slice(-500));
  const lines = r.stdout.split('\n');
  assert.ok(lines.includes('pair 1 of 1, the connection that does little: a conn 0 (150000 commands) ↔ b conn 0 (25 commands), 0% alike'));
  assert.equal(lines.filter((l) => / \| /.test(l)).length, 25);
  assert.equal(lines.filter((l) => /^NOOP +<$/.test(l)).length, 149_975);
});

test('with a spool, the drained connections\' rows and exchanges wait on disk while the capture is read; the same behaviour, and no file after', { timeout: 120_000 }, async () => {
  const path = join(tmp, 'closed-9000.pcap');
  await generateScaleCapture('closed', 9000, path);
  const spool = join(tmp, 'spool');
  let messages = 0;
  const most = { rows: 0, latencies: 0 };
  const look = () => {
    if (++messages % 2000 !== 0) return;
    for (const [key, file] of [['rows', spool], ['latencies', `${spool}.latencies`]] as const) if (existsSync(file)) most[key] = Math.max(most[key], statSync(file).size);
  };
  const spooled = await captureBehaviour(path, { onMessage: look }, 'capture', spool);
  const held = await captureBehaviour(path);
  assert.equal(spooled.connections.lifetimes.size, 9000);
  assert.deepEqual(spooled, held);
  // 8,192 rows make a block: 32 bytes a connection beside its lifetime, 16 an exchange; gathered 64 KiB at a time.
  assert.ok(most.rows >= 8192 * 32 - 65536, `${most.rows} bytes of connections' rows on disk`);
  assert.ok(most.latencies >= 3 * 8192 * 16 - 65536, `${most.latencies} bytes of exchanges on disk`);
  assert.equal(existsSync(spool) || existsSync(`${spool}.latencies`), false, 'read back and removed');
});

test('compare spools in a private directory of TMPDIR and removes it; without one, it says so and holds the rows, with the same output', () => {
  const dir = mkdtempSync(join(tmp, 'tmpdir-'));
  const run = (tmpdir: string) => spawnSync(process.execPath, [CLI, 'compare', '--json', join(CAPTURES, 'mbsync.pcap'), join(CAPTURES, 'offlineimap.pcapng')], { encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0', TMPDIR: tmpdir } });
  const spooled = run(dir);
  assert.equal(spooled.status, 0, spooled.stderr);
  assert.deepEqual(readdirSync(dir), [], 'the directory is removed');
  const held = run(join(dir, 'no-such-dir'));
  assert.equal(held.status, 0, held.stderr);
  assert.match(held.stderr, /^imapscope: warning: no temporary directory to spool connection rows to \(.*no-such-dir: ENOENT\); every connection's row is held in memory \(set TMPDIR to a writable directory\)\n/);
  assert.ok(spooled.stdout.length > 1000);
  assert.equal(held.stdout, spooled.stdout);
});

test('long command sequences are numbered alike exactly when equal: two connections of 600 the same, a third one command apart', async () => {
  // Past 256 commands a sequence's key is a digest (src/util/list-key.ts): a key too coarse would show the third
  // connection's commands as the first's, one too fine would count three sequences.
  const path = join(tmp, 'long-sequences.pcap');
  const packets: SynthPacket[] = [];
  for (const [c, odd] of [[0, -1], [1, -1], [2, 400]] as const) {
    const f = new TcpFlow({ client: { ip: '10.0.0.1', port: 40000 + c }, server: { ip: '10.0.0.2', port: 143 }, start: 1_700_000_000 + c * 10, rtt: 0.001 });
    packets.push(...f.handshake(), ...f.send('server', '* OK ready\r\n'));
    const commands = Array.from({ length: 600 }, (_, k) => (k === odd ? `c${k} CHECK\r\n` : k % 2 ? `c${k} NOOP\r\n` : `c${k} SELECT "box${k}"\r\n`));
    for (let k = 0; k < 600; k += 100) {
      packets.push(...f.send('client', commands.slice(k, k + 100).join('')),
        ...f.send('server', Array.from({ length: 100 }, (_, j) => `c${k + j} OK done\r\n`).join('')));
    }
    packets.push(...f.close('fin', 'client'));
  }
  writeCapture(path, { format: 'pcap', packets: packets.sort((x, y) => Number(x.t) - Number(y.t)) });
  const behaviour = await captureBehaviour(path);
  const rows = behaviour.connections.commands;
  assert.equal(rows.length, 3);
  assert.equal(rows[0], rows[1]);
  assert.notEqual(rows[2], rows[0]);
  // Two command sequences and one of item sets (none): three in all.
  assert.equal(behaviour.sequences.length, 3);
  const [profile] = buildProfiles([{ label: 'a', behaviour }], 'capture');
  const listed = [...profile!.connections].map((c) => ({ conn: c.conn, odd: c.commands.filter((s) => s === 'CHECK').length, length: c.commands.length }));
  assert.deepEqual(listed.sort((x, y) => x.conn - y.conn), [{ conn: 0, odd: 0, length: 600 }, { conn: 1, odd: 0, length: 600 }, { conn: 2, odd: 1, length: 600 }]);
});

test('with a spool, the numbers of connections open to the end wait on disk past a chunk; the same behaviour, and no file after', async () => {
  // Four clients, 1,200 FETCHes each, none closed: every exchange and step waits for the end of the input.
  const path = join(tmp, 'open-long.pcap');
  const packets: SynthPacket[] = [];
  const count = 1200;
  for (let c = 0; c < 4; c++) {
    const f = new TcpFlow({ client: { ip: '10.0.0.1', port: 41000 + c }, server: { ip: '10.0.0.2', port: 143 }, start: 1_700_000_000 + c * 10, rtt: 0.001 });
    packets.push(...f.handshake(), ...f.send('server', '* OK ready\r\n'), ...f.send('client', 's SELECT INBOX\r\n'), ...f.send('server', '* 3 EXISTS\r\ns OK done\r\n'));
    for (let k = 0; k < count; k += 100) {
      const ids = Array.from({ length: 100 }, (_, j) => k + j);
      packets.push(...f.send('client', ids.map((i) => `f${i} UID FETCH ${i % 3 + 1} (FLAGS${i % 2 ? ' INTERNALDATE' : ''})\r\n`).join('')),
        ...f.send('server', ids.map((i) => `* ${i % 3 + 1} FETCH (UID ${i % 3 + 1} FLAGS ()${i % 2 ? ' INTERNALDATE "17-Jul-1996 02:44:25 -0700"' : ''})\r\nf${i} OK done\r\n`).join('')));
    }
  }
  writeCapture(path, { format: 'pcap', packets });
  const spool = join(tmp, 'open-spool');
  let most = 0;
  const look = () => {
    if (existsSync(`${spool}.open`)) most = Math.max(most, statSync(`${spool}.open`).size);
  };
  const spooled = await captureBehaviour(path, { onMessage: look }, 'capture', spool);
  const held = await captureBehaviour(path);
  assert.deepEqual(spooled, held);
  assert.equal(spooled.connections.lifetimes.size, 4);
  assert.equal(spooled.latencies.ms.length, 4 * (count + 1));
  // Three numbers per exchange and per step, 1,536 a chunk: two chunks of each list out of four connections' lists of
  // 3,603 and 3,600, gathered 64 KiB at a time.
  assert.ok(most >= 65536, `${most} bytes of open connections' numbers on disk`);
  assert.equal(existsSync(`${spool}.open`), false, 'removed');
  // A pass that fails midway leaves none of the spool's files behind.
  let messages = 0;
  const failing = join(tmp, 'failing-spool');
  await assert.rejects(captureBehaviour(path, { onMessage: () => { if (++messages === 3000) throw new Error('stop here'); } }, 'capture', failing), /stop here/);
  for (const file of [failing, `${failing}.latencies`, `${failing}.open`]) assert.equal(existsSync(file), false, file);
  // Each connection's commands and item sets in request order, whether their numbers came back from disk or not.
  const [profile] = buildProfiles([{ label: 'a', behaviour: spooled }], 'capture');
  for (const c of profile!.connections) {
    assert.equal(c.commands.length, count + 1);
    assert.equal(c.fetches.length, count);
    assert.notEqual(c.fetches[0], c.fetches[1]);
    assert.deepEqual(c.fetches.map((s, i) => s === c.fetches[i % 2]), c.fetches.map(() => true));
  }
});

test('a profile per client, past 64 of them: profiles and comparisons made as they are read, the same document as made at once', async () => {
  // 70 clients of one server; the 41st sends a command more, the 60th uses another mailbox.
  const clients = 70;
  assert.ok(clients - 1 > KEPT_COMPARISONS && clients > KEPT_PROFILES);
  const path = join(tmp, 'clients.pcap');
  const packets: SynthPacket[] = [];
  for (let c = 0; c < clients; c++) {
    const f = new TcpFlow({ client: { ip: `10.9.${c >> 8}.${c & 255}`, port: 40000 }, server: { ip: '10.0.0.2', port: 143 }, start: 1_700_000_000 + c, rtt: 0.001 });
    const commands = ['a LOGIN u p', `b SELECT ${c === 59 ? 'Sent' : 'INBOX'}`, 'c NOOP', ...(c === 40 ? ['d CHECK'] : []), 'z LOGOUT'];
    packets.push(...f.handshake(), ...f.send('server', '* OK ready\r\n'));
    for (const command of commands) packets.push(...f.send('client', `${command}\r\n`), ...f.send('server', `${command.split(' ')[0]} OK done\r\n`));
    packets.push(...f.close('fin', 'client'));
  }
  writeCapture(path, { format: 'pcap', packets });
  const profiles = buildProfiles([{ label: 'x', behaviour: await captureBehaviour(path, {}, 'client-ip') }], 'client-ip');
  assert.equal(profiles.length, clients);
  // Made each time read, but the first, which every comparison reads.
  assert.equal(Array.isArray(profiles), false);
  assert.equal(profiles.at(0), profiles.at(0));
  assert.notEqual(profiles.at(5), profiles.at(5));
  assert.deepEqual(profiles.at(5), profiles.at(5));
  assert.equal(profiles.at(clients), undefined);
  const comparisons = comparisonsWithFirst(profiles);
  assert.equal(Array.isArray(comparisons), false);
  assert.equal(comparisons.length, clients - 1);
  const streamed = [...jsonPieces(compareJson(profiles, comparisons), 2)].join('');
  const eager = [...profiles];
  const atOnce = jsonText(compareJson(eager, eager.slice(1).map((p) => compareProfiles(eager[0]!, p))), 2);
  assert.equal(streamed, atOnce);
  const document = JSON.parse(streamed);
  assert.equal(document.same, false);
  assert.deepEqual(document.comparisons.filter((c: { same: boolean }) => !c.same).map((c: { b: string }) => c.b), ['x: 10.9.0.40', 'x: 10.9.0.59']);
  assert.equal(document.profiles.length, clients);
  // Through the CLI: --expect-same fails (exit 1) on the same document, as JSON and as text.
  const run = spawnSync(process.execPath, [CLI, 'compare', '--by', 'client-ip', '--json', '--expect-same', path], { encoding: 'utf8', maxBuffer: 1 << 28 });
  assert.equal(run.status, 1, run.stderr);
  assert.equal(run.stdout, `${atOnce.replaceAll('"x: ', `"${path}: `).replaceAll('"a": "x"', `"a": "${path}"`).replaceAll('"label": "x"', `"label": "${path}"`)}\n`);
  const text = spawnSync(process.execPath, [CLI, 'compare', '--by', 'client-ip', '--expect-same', path], { encoding: 'utf8', maxBuffer: 1 << 28, env: { ...process.env, FORCE_COLOR: '0' } });
  assert.equal(text.status, 1, text.stderr);
  assert.equal(text.stdout.split('\n').filter((l) => l.startsWith('a and b behave differently')).length, 2);
  // The profiles a row each (70 columns would fit no screen), drawn as they are made.
  const lines = text.stdout.split('\n');
  assert.match(lines[1]!, /^│ profile +│ connections │ most at once │ client ID +│ authentication │ extensions +│ commands per connection │ FETCH commands │ bytes C→S \/ S→C +│$/);
  const rows = lines.filter((l) => l.startsWith(`│ ${path}: 10.9.0.`));
  assert.equal(rows.length, clients);
  const commandsOf = (row: string) => Number(row.split('│')[7]!.trim());
  assert.deepEqual(rows.map(commandsOf), Array.from({ length: clients }, (_, c) => (c === 40 ? 5 : 4)));
});
