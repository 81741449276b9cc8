/**
 * Each cap in docs/architecture.md ("Limits") that no other test reaches: hit it and check what it does
 * and what it says. (Line length, impossible literals, kept literals, out-of-order bytes, COMPRESS
 * expansion and file names are hit in imap-framer, fetch, tcp, inflate-cap and fuzz-regressions tests.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ExchangeOrderer, MAX_WAITING } from '../src/analysis/orderer.js';
import type { Exchange } from '../src/imap/model.js';
import { TokenReader, type Value } from '../src/imap/tokens.js';
import { parseBodyStructure } from '../src/mime/bodystructure.js';
import { HandshakeReader } from '../src/tls/handshake-reader.js';
import { MAX_FRAGMENT_LENGTH, RecordReader } from '../src/tls/record-reader.js';
import type { Warning } from '../src/capture/types.js';
import { parserFor } from '../fuzz/seeds.js';
import { MAX_PENDING_COMMANDS, MAX_PENDING_HELD, PendingCommands } from '../src/imap/pending.js';
import type { Claimant } from '../src/imap/attribution.js';
import type { Side } from '../src/tcp/types.js';
import { T0 } from './helpers/imap.js';
import { exchangeStub, runSession } from './helpers/imap.js';
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeCapture } from '../src/analysis/analyzer.js';
import { LET_GO_WARNED } from '../src/analysis/order-warnings.js';
import { generateScaleCapture } from '../bench/scale-captures.js';
import { MAX_WARNINGS_KEPT } from '../src/analysis/warning-list.js';
import { MAX_STEP_ITEMS } from '../src/analysis/fetches.js';
import { DEFAULT_FRAMER_LIMITS } from '../src/imap/framer.js';
import { MAX_OTHER_COMMAND_NAMES, OTHER_COMMANDS } from '../src/analysis/command-rows.js';
import { embeddedData } from './helpers/report.js';
import { MAX_AUTH_MECHANISMS, MAX_CLIENT_NAMES, MAX_ENABLED_NAMES, MAX_ITEM_SETS, MAX_SHAPES, OTHER_CLIENTS, OTHER_ENABLED, OTHER_ITEM_SETS, OTHER_MECHANISMS } from '../src/compare/distinct.js';
import { MAX_INTERFACES } from '../src/capture/pcapng.js';
import { KeyLog, MAX_KEYLOG_SESSIONS } from '../src/tls/keylog.js';
import { pipelineOptions } from '../src/settings.js';
import { MAX_KEYLOG_FILE_BYTES, readKeyLogFile } from '../src/tls/keylog-file.js';
import { CAPTURES, CLI } from './helpers/env.js';
import { pcapFileHeader, pcapRecord, TcpFlow, writeCapture, type SynthPacket } from './helpers/synth.js';
import { seededInt } from './helpers/random.js';

const message = (line: string) => ({ side: 'server' as const, lines: [line], literals: [], firstFrame: 1, lastFrame: 1, start: T0, end: T0, damaged: false, wireBytes: line.length });
const depthOf = (v: Value): number => (v.kind === 'list' ? 1 + Math.max(0, ...v.items.map(depthOf)) : 0);

test('parentheses nested 100 deep are read as lists; deeper ones are skipped flat (no stack overflow) and marked malformed', () => {
  const ok = new TokenReader(message(`${'('.repeat(100)}x${')'.repeat(100)} y`));
  const okValues = ok.values();
  assert.equal(depthOf(okValues[0]!), 100);
  assert.equal(ok.malformed, false);
  const deep = new TokenReader(message(`${'('.repeat(100_000)}x${')'.repeat(100_000)} y`));
  const values = deep.values();
  assert.ok(depthOf(values[0]!) <= 101, `depth ${depthOf(values[0]!)}`);
  assert.equal(deep.malformed, true);
  assert.deepEqual(values[1], { kind: 'atom', text: 'y' }, 'reading goes on after the skipped part');
});

test('MIME parts nested more than 120 deep are not read, with one warning naming the part', () => {
  // Built as values: from the wire, the tokeniser's 100-level cap is reached first.
  const leaf = new TokenReader(message('("TEXT" "PLAIN" NIL NIL NIL "7BIT" 1 1)')).values()[0]!;
  const nested = (n: number): Value => {
    let v = leaf;
    for (let i = 0; i < n; i++) v = { kind: 'list', items: [v, { kind: 'string', text: 'MIXED' }] };
    return v;
  };
  const parse = (n: number) => {
    const warnings: string[] = [];
    const root = parseBodyStructure(nested(n), (w) => warnings.push(w));
    let depth = 0;
    for (let p = root; p && p.children.length > 0; p = p.children[0]!) depth++;
    return { depth, warnings };
  };
  assert.deepEqual(parse(110).warnings, []);
  assert.equal(parse(110).depth, 110);
  const deep = parse(500);
  assert.equal(deep.warnings.filter((w) => /nested more than 120 deep are not read/.test(w)).length, 1, JSON.stringify(deep.warnings));
  assert.ok(deep.depth < 120, `read ${deep.depth} levels`);
});

test(`exchanges waiting behind an unfinished command: past ${MAX_WAITING.toLocaleString('en-US')}, it leaves the order and goes out when it completes`, () => {
  const released: Exchange[] = [];
  const overflows: [Exchange, number | null][] = [];
  const orderer = new ExchangeOrderer((ex) => released.push(ex), (blocking, frame) => overflows.push([blocking, frame]));
  const ex = (tag: string, responseFrame: number | null = null) => exchangeStub(tag, { responseFrame });
  const idle = ex('idle');
  orderer.opened(idle);
  const all: Exchange[] = [];
  const run = (count: number) => {
    for (let i = 0; i < count; i++) {
      const e = ex(`a${all.length}`, 100 + all.length);
      all.push(e);
      orderer.opened(e);
      orderer.completed(e);
    }
  };
  run(MAX_WAITING);
  assert.equal(released.length, 0, 'up to the cap, everything waits behind the IDLE');
  run(1);
  // The unfinished IDLE, at the frame of the completion that made the waiting ones one too many: one call.
  assert.equal(overflows.length, 1);
  assert.equal(overflows[0]![0], idle);
  assert.equal(overflows[0]![1], all[MAX_WAITING]!.responseFrame);
  assert.deepEqual(released, all, 'the waiting ones went out, in request order');
  // The IDLE no longer holds anything back: later exchanges go out as they complete, none waits.
  run(5);
  assert.deepEqual(released, all);
  orderer.completed(idle);
  assert.equal(released.at(-1), idle, 'the IDLE goes out when it completes');
  assert.equal(released.length, all.length + 1);
  orderer.flush();
  assert.equal(released.length, all.length + 1, 'nothing is released twice');
});

test('exchanges waiting behind unfinished commands: only the command that holds back too much leaves the order, by count or by weight', () => {
  const released: string[] = [];
  let overflows = 0;
  const orderer = new ExchangeOrderer((ex) => released.push(ex.tag!), () => overflows++);
  const ex = (tag: string, args = '') => exchangeStub(tag, { args, argsClear: args, shape: '' });
  // Two IDLEs, one after the other, and a command between them that completes late but in time.
  const first = ex('idle1');
  const pending = ex('p');
  const second = ex('idle2');
  orderer.opened(first);
  orderer.opened(pending);
  orderer.opened(second);
  // Exchanges with a megabyte of arguments: the weight, not the count, hits the cap.
  const heavy = Array.from({ length: 17 }, (_, i) => ex(`h${i}`, 'x'.repeat(1024 * 1024)));
  heavy.forEach((e) => orderer.opened(e));
  orderer.completed(pending);
  for (const e of heavy.slice(0, 15)) orderer.completed(e);
  assert.deepEqual(released, [], 'under 16 MiB waiting: all wait');
  orderer.completed(heavy[15]!);
  // idle1 leaves the order; p goes out; idle2 is the head now, and 16 heavy ones still wait behind it: it leaves too.
  assert.deepEqual(released, ['p', ...heavy.slice(0, 16).map((e) => e.tag)]);
  assert.equal(overflows, 2, 'one call for each command let go');
  orderer.completed(second);
  orderer.completed(first);
  assert.deepEqual(released.slice(-2), ['idle2', 'idle1'], 'each goes out when it completes');
  orderer.completed(heavy[16]!);
  assert.equal(released.at(-1), 'h16');
});

test('the request-order cap on a capture: its warning names the command everything waited behind, the cap and the frame that hit it', async () => {
  // Connection 0 idles through the whole capture; connection 1 pipelines NOOPs, answered in batches.
  const dir = mkdtempSync(join(tmpdir(), 'imapscope-order-cap-'));
  try {
    const idler = new TcpFlow({ client: { ip: '10.0.0.1', port: 40000 }, start: 1_700_000_000 });
    const busy = new TcpFlow({ client: { ip: '10.0.0.2', port: 40001 }, start: 1_700_000_001 });
    const packets: SynthPacket[] = [
      ...idler.handshake(), ...idler.send('server', '* OK ready\r\n'), ...idler.send('client', 'i1 IDLE\r\n'), ...idler.send('server', '+ idling\r\n'),
      ...busy.handshake(), ...busy.send('server', '* OK ready\r\n'),
    ];
    const total = MAX_WAITING + 1_000;
    // Batches under MAX_PENDING_COMMANDS, so that only the order cap is hit.
    for (let first = 0; first < total; first += 4_000) {
      const tags = Array.from({ length: Math.min(4_000, total - first) }, (_, i) => `n${first + i}`);
      packets.push(...busy.send('client', tags.map((t) => `${t} NOOP\r\n`).join('')), ...busy.send('server', tags.map((t) => `${t} OK\r\n`).join('')));
    }
    const path = join(dir, 'order-cap.pcap');
    writeCapture(path, { format: 'pcap', packets });
    const reported: string[] = [];
    const analysis = await analyzeCapture(path, { keepConnections: false, statistics: false, onExchange: (ex) => { reported.push(ex.tag!); } });
    assert.equal(analysis.warnings.length, 1, JSON.stringify(analysis.warnings));
    const w = analysis.warnings[0]!;
    assert.match(w.message, /^connection 0's i1 IDLE \(request in frame (\d+)\) is not complete, and more than 10,000 complete commands and ended connections \(or 16 MiB of commands\) wait behind it \(the cap\): it is reported when it completes, out of request order$/);
    const idleFrame = Number(/request in frame (\d+)/.exec(w.message)![1]);
    assert.equal(idleFrame, 6, 'the IDLE is the first data of the idler after its handshake and greeting');
    // The frame that hit the cap is the one whose segment ends the answer to NOOP number MAX_WAITING (counting from 0):
    // one more than the cap waiting.
    assert.ok(w.frame !== null && w.frame > idleFrame, `frame ${w.frame}`);
    const answered = (upTo: number) => packets.slice(0, upTo)
      .filter((p) => p.sport === 143 && p.dport === 40001 && p.payload)
      .map((p) => p.payload!.toString('latin1')).join('');
    const line = `n${MAX_WAITING} OK\r\n`;
    assert.ok(answered(w.frame!).includes(line), `frame ${w.frame} completes ${line.trim()}`);
    assert.ok(!answered(w.frame! - 1).includes(line), `frame ${w.frame} completes ${line.trim()}, no earlier one`);
    // Every NOOP in request order, the IDLE last: it completes (unanswered) when the input ends.
    assert.deepEqual(reported, [...Array.from({ length: total }, (_, i) => `n${i}`), 'i1']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('thousands of clients idling: the first commands let go of the order are warned about one by one, the rest counted in one warning that accounts for every exchange reported out of order', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'imapscope-idling-'));
  try {
    // Each connection logs in, selects and idles: two complete commands behind every IDLE, so past MAX_WAITING / 2
    // connections each IDLE in turn is let go.
    const count = MAX_WAITING / 2 + 600;
    const path = join(dir, 'idling.pcap');
    await generateScaleCapture('idling', count, path);
    const reported: Exchange[] = [];
    const analysis = await analyzeCapture(path, { keepConnections: false, statistics: false, onExchange: (ex) => { reported.push(ex); } });
    assert.equal(reported.length, 3 * count);
    // Reported after an exchange whose request came later: out of request order.
    let latest = 0;
    const outOfOrder = reported.filter((ex) => {
      const late = ex.requestFrame! < latest;
      latest = Math.max(latest, ex.requestFrame!);
      return late;
    });
    assert.ok(outOfOrder.length > LET_GO_WARNED + 100, `${outOfOrder.length} out of order`);
    assert.ok(outOfOrder.every((ex) => ex.command === 'IDLE'));
    const one = analysis.warnings.filter((w) => /is not complete, and more than 10,000 complete commands/.test(w.message));
    assert.deepEqual(one.map((w) => /^connection (\d+)'s a3 IDLE/.exec(w.message)?.[1]), outOfOrder.slice(0, LET_GO_WARNED).map((ex) => String(ex.conn)),
      'the first ones, each named');
    const rest = analysis.warnings.filter((w) => /more unfinished command/.test(w.message));
    assert.equal(rest.length, 1, JSON.stringify(analysis.warnings.slice(-3)));
    assert.equal(rest[0]!.message, `${outOfOrder.length - LET_GO_WARNED} more unfinished command(s), each an IDLE, left the request order the same way (the cap), the last in this frame: each is reported when it completes`);
    assert.equal(analysis.warnings.length, LET_GO_WARNED + 1, 'nothing else to warn about');
    assert.ok(rest[0]!.frame! > one.at(-1)!.frame!);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('owners that end having asked nothing count against the cap too: the unfinished command leaves the order, and they are drained', () => {
  const log: string[] = [];
  const frames: (number | null)[] = [];
  const orderer = new ExchangeOrderer<string>((ex) => log.push(ex.tag!), (_blocking, frame) => frames.push(frame), (owner) => log.push(owner));
  const idle = exchangeStub('idle');
  orderer.opened(idle, 'idler');
  for (let i = 0; i < MAX_WAITING; i++) orderer.ended(`probe${i}`, null, 1000 + i);
  assert.deepEqual(log, [], 'up to the cap, ended owners wait behind the IDLE');
  orderer.ended('last', null, 5000);
  assert.deepEqual(frames, [5000], 'let go at the frame of the end that tipped it');
  assert.equal(log.length, MAX_WAITING + 1);
  assert.equal(log.at(-1), 'last');
  orderer.completed(idle);
  assert.equal(log.at(-1), 'idle');
  // Those drained no longer count: behind a second unfinished command, a few ended owners wait again.
  const next = exchangeStub('next');
  orderer.opened(next, 'other');
  for (let i = 0; i < 5; i++) orderer.ended(`again${i}`, null, 6000 + i);
  assert.deepEqual(frames, [5000], 'no command let go');
  assert.equal(log.at(-1), 'idle', 'they wait');
  orderer.completed(next);
  assert.deepEqual(log.slice(-6), ['next', 'again0', 'again1', 'again2', 'again3', 'again4']);
});

test('exchanges completing in request order are never forced out, however many commands are open at once', () => {
  // More connections than the cap, each with one unanswered command, closed at the end of the capture in order.
  const released: Exchange[] = [];
  let overflows = 0;
  const orderer = new ExchangeOrderer((ex) => released.push(ex), () => overflows++);
  const all = Array.from({ length: 100_002 }, (_, i) => exchangeStub(`a${i}`));
  for (const e of all) orderer.opened(e);
  for (const e of all) orderer.completed(e);
  assert.equal(overflows, 0);
  assert.equal(released.length, all.length);
  assert.ok(released.every((e, i) => e === all[i]), 'released in request order');
});

test('pending commands: one held alone, scanned while few, indexed past 8, the same answers either way (reused tags, out-of-order completions)', () => {
  // Checked against the plain definition: the oldest outstanding command with the tag.
  type Item = Claimant & { n: number };
  // One outstanding command, held alone.
  const single = new PendingCommands<Item>();
  const idle: Item = { tag: 'a1', n: -1, claim: { kind: 'other' } };
  single.add(idle);
  assert.ok(single.hasTag('a1') && !single.hasTag('a2') && !single.hasTag(null));
  assert.equal(single.takeByTag('a2'), undefined);
  assert.deepEqual([single.length, single.first, single.last, single.list], [1, idle, idle, [idle]]);
  assert.equal(single.takeByTag('a1'), idle);
  assert.deepEqual([single.length, single.first, single.list], [0, undefined, []]);
  const pending = new PendingCommands<Item>({ commands: 64, held: MAX_PENDING_HELD });
  let model: Item[] = [];
  let longest = 0;
  let emptied = 0;
  const random = seededInt(7);
  for (let n = 0; n < 5000; n++) {
    // Pipelines grow past the index threshold and drain back to nothing, again and again.
    const grow = model.length === 0 || random(100) < (n % 400 < 200 ? 70 : 30);
    const tag = random(20) === 0 ? null : `t${random(12)}`;
    if (grow) {
      assert.equal(pending.hasTag(tag), model.some((p) => p.tag === tag && tag !== null), `hasTag(${tag}) at step ${n}`);
      const item: Item = { tag, n, claim: { kind: 'other' } };
      const evicted = pending.add(item);
      model.push(item);
      assert.equal(evicted, model.length > 64 ? model.shift() : undefined, `eviction at step ${n}`);
    } else if (tag !== null) {
      const at = model.findIndex((p) => p.tag === tag);
      const expected = at < 0 ? undefined : model.splice(at, 1)[0];
      assert.equal(pending.takeByTag(tag), expected, `takeByTag(${tag}) at step ${n}`);
    } else if (random(10) === 0) {
      assert.deepEqual(pending.drain(), model);
      model = [];
    }
    assert.equal(pending.length, model.length);
    assert.deepEqual(pending.list, model, `the list at step ${n}`);
    assert.equal(pending.first, model[0]);
    assert.equal(pending.last, model[model.length - 1]);
    assert.equal(pending.find((p) => p.n % 3 === 0), model.find((p) => p.n % 3 === 0));
    longest = Math.max(longest, model.length);
    if (model.length === 0) emptied++;
  }
  assert.ok(longest > 8 && emptied > 2, `the pipeline reached ${longest} and emptied ${emptied} times`);
});

test('a connection remembers at most 1000 mailboxes from LIST', () => {
  const lines = Array.from({ length: 1500 }, (_, i) => `* LIST () "/" "box${i}"\r\n`).join('');
  const { info } = runSession([['server', '* OK hi\r\n'], ['client', 'a1 LIST "" "*"\r\n'], ['server', `${lines}a1 OK done\r\n`]]);
  assert.equal(info.mailboxes.length, 1000);
});

test('TLS: a record longer than 2^14 + 2048 is not TLS; a handshake message over 1 MiB stops the reader', () => {
  const records = new RecordReader();
  const header = Buffer.from([23, 3, 3, 0, 0]);
  header.writeUInt16BE(MAX_FRAGMENT_LENGTH, 3);
  assert.equal(records.push(Buffer.concat([header, Buffer.alloc(MAX_FRAGMENT_LENGTH)]), 1).length, 1, 'the longest record allowed is read');
  header.writeUInt16BE(MAX_FRAGMENT_LENGTH + 1, 3);
  assert.deepEqual(records.push(header, 2), []);
  assert.match(records.error ?? '', /not a TLS record header/);
  const handshake = new HandshakeReader();
  assert.deepEqual(handshake.push(Buffer.from([1, 0x10, 0, 1])), []);
  assert.equal(handshake.error, `handshake message of ${0x100001} bytes`);
});

test('pcapng: a block longer than 16 MiB is corruption: reading stops with a warning naming the offset', () => {
  const shb = Buffer.alloc(28);
  shb.writeUInt32LE(0x0a0d0d0a, 0); shb.writeUInt32LE(28, 4); shb.writeUInt32LE(0x1a2b3c4d, 8);
  shb.writeUInt16LE(1, 12); shb.writeInt32LE(-1, 16); shb.writeInt32LE(-1, 20); shb.writeUInt32LE(28, 24);
  const huge = Buffer.alloc(12);
  huge.writeUInt32LE(6, 0); huge.writeUInt32LE(16 * 1024 * 1024 + 4, 4);
  const warnings: Warning[] = [];
  const parser = parserFor(shb, () => assert.fail('no frame'), (w) => warnings.push(w))!;
  parser.push(Buffer.concat([shb, huge]));
  parser.end();
  assert.equal(warnings.length, 1, JSON.stringify(warnings));
  assert.match(warnings[0]!.message, /corrupt pcapng block \(type 0x6, length 16777220\) at file offset 28/);
});

test('more than 4096 commands outstanding on one connection: the oldest are given up as unanswered, with one warning', () => {
  const commands = Array.from({ length: MAX_PENDING_COMMANDS + 10 }, (_, i) => `a${i} NOOP\r\n`).join('');
  const { warnings, exchanges } = runSession([['server', '* OK hi\r\n'], ['client', commands]]);
  assert.equal(warnings.filter((w) => /more than 4096 commands outstanding at once/.test(w.message)).length, 1, JSON.stringify(warnings.slice(0, 3)));
  assert.equal(exchanges.length, MAX_PENDING_COMMANDS + 10, 'every command is still reported once');
  assert.ok(exchanges.every((e) => e.status === null));
});

/** A little-endian pcapng block: type, length, body padded to 4, length again. */
function pcapngBlock(type: number, body: Buffer): Buffer {
  const padded = Buffer.concat([body, Buffer.alloc((4 - (body.length % 4)) % 4)]);
  const head = Buffer.alloc(8);
  head.writeUInt32LE(type, 0);
  head.writeUInt32LE(padded.length + 12, 4);
  const tail = Buffer.alloc(4);
  tail.writeUInt32LE(padded.length + 12, 0);
  return Buffer.concat([head, padded, tail]);
}

test(`pcapng: more than ${MAX_INTERFACES} interfaces in a section are not kept, with one warning; a new section starts afresh`, () => {
  const shbBody = Buffer.alloc(16);
  shbBody.writeUInt32LE(0x1a2b3c4d, 0); shbBody.writeUInt16LE(1, 4); shbBody.writeInt32LE(-1, 8); shbBody.writeInt32LE(-1, 12);
  const shb = pcapngBlock(0x0a0d0d0a, shbBody);
  const idbBody = Buffer.alloc(8);
  idbBody.writeUInt16LE(1, 0); // Ethernet
  const idb = pcapngBlock(1, idbBody);
  const packet = (ifId: number) => {
    const body = Buffer.alloc(20 + 14);
    body.writeUInt32LE(ifId, 0); body.writeUInt32LE(14, 12); body.writeUInt32LE(14, 16);
    return pcapngBlock(6, body);
  };
  const file = Buffer.concat([
    shb, ...new Array<Buffer>(MAX_INTERFACES + 3).fill(idb), packet(0), packet(MAX_INTERFACES - 1), packet(MAX_INTERFACES), packet(MAX_INTERFACES + 2),
    shb, idb, packet(0), packet(1),
  ]);
  const frames: number[] = [];
  const warnings: Warning[] = [];
  const parser = parserFor(file, (f) => frames.push(f.iface), (w) => warnings.push(w))!;
  parser.push(file);
  parser.end();
  assert.deepEqual(frames, [0, MAX_INTERFACES - 1, 0], 'packets of kept interfaces only');
  assert.deepEqual(warnings.map((w) => w.message), [
    `more than ${MAX_INTERFACES} interface blocks in one pcapng section (the cap): the later ones are ignored and their packets skipped`,
    'packet refers to interface 1, which no interface block described; skipped',
  ]);
  assert.equal(warnings[0]!.frame, 1, 'named by the frame that comes next');
});

test('key logs: sessions past the cap are dropped and counted, and the analysis says so once', async () => {
  const line = (i: number) => `CLIENT_RANDOM ${i.toString(16).padStart(64, '0')} ${'ab'.repeat(48)}`;
  const five = KeyLog.parse([1, 2, 3, 4, 5].map(line).join('\n'));
  assert.equal(five.size, 5);
  const capped = new KeyLog(3);
  capped.merge(five);
  assert.deepEqual([capped.size, capped.dropped], [3, 2]);
  assert.ok(capped.secretsFor(Buffer.from(line(1).split(' ')[1]!, 'hex')), 'the first sessions are kept');
  assert.equal(capped.secretsFor(Buffer.from(line(5).split(' ')[1]!, 'hex')), null);
  // A known session still learns secrets past the cap: only new sessions are refused.
  capped.merge(KeyLog.parse(`CLIENT_TRAFFIC_SECRET_0 ${line(1).split(' ')[1]} ${'cd'.repeat(32)}`));
  assert.deepEqual([capped.size, capped.dropped], [3, 2]);
  // Each capture's own key log, made of the settings' secrets, says so too.
  assert.equal(pipelineOptions({ ports: [993], keySecrets: capped.secrets }).keys.dropped, 2);
  const { warnings } = await analyzeCapture(join(CAPTURES, 'imaps-tls13.pcap'), { keys: capped });
  assert.deepEqual(warnings.filter((w) => /key logs/.test(w.message)).map((w) => w.message),
    [`the TLS key logs name more than ${MAX_KEYLOG_SESSIONS.toLocaleString('en-US')} sessions (the cap): 2 secret(s) of later sessions were not used`]);
});

test('a key log file is read up to the cap, ending on its last whole line; a pipe is read like a file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'imapscope-keylog-'));
  try {
    const file = join(dir, 'keys');
    const line = (n: number) => `CLIENT_RANDOM ${String(n).padStart(2, '0').repeat(32)} ${'ab'.repeat(48)}\n`;
    writeFileSync(file, line(1) + line(2) + line(3));
    const randoms = (keys: KeyLog) => [1, 2, 3].filter((n) => keys.secretsFor(Buffer.from(String(n).padStart(2, '0').repeat(32), 'hex')));
    const cut = readKeyLogFile(file, () => {}, line(1).length + 20);
    assert.deepEqual([randoms(cut.keys), cut.cut], [[1], true], 'the second line, cut, is not taken');
    const whole = readKeyLogFile(file, () => {}, 1000);
    assert.deepEqual([randoms(whole.keys), whole.cut], [[1, 2, 3], false]);
    // As `--keylog <(…)` gives it: a pipe has no size, so it is read until its end.
    const fifo = join(dir, 'fifo');
    assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
    const writer = spawn('sh', ['-c', 'cat "$1" > "$2"', 'sh', file, fifo], { stdio: 'ignore' });
    try {
      const piped = readKeyLogFile(fifo, () => {}, 1000);
      assert.deepEqual([randoms(piped.keys), piped.cut], [[1, 2, 3], false]);
    } finally {
      writer.kill();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test(`the CLI warns when a --keylog file is larger than ${MAX_KEYLOG_FILE_BYTES / 1024 / 1024} MiB and still uses its first lines`, () => {
  const dir = mkdtempSync(join(tmpdir(), 'imapscope-keylog-'));
  try {
    // Real keys first, then (sparse) zeros past the cap: the keys still decrypt.
    const file = join(dir, 'big.keys');
    writeFileSync(file, readFileSync(join(CAPTURES, 'imaps-tls13.keys')));
    truncateSync(file, MAX_KEYLOG_FILE_BYTES + 4096);
    const r = spawnSync(process.execPath, [CLI, 'commands', '--json', '--keylog', file, join(CAPTURES, 'imaps-tls13.pcap')], { encoding: 'utf8', maxBuffer: 1 << 26 });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`warning: --keylog .*big\\.keys is larger than ${MAX_KEYLOG_FILE_BYTES / 1024 / 1024} MiB \\(the cap\\): only the lines in its first`));
    assert.ok(JSON.parse(r.stdout).exchanges.length > 0, 'the keys before the cap decrypted the session');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test(`warnings: at most ${MAX_WARNINGS_KEPT.toLocaleString('en-US')} are kept per capture, then one says how many more there were`, async () => {
  // IPv4 fragments: each is skipped with a warning of its own.
  const fragment = Buffer.alloc(14 + 20);
  fragment.writeUInt16BE(0x0800, 12);
  fragment[14] = 0x45; fragment.writeUInt16BE(20, 16); fragment.writeUInt16BE(0x2000, 20); fragment[23] = 6;
  const records = new Array<Buffer>(MAX_WARNINGS_KEPT + 25).fill(pcapRecord(1, fragment, fragment.length));
  const { warnings } = await analyzeCapture(Buffer.concat([pcapFileHeader(1), ...records]));
  assert.equal(warnings.length, MAX_WARNINGS_KEPT + 1);
  assert.deepEqual(warnings.slice(0, 2).map((w) => w.frame), [1, 2]);
  assert.equal(warnings.at(-2)!.frame, MAX_WARNINGS_KEPT);
  // Named at the frame of the first warning not kept, where the cap was hit.
  assert.deepEqual(warnings.at(-1), { frame: MAX_WARNINGS_KEPT + 1, message: `25 more warning(s) not kept (the first in this frame): at most ${MAX_WARNINGS_KEPT.toLocaleString('en-US')} are kept per capture (the cap)` });
});

test('TLS: a handshake message in one-byte fragments is held as its fragments and read once whole, as if it came in one', () => {
  const body = Buffer.from(Array.from({ length: 300 }, (_, i) => i & 0xff));
  const message = Buffer.concat([Buffer.from([1, 0, 1, 44]), body]);
  const next = Buffer.from([2, 0, 0, 2, 7, 8]);
  const whole = new HandshakeReader().push(Buffer.concat([message, next]));
  const reader = new HandshakeReader();
  const got = [];
  const stream = Buffer.concat([message, next]);
  for (let i = 0; i < stream.length; i++) {
    got.push(...reader.push(stream.subarray(i, i + 1)));
    if (i < message.length - 1) assert.ok(reader.partial && got.length === 0, `held after ${i + 1} bytes`);
  }
  assert.deepEqual(got.map((m) => [m.type, m.raw.toString('hex')]), whole.map((m) => [m.type, m.raw.toString('hex')]));
  assert.deepEqual(got.map((m) => m.raw.length), [304, 6]);
  assert.equal(reader.partial, false);
  // A length over the cap is seen as soon as its header is whole, however it was cut.
  const capped = new HandshakeReader();
  for (const b of [1, 0x10, 0, 1]) assert.deepEqual(capped.push(Buffer.from([b])), []);
  assert.equal(capped.error, `handshake message of ${0x100001} bytes`);
});

test('ENABLED: each extension is listed once, whatever its case, up to 64, with one warning naming the cap and the frame', () => {
  const names = Array.from({ length: 70 }, (_, i) => `X-EXT${i}`);
  const { info, warnings } = runSession([
    ['server', '* OK hi\r\n'], ['client', 'a1 ENABLE CONDSTORE\r\n'],
    ['server', '* ENABLED CONDSTORE\r\n* ENABLED condstore QRESYNC\r\n* ENABLED CONDSTORE\r\na1 OK\r\n'],
    ['client', 'a2 ENABLE X\r\n'], ['server', `* ENABLED ${names.join(' ')}\r\n* ENABLED MORE\r\na2 OK\r\n`],
  ]);
  assert.deepEqual(info.enabled, ['CONDSTORE', 'QRESYNC', ...names.slice(0, 62)]);
  assert.deepEqual(warnings.map((w) => `${w.frame}: ${w.message}`), ['5: more than 64 extensions enabled (the cap): the others are not listed']);
});

test('one FETCH response of 10,000 sections is read in instalments: every section listed, the response counted once, the step capped with a warning', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'imapscope-instalments-'));
  try {
    const path = join(dir, 'literals.pcap');
    await generateScaleCapture('literals', 10_000, path);
    const fetches = JSON.parse(spawnSync(process.execPath, [CLI, 'fetches', '--json', path], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }).stdout);
    assert.equal(fetches.messages.length, 1);
    const sections = fetches.messages[0].fetches;
    assert.equal(sections.length, 10_000);
    assert.ok(sections.every((s: { sha256: string | null; bytes: number }) => s.sha256 !== null && s.bytes === 5));
    assert.equal(fetches.strategy[0].messages, 1);
    assert.equal(fetches.strategy[0].items.length, MAX_STEP_ITEMS);
    const capped = fetches.warnings.filter((w: { message: string }) => w.message.includes(`more than ${MAX_STEP_ITEMS} different items (the cap`));
    assert.equal(capped.length, 1);
    assert.ok(capped[0].frame > 0);
    const commands = JSON.parse(spawnSync(process.execPath, [CLI, 'commands', '--json', path], { encoding: 'utf8' }).stdout);
    assert.equal(commands.exchanges[0].untagged, 1, 'the response in instalments is one response');
    // Every instalment's octets count: the response as the generator wrote it (bench/scale-captures.ts), then the tagged OK.
    let response = '* 1 FETCH (UID 1';
    for (let j = 1; j <= 10_000; j++) response += ` BODY[${j}] {5}\r\npart${(j - 1) % 10}`;
    assert.equal(commands.exchanges[0].responseBytes, `${response})\r\na1 OK done\r\n`.length);
    // The transcript shows the response as it was handed on: three instalments, the later two going on from the first.
    const transcript = spawnSync(process.execPath, [CLI, 'follow', path, '--conn', '0'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, env: { ...process.env, NO_COLOR: '1' } }).stdout;
    const fetchLines = transcript.split('\n').filter((l) => / S: (\* 1 FETCH|…)/.test(l));
    assert.equal(fetchLines.length, 3);
    assert.match(fetchLines[0]!, / S: \* 1 FETCH \(UID 1 BODY\[1\] \{5 bytes\}/);
    assert.match(fetchLines[1]!, / S: … BODY\[4097\] \{5 bytes\}/);
    assert.equal(transcript.split('{5 bytes}').length - 1, 10_000);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('one APPEND of 10,000 messages keeps its first 8,192 literals: paired, every octet counted, the rest named in a warning', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'imapscope-appended-'));
  try {
    const path = join(dir, 'appended.pcap');
    await generateScaleCapture('appended', 10_000, path);
    const { maxLiterals } = DEFAULT_FRAMER_LIMITS;
    const commands = JSON.parse(spawnSync(process.execPath, [CLI, 'commands', '--json', path], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }).stdout);
    assert.equal(commands.exchanges.length, 1);
    const [append] = commands.exchanges;
    assert.equal(append.status, 'OK');
    // The command as the generator wrote it (bench/scale-captures.ts).
    const mail = 'Subject: m\r\n\r\nhello\r\n';
    assert.equal(append.requestBytes, `a1 APPEND INBOX${` (\\Seen) {${mail.length}+}\r\n${mail}`.repeat(10_000)}\r\n`.length);
    assert.equal(append.args, `INBOX${` (\\Seen) {${mail.length}}`.repeat(maxLiterals)} …`, 'the literals kept, then the mark of those not kept');
    const warnings = commands.warnings.filter((w: Warning) => /a message keeps/.test(w.message));
    assert.equal(warnings.length, 1);
    assert.match(warnings[0].message, new RegExp(`^client message starting in frame ${append.requestFrame} has 10000 literals, more than the ${maxLiterals} a message keeps: the other ${10_000 - maxLiterals} literals \\(\\d+ octets\\) were counted, not kept$`));
    assert.ok(warnings[0].frame > append.requestFrame && warnings[0].frame < append.responseFrame, 'named at the frame the command ended in');
    const transcript = spawnSync(process.execPath, [CLI, 'follow', path, '--conn', '0'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, env: { ...process.env, NO_COLOR: '1' } }).stdout;
    assert.equal(transcript.split(`{${mail.length} bytes}`).length - 1, maxLiterals);
    assert.match(transcript, new RegExp(`\\{${mail.length} bytes\\} \\{… ${10_000 - maxLiterals} more literals, \\d+ bytes, not kept\\}\n`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('commands of more than 1,000 invented names: summary, report and compare list the first apart and the rest as one row, with one warning', () => {
  const dir = mkdtempSync(join(tmpdir(), 'imapscope-names-'));
  try {
    // 1,300 commands, every tenth a NOOP, the others each of a name of its own, all answered.
    const capture = (path: string, prefix: string) => {
      const f = new TcpFlow({ client: { ip: '10.0.0.1', port: 40000 }, server: { ip: '10.0.0.2', port: 143 }, start: 1_700_000_000, rtt: 0.001 });
      const packets = [...f.handshake(), ...f.send('server', '* OK ready\r\n')];
      for (let i = 0; i < 1300; i += 100) {
        const names = Array.from({ length: 100 }, (_, j) => (i + j) % 10 === 0 ? 'NOOP' : `${prefix}${i + j}`);
        packets.push(...f.send('client', names.map((n, j) => `t${i + j} ${n}\r\n`).join('')),
          ...f.send('server', names.map((n, j) => `t${i + j} ${n === 'NOOP' ? 'OK' : 'BAD'} done\r\n`).join('')));
      }
      writeCapture(path, { format: 'pcap', packets: [...packets, ...f.close('fin', 'client')] });
    };
    const path = join(dir, 'names.pcap');
    capture(path, 'X');
    const invented = 1300 - 130;
    const summary = JSON.parse(spawnSync(process.execPath, [CLI, 'summary', '--json', path], { encoding: 'utf8' }).stdout);
    const rows = new Map<string, number>(summary.commands.map((s: { command: string; count: number }) => [s.command, s.count]));
    assert.equal(rows.get('NOOP'), 130);
    assert.equal(rows.get(OTHER_COMMANDS), invented - MAX_OTHER_COMMAND_NAMES);
    assert.equal(rows.size, MAX_OTHER_COMMAND_NAMES + 2);
    // The first pooled: the 1,001st invented name, in the order the commands were sent.
    const firstPooled = Array.from({ length: 1300 }, (_, i) => i).filter((i) => i % 10 !== 0)[MAX_OTHER_COMMAND_NAMES]!;
    const commands = JSON.parse(spawnSync(process.execPath, [CLI, 'commands', '--json', path], { encoding: 'utf8' }).stdout);
    const pooledEx = commands.exchanges.find((e: { tag: string }) => e.tag === `t${firstPooled}`);
    assert.equal(pooledEx.command, `X${firstPooled}`, 'commands lists every exchange by its own name');
    const warned = summary.warnings.filter((w: Warning) => w.message.includes(OTHER_COMMANDS));
    assert.equal(warned.length, 1);
    assert.deepEqual({ frame: warned[0].frame, conn: warned[0].conn }, { frame: pooledEx.requestFrame, conn: 0 });
    assert.match(warned[0].message, new RegExp(`^more than ${MAX_OTHER_COMMAND_NAMES} different names .*: "X${firstPooled}" and every later`));
    // The report's histograms take the same rows: each adds up to its row's count.
    const html = spawnSync(process.execPath, [CLI, 'report', '-o', join(dir, 'r.html'), path], { encoding: 'utf8' });
    assert.equal(html.status, 0, html.stderr);
    const data = embeddedData(readFileSync(join(dir, 'r.html'), 'utf8'));
    const reportRows = data.captures[0]!.commands;
    assert.equal(reportRows.length, rows.size);
    for (const r of reportRows) assert.equal(r.histogram.reduce((a, b) => a + b, 0), rows.get(r.command), r.command);
    // compare names its latencies by the same rows, and its command sequences too.
    const other = join(dir, 'other.pcap');
    capture(other, 'Y');
    const compared = JSON.parse(spawnSync(process.execPath, [CLI, 'compare', '--json', path, other], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }).stdout);
    for (const profile of compared.profiles) {
      assert.equal(profile.latency[OTHER_COMMANDS].count, invented - MAX_OTHER_COMMAND_NAMES);
      assert.equal(Object.keys(profile.latency).length, MAX_OTHER_COMMAND_NAMES + 2);
      assert.equal(profile.connections[0].commands.filter((c: string) => c === OTHER_COMMANDS).length, invented - MAX_OTHER_COMMAND_NAMES);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('compare tells apart the first 10,000 command shapes and FETCH item sets of a capture; later new ones are compared by name, with a warning each', () => {
  const dir = mkdtempSync(join(tmpdir(), 'imapscope-shapes-'));
  try {
    const extra = 5;
    const n = MAX_SHAPES + extra;
    // A client that selects a mailbox of its own in each command, then fetches a header field of its own in each.
    const capture = (path: string, prefix: string) => {
      const f = new TcpFlow({ client: { ip: '10.0.0.1', port: 40000 }, server: { ip: '10.0.0.2', port: 143 }, start: 1_700_000_000, rtt: 0.001 });
      const packets = [...f.handshake(), ...f.send('server', '* OK ready\r\n')];
      for (let i = 0; i < n; i += 500) {
        const ids = Array.from({ length: Math.min(500, n - i) }, (_, j) => i + j);
        packets.push(...f.send('client', ids.map((k) => `s${k} SELECT "${prefix}${k}"\r\n`).join('')),
          ...f.send('server', ids.map((k) => `* 1 EXISTS\r\ns${k} OK [READ-WRITE] done\r\n`).join('')));
      }
      for (let i = 0; i < n; i += 500) {
        const ids = Array.from({ length: Math.min(500, n - i) }, (_, j) => i + j);
        packets.push(...f.send('client', ids.map((k) => `f${k} UID FETCH 1 (BODY.PEEK[HEADER.FIELDS (X-${k})])\r\n`).join('')),
          ...f.send('server', ids.map((k) => `* 1 FETCH (UID 1 BODY[HEADER.FIELDS (X-${k})] {2}\r\n\r\n)\r\nf${k} OK done\r\n`).join('')));
      }
      // A command without arguments is its own shape past the cap too.
      packets.push(...f.send('client', 'z NOOP\r\n'), ...f.send('server', 'z OK done\r\n'));
      writeCapture(path, { format: 'pcap', packets: [...packets, ...f.close('fin', 'client')] });
    };
    const [a, b] = [join(dir, 'a.pcap'), join(dir, 'b.pcap')];
    capture(a, 'box');
    capture(b, 'folder');
    const run = spawnSync(process.execPath, [CLI, 'compare', '--json', a, b], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
    assert.equal(run.status, 0, run.stderr);
    const compared = JSON.parse(run.stdout);
    for (const profile of compared.profiles) {
      const commands: string[] = profile.connections[0].commands;
      assert.equal(commands.length, 2 * n + 1);
      assert.equal(commands.at(-1), 'NOOP');
      // The first 10,000 shapes are the SELECTs'; every FETCH's and the last SELECTs' are past the cap.
      assert.equal(commands.filter((c) => c === 'SELECT …').length, extra);
      assert.equal(commands.filter((c) => c === 'UID FETCH …').length, n);
      assert.equal(new Set(commands).size, MAX_SHAPES + 3);
      const itemSets: string[] = profile.connections[0].fetches;
      assert.equal(itemSets.filter((s) => s === OTHER_ITEM_SETS).length, extra);
      assert.equal(new Set(itemSets).size, MAX_ITEM_SETS + 1);
    }
    // One warning of each cap per capture, at the first command past it (the frames of the two captures are alike).
    const warned = run.stderr.split('\n').filter((l) => l.startsWith('warning: '));
    for (const path of [a, b]) {
      const mine = warned.filter((l) => l.startsWith(`warning: ${path}, `));
      assert.equal(mine.length, 2, mine.join('\n'));
      assert.match(mine[0]!, new RegExp(`more than ${MAX_SHAPES} different command shapes, or 4 MiB of them .*: "SELECT \\\\"(box|folder)${MAX_SHAPES}\\\\"" and every later new one are compared by their command's name alone, as "SELECT …"$`));
      assert.match(mine[1]!, new RegExp(`more than ${MAX_ITEM_SETS} different FETCH item sets, or 4 MiB of them .*: "UID BODY\\[HEADER.FIELDS \\(X-${MAX_ITEM_SETS}\\)\\]" and every later`));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('compare tells apart the first 1,000 client names, 100 mechanisms and 100 enabled extensions of a capture; the others are one each, with a warning each', () => {
  const dir = mkdtempSync(join(tmpdir(), 'imapscope-traits-'));
  try {
    // A session per client name: ID, AUTHENTICATE (refused) and ENABLE, each naming something of its own; the first
    // MAX_AUTH_MECHANISMS + 2 mechanisms and MAX_ENABLED_NAMES + 1 extensions (besides CONDSTORE) are new, then PLAIN (a
    // mechanism always told apart) and CONDSTORE alone.
    const n = MAX_CLIENT_NAMES + 3;
    const packets: SynthPacket[] = [];
    for (let k = 0; k < n; k++) {
      const f = new TcpFlow({ client: { ip: `10.1.${k >> 8}.${k & 255}`, port: 40000 }, server: { ip: '10.0.0.2', port: 143 }, start: 1_700_000_000 + k * 0.01, rtt: 0.001 });
      const mechanism = k < MAX_AUTH_MECHANISMS + 2 ? `X-M${k}` : 'PLAIN';
      const enabled = k < MAX_ENABLED_NAMES + 1 ? `condstore X-E${k}` : 'CONDSTORE';
      packets.push(...f.handshake(), ...f.send('server', '* OK ready\r\n'),
        ...f.send('client', `a ID ("name" "Client-${k}" "version" "1.0")\r\n`), ...f.send('server', '* ID NIL\r\na OK done\r\n'),
        ...f.send('client', `b AUTHENTICATE ${mechanism}\r\n`), ...f.send('server', 'b NO unsupported\r\n'),
        ...f.send('client', 'c ENABLE CONDSTORE\r\n'), ...f.send('server', `* ENABLED ${enabled}\r\nc OK done\r\n`),
        ...f.send('client', 'z LOGOUT\r\n'), ...f.send('server', '* BYE\r\nz OK done\r\n'), ...f.close('fin', 'client'));
    }
    packets.sort((x, y) => Number(x.t) - Number(y.t));
    const path = join(dir, 'clients.pcap');
    writeCapture(path, { format: 'pcap', packets });
    const run = spawnSync(process.execPath, [CLI, 'compare', '--json', path, join(CAPTURES, 'curl.pcap')], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    assert.equal(run.status, 0, run.stderr);
    const profile = JSON.parse(run.stdout).profiles[0];
    assert.equal(profile.connections.length, n);
    const names = Array.from({ length: MAX_CLIENT_NAMES }, (_, k) => `Client-${k} 1.0`);
    assert.deepEqual(profile.clientIds, [OTHER_CLIENTS, ...names].sort());
    const mechanisms = Array.from({ length: MAX_AUTH_MECHANISMS }, (_, k) => `X-M${k}`);
    assert.deepEqual(profile.authMechanisms, [OTHER_MECHANISMS, 'PLAIN', ...mechanisms].sort(), 'PLAIN is known: past the cap too');
    // CONDSTORE was the first extension enabled, in lower case; X-E0 to X-E98 fill the cap.
    const enabled = ['CONDSTORE', ...Array.from({ length: MAX_ENABLED_NAMES - 1 }, (_, k) => `X-E${k}`)];
    assert.deepEqual(profile.extensions.filter((x: string) => x.startsWith('ENABLE ')), [...enabled, OTHER_ENABLED].map((x) => `ENABLE ${x}`).sort());
    // One warning per cap, naming the connection of the first name pooled and that name.
    const warned = run.stderr.split('\n').filter((l) => l.startsWith(`warning: ${path}, `));
    assert.equal(warned.length, 3, warned.join('\n'));
    const conns = JSON.parse(spawnSync(process.execPath, [CLI, 'summary', '--json', path], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }).stdout).connections;
    const connOf = (k: number) => conns.find((c: { client: { ip: string } }) => c.client.ip === `10.1.${k >> 8}.${k & 255}`).id;
    assert.ok(warned.includes(`warning: ${path}, conn ${connOf(MAX_CLIENT_NAMES)}: more than ${MAX_CLIENT_NAMES} different client names (ID's name and version), or 4 MiB of them (the cap on those compare tells apart): "Client-${MAX_CLIENT_NAMES} 1.0" and every later new one are compared as one, "${OTHER_CLIENTS}"`), warned.join('\n'));
    assert.ok(warned.includes(`warning: ${path}, conn ${connOf(MAX_AUTH_MECHANISMS)}: more than ${MAX_AUTH_MECHANISMS} different authentication mechanisms, or 4 MiB of them (the cap on those compare tells apart): "X-M${MAX_AUTH_MECHANISMS}" and every later new one are compared as one, "${OTHER_MECHANISMS}"`), warned.join('\n'));
    assert.ok(warned.includes(`warning: ${path}, conn ${connOf(MAX_ENABLED_NAMES - 1)}: more than ${MAX_ENABLED_NAMES} different extensions enabled, or 4 MiB of them (the cap on those compare tells apart): "X-E${MAX_ENABLED_NAMES - 1}" and every later new one are compared as one, "${OTHER_ENABLED}"`), warned.join('\n'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('commands outstanding on one connection keep at most 16 MiB of text: past it the oldest are given up as unanswered, with one warning', () => {
  // Long UID sets, never answered (a capture of the client's side only): one command a frame.
  // Its length chosen so that the cap falls between what the arguments alone and with the shape come to.
  const set = `${'1,'.repeat(32_760)}1`;
  const count = 300;
  const commands = Array.from({ length: count }, (_, i): [Side, string] => ['client', `a${i} UID FETCH ${set} (FLAGS)\r\n`]);
  const { warnings, exchanges } = runSession([['server', '* OK hi\r\n'], ...commands]);
  const held = `${set} (FLAGS)`.length + `UID FETCH <set> (FLAGS)`.length;
  const kept = Math.floor(MAX_PENDING_HELD / held);
  const said = warnings.filter((w) => w.message.includes('characters of text (the cap)'));
  assert.equal(said.length, 1);
  assert.equal(said[0]!.frame, 1 + kept + 1, 'at the command that crossed the cap');
  assert.equal(said[0]!.message, `the commands outstanding at once keep more than ${MAX_PENDING_HELD} characters of text (the cap): the oldest are reported without an answer, and an answer that comes later is reported on its own`);
  assert.equal(exchanges.length, count, 'every command is still reported once');
  // The oldest went first, as they were given up; the newest `kept` waited for the end.
  assert.deepEqual(exchanges.map((e) => e.tag), Array.from({ length: count }, (_, i) => `a${i}`));
  assert.equal(exchanges[0]!.args.length + exchanges[0]!.shape.length, held);
});

test('pending commands: their text counted as they come and go; the oldest but the newest shed past the cap', () => {
  type Item = Claimant & { n: number };
  const item = (n: number, held: number, tag = `t${n}`): Item => ({ tag, n, held, claim: { kind: 'other' } });
  const pending = new PendingCommands<Item>({ commands: 64, held: 100 });
  pending.add(item(0, 60));
  assert.equal(pending.shed(), undefined, 'one alone is never shed, however long');
  pending.add(item(1, 30));
  assert.equal(pending.shed(), undefined, '90 of 100');
  pending.add(item(2, 20));
  assert.equal(pending.shed()?.n, 0, '110: the oldest goes');
  assert.equal(pending.shed(), undefined, '50 left');
  assert.equal(pending.takeByTag('t1')?.n, 1);
  pending.add(item(3, 70));
  assert.equal(pending.shed(), undefined, '90 once t1 left');
  pending.add(item(4, 15));
  assert.equal(pending.shed()?.n, 2, '105');
  pending.add(item(5, 200));
  assert.equal(pending.shed()?.n, 3);
  assert.equal(pending.shed()?.n, 4);
  assert.equal(pending.shed(), undefined, 'the newest stays, however long');
  pending.drain();
  pending.add(item(6, 50));
  pending.add(item(7, 50));
  assert.equal(pending.shed(), undefined, 'drained: counted from nothing again');
});

test('the report takes a command name\'s row when its exchange is not measured too: its histograms and the table still agree', () => {
  const dir = mkdtempSync(join(tmpdir(), 'imapscope-names-unmeasured-'));
  try {
    // 995 commands of invented names never answered (the connection closes on them), then on a second connection
    // ten more, answered: the cap falls among the answered ones only if the unanswered took their rows.
    const packets: SynthPacket[] = [];
    const quiet = new TcpFlow({ client: { ip: '10.0.0.1', port: 40000 }, server: { ip: '10.0.0.2', port: 143 }, start: 1_700_000_000, rtt: 0.001 });
    packets.push(...quiet.handshake(), ...quiet.send('server', '* OK ready\r\n'),
      ...quiet.send('client', Array.from({ length: 995 }, (_, i) => `q${i} X${i}\r\n`).join('')), ...quiet.close('fin', 'client'));
    const busy = new TcpFlow({ client: { ip: '10.0.0.3', port: 40000 }, server: { ip: '10.0.0.2', port: 143 }, start: 1_700_000_010, rtt: 0.001 });
    packets.push(...busy.handshake(), ...busy.send('server', '* OK ready\r\n'));
    for (let i = 995; i < 1005; i++) packets.push(...busy.send('client', `b${i} X${i}\r\n`), ...busy.send('server', `b${i} BAD no\r\n`));
    packets.push(...busy.close('fin', 'client'));
    const path = join(dir, 'names.pcap');
    writeCapture(path, { format: 'pcap', packets });
    const html = spawnSync(process.execPath, [CLI, 'report', '-o', join(dir, 'r.html'), path], { encoding: 'utf8' });
    assert.equal(html.status, 0, html.stderr);
    const rows = embeddedData(readFileSync(join(dir, 'r.html'), 'utf8')).captures[0]!.commands;
    const other = rows.find((r) => r.command === OTHER_COMMANDS);
    assert.equal(other?.count, 1005 - MAX_OTHER_COMMAND_NAMES);
    assert.equal(other.histogram.reduce((a, b) => a + b, 0), other.count, 'the pooled ones were measured, in their row');
    assert.equal(rows.find((r) => r.command === `X${MAX_OTHER_COMMAND_NAMES}`), undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
