/** Checks the synthetic capture writer (test/helpers/synth.ts) against tshark's reading of the same files. */
import { NO_TSHARK, skipIfMissing } from './helpers/env.js';
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  LINKTYPE,
  nsToUnits,
  tcpConversation,
  toNs,
  writeCapture,
  type SynthCapture,
  type SynthPacket,
} from './helpers/synth.js';
import { bodyStructure, generateCapture, imapSession, makeMessage, planSession, renderMessage } from '../bench/gen-capture.js';

const HAVE_TSHARK = spawnSync('tshark', ['--version']).status === 0;
const dir = mkdtempSync(join(tmpdir(), 'imapscope-synth-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const BASE_FIELDS = ['frame.number', 'frame.time_epoch', 'tcp.srcport', 'tcp.seq_raw', 'tcp.len'];

interface TsharkRun {
  rows: string[][];
  status: number | null;
  stderr: string;
}

function tshark(file: string, fields: string[], ...extra: string[]): TsharkRun {
  const args = ['-r', file, ...extra, '-T', 'fields', ...fields.flatMap((f) => ['-e', f])];
  const r = spawnSync('tshark', args, { encoding: 'utf8' });
  const rows = r.stdout.split('\n').filter((l) => l !== '').map((l) => l.split('\t'));
  return { rows, status: r.status, stderr: r.stderr };
}

let fileCount = 0;
function write(c: SynthCapture): string {
  const path = join(dir, `c${fileCount++}.${c.format}`);
  writeCapture(path, c);
  return path;
}

/** Epoch text as tshark prints it: seconds, dot, nine digits. */
function epochText(ns: bigint): string {
  return `${ns / 1_000_000_000n}.${(ns % 1_000_000_000n).toString().padStart(9, '0')}`;
}

/** Time a reader should report for `t` stored at resolution `tsresol` (truncated, converted back to ns). */
function storedNs(t: number | bigint, tsresol: number): bigint {
  const per = tsresol & 0x80 ? 2n ** BigInt(tsresol & 0x7f) : 10n ** BigInt(tsresol);
  return (nsToUnits(toNs(t), tsresol) * 1_000_000_000n) / per;
}

function payloadLength(p: SynthPacket): number {
  return p.payload === undefined ? 0 : Buffer.byteLength(p.payload as string | Buffer, 'latin1');
}

/** The BASE_FIELDS row tshark should print for packet p at frame number n. */
function expectedRow(p: SynthPacket, n: number, tsresol: number | null): string[] {
  const time = tsresol === null ? '' : epochText(storedNs(p.t, tsresol));
  return [String(n), time, String(p.sport), String(p.seq >>> 0), String(payloadLength(p))];
}

function assertRows(actual: string[][], packets: SynthPacket[], tsresolOf: (i: number) => number | null): void {
  assert.equal(actual.length, packets.length, 'packet count');
  packets.forEach((p, i) => {
    const want = expectedRow(p, i + 1, tsresolOf(i));
    const got = actual[i]!.slice(0, 5);
    const binary = (tsresolOf(i) ?? 0) & 0x80;
    if (binary && got[1] !== '') {
      // tshark rounds binary fractions its own way: allow one nanosecond either side.
      assert.ok(Math.abs(Number(toNs(Number(got[1])) - toNs(Number(want[1])))) <= 1000, `frame ${i + 1} time`);
      got[1] = want[1]!;
    }
    assert.deepEqual(got, want, `frame ${i + 1}`);
  });
}

/** A short IMAP-like conversation; distinct ports per call keep frames apart. */
function conversation(clientIp: string, serverIp: string, port: number, start: number): SynthPacket[] {
  return tcpConversation({
    client: { ip: clientIp, port },
    server: { ip: serverIp, port: 143 },
    start,
    exchanges: [
      { from: 'server', data: '* OK IMAP4rev1 ready\r\n' },
      { from: 'client', data: 'a1 NOOP\r\n' },
      { from: 'server', data: 'a1 OK NOOP completed\r\n' },
    ],
  });
}

function skipWithoutTshark(t: { skip: (m: string) => void }): boolean {
  return skipIfMissing(t, !HAVE_TSHARK && NO_TSHARK);
}

test('pcap: every link type carries TCP over IPv4 and IPv6', (t) => {
  if (skipWithoutTshark(t)) return;
  for (const linkType of Object.values(LINKTYPE)) {
    const v4 = linkType === LINKTYPE.IPV6 ? [] : conversation('10.1.0.1', '10.1.0.2', 40001, 1_700_000_000.000001);
    const v6 = linkType === LINKTYPE.IPV4 ? [] : conversation('2001:db8::1', '2001:db8::2', 40002, 1_700_000_001.25);
    const packets = [...v4, ...v6];
    const run = tshark(write({ format: 'pcap', linkType, packets }), BASE_FIELDS);
    assert.equal(run.status, 0, run.stderr);
    assertRows(run.rows, packets, () => 6);
  }
});

test('pcap: microsecond and nanosecond magic in both byte orders', (t) => {
  if (skipWithoutTshark(t)) return;
  const packets = conversation('192.0.2.1', '192.0.2.2', 50123, 1).map((p, i) => ({
    ...p,
    t: 1_700_000_000_123_456_789n + BigInt(i) * 1_000_001n,
  }));
  for (const nanosecond of [false, true]) {
    for (const bigEndian of [false, true]) {
      const run = tshark(write({ format: 'pcap', nanosecond, bigEndian, packets }), BASE_FIELDS);
      assert.equal(run.status, 0, run.stderr);
      assertRows(run.rows, packets, () => (nanosecond ? 9 : 6));
    }
  }
});

test('pcapng: two interfaces of different link types and resolutions, SPB and PB blocks, skipped blocks', (t) => {
  if (skipWithoutTshark(t)) return;
  const interfaces = [
    { linkType: LINKTYPE.ETHERNET, tsresol: 9 },
    { linkType: LINKTYPE.LINUX_SLL, tsresol: 0x80 | 20 },
  ];
  const packets: SynthPacket[] = conversation('10.2.0.1', '10.2.0.2', 41000, 1_700_000_000.5).map((p, i) => ({
    ...p,
    t: toNs(p.t) + 123n, // sub-microsecond part only the ns interface keeps
    iface: i % 2,
    block: i === 3 ? 'spb' : i === 4 ? 'pb' : 'epb',
  }));
  packets[3]!.iface = 0; // SPBs always belong to interface 0
  const secrets = 'CLIENT_RANDOM 00 11\n';
  const file = write({ format: 'pcapng', interfaces, packets, unknownBlocks: true, decryptionSecrets: secrets });
  const run = tshark(file, [...BASE_FIELDS, 'frame.interface_id', 'frame.encap_type']);
  assert.equal(run.status, 0, run.stderr);
  assertRows(run.rows, packets, (i) => (packets[i]!.block === 'spb' ? null : interfaces[packets[i]!.iface!]!.tsresol));
  run.rows.forEach((r, i) => assert.equal(r[5], String(packets[i]!.iface), `frame ${i + 1} interface`));
});

test('pcapng: a second section in the other byte order with its own interfaces', (t) => {
  if (skipWithoutTshark(t)) return;
  const first = conversation('10.3.0.1', '10.3.0.2', 42000, 1_700_000_000);
  const second = conversation('2001:db8::3', '2001:db8::4', 42001, 1_700_000_100);
  second.forEach((p, i) => (p.iface = i % 2));
  const sectionTwo = [{ linkType: LINKTYPE.RAW, tsresol: 3 }, { linkType: LINKTYPE.LINUX_SLL2 }];
  const packets = [...first, ...second];
  for (const bigEndian of [false, true]) {
    const c: SynthCapture = {
      format: 'pcapng',
      bigEndian,
      nanosecond: true,
      packets,
      sections: [{ at: first.length, bigEndian: !bigEndian, interfaces: sectionTwo }],
    };
    const run = tshark(write(c), BASE_FIELDS);
    assert.equal(run.status, 0, run.stderr);
    assertRows(run.rows, packets, (i) => (i < first.length ? 9 : sectionTwo[packets[i]!.iface!]!.tsresol ?? 6));
  }
});

test('pcapng: a custom block shows up in tshark as a frame of its own', (t) => {
  if (skipWithoutTshark(t)) return;
  const packets = conversation('10.4.0.1', '10.4.0.2', 43000, 1_700_000_000);
  const run = tshark(write({ format: 'pcapng', packets, customBlocks: true }), ['frame.number', 'tcp.srcport']);
  assert.equal(run.status, 0, run.stderr);
  assert.equal(run.rows.length, packets.length + 1);
  assert.deepEqual(run.rows[0], ['1', '']);
});

test('encapsulation edge cases: VLAN, QinQ, 6in4, IPv6 extension headers, IP/TCP options, snaplen, fragment', (t) => {
  if (skipWithoutTshark(t)) return;
  const v4 = { src: '10.5.0.1', dst: '10.5.0.2', dport: 143, seq: 0xfffffff0, ack: 7, flags: 'PA' };
  const v6 = { ...v4, src: 'fe80::1', dst: '2001:db8:0:1::ffff:10.5.0.2' };
  const payload = 'a1 CAPABILITY\r\n'.repeat(8);
  const tunnel = { src: '198.51.100.1', dst: '198.51.100.2' };
  const cases: [SynthPacket, Record<string, string>][] = [
    [{ ...v4, t: 1, sport: 1, payload, vlan: [100] }, { 'vlan.id': '100' }],
    // tshark shows the outer (802.1ad) tag of a QinQ stack as ieee8021ad.
    [{ ...v4, t: 2, sport: 2, payload, vlan: [10, 20] }, { 'ieee8021ad.id': '10', 'vlan.id': '20' }],
    [{ ...v6, t: 3, sport: 3, payload, tunnel6in4: tunnel }, { 'ip.proto': '41' }],
    [{ ...v6, t: 4, sport: 4, payload, ipv6ExtHeaders: true }, { 'ipv6.nxt': '0' }],
    [{ ...v4, t: 5, sport: 5, payload, ipv4Options: Buffer.from([1, 1, 1]) }, { 'ip.hdr_len': '24' }],
    [{ ...v4, t: 6, sport: 6, payload, tcpOptions: Buffer.from([2, 4, 5, 0xb4]) }, { 'tcp.hdr_len': '24' }],
    [{ ...v4, t: 7, sport: 7, payload, snaplen: 64 }, { 'frame.cap_len': '64', 'frame.len': String(54 + 120) }],
  ];
  const packets = cases.map(([p]) => p);
  const extra = [...new Set(cases.flatMap(([, want]) => Object.keys(want)))];
  const checks = ['ip.checksum.status', 'tcp.checksum.status'];
  const run = tshark(write({ format: 'pcap', packets }), [...BASE_FIELDS, ...extra, ...checks],
    '-o', 'ip.check_checksum:TRUE', '-o', 'tcp.check_checksum:TRUE');
  assert.equal(run.status, 0, run.stderr);
  assertRows(run.rows, packets, () => 6);
  cases.forEach(([p, want], i) => {
    const row = run.rows[i]!;
    for (const [field, value] of Object.entries(want)) {
      assert.equal(row[5 + extra.indexOf(field)], value, `${field} of frame ${i + 1}`);
    }
    const [ipSum, tcpSum] = row.slice(5 + extra.length);
    if (!p.src.includes(':') || p.tunnel6in4) assert.equal(ipSum, '1', `IPv4 checksum of frame ${i + 1}`);
    if (p.snaplen === undefined) assert.equal(tcpSum, '1', `TCP checksum of frame ${i + 1}`);
  });

  // A first fragment hides TCP from tshark (it waits for the rest), but the frame is still there.
  const frag = tshark(write({ format: 'pcap', packets: [{ ...v4, t: 8, sport: 8, payload, fragment: true }] }), [
    'frame.number',
    'ip.flags.mf',
    'tcp.srcport',
  ]);
  assert.deepEqual(frag.rows, [['1', '1', '']]);
});

test('truncateLastRecord leaves a partial record tshark complains about', (t) => {
  if (skipWithoutTshark(t)) return;
  const packets = conversation('10.6.0.1', '10.6.0.2', 44000, 1_700_000_000);
  for (const format of ['pcap', 'pcapng'] as const) {
    const run = tshark(write({ format, packets, truncateLastRecord: 10 }), BASE_FIELDS);
    assert.notEqual(run.status, 0);
    assert.match(run.stderr, /cut short|truncated/i);
    assertRows(run.rows, packets.slice(0, -1), () => 6);
  }
});

/** The bytes of each direction of TCP stream 0 as tshark's follow reassembles them (server = port 143). */
function followStream(file: string): { client: Buffer; server: Buffer } {
  const r = spawnSync('tshark', ['-r', file, '-q', '-z', 'follow,tcp,raw,0'], { encoding: 'utf8' });
  const nodes: Buffer[][] = [[], []]; // follow prints node 0's data flush left, node 1's after a tab
  let node0IsServer = false;
  for (const line of r.stdout.split('\n')) {
    if (line.startsWith('Node 0: ')) node0IsServer = line.endsWith(':143');
    const m = /^(\t?)([0-9a-f]+)$/.exec(line);
    if (m) nodes[m[1] ? 1 : 0]!.push(Buffer.from(m[2]!, 'hex'));
  }
  const [first, second] = nodes.map((n) => Buffer.concat(n)) as [Buffer, Buffer];
  return node0IsServer ? { server: first, client: second } : { client: first, server: second };
}

test('tcpConversation: handshake, sequence wrap, segmentation, clean ACKs, FIN and RST', (t) => {
  if (skipWithoutTshark(t)) return;
  const greeting = '* OK ready\r\n';
  const literal = Buffer.alloc(10_000, 'x');
  const request = 'a1 UID FETCH 1 BODY[]\r\n';
  for (const close of ['fin', 'rst', 'none'] as const) {
    const packets = tcpConversation({
      clientIsn: 0xffff_fff0,
      serverIsn: 0xffff_f000,
      close,
      exchanges: [
        { from: 'server', data: greeting },
        { from: 'client', data: request, delay: 0.5 },
        { from: 'server', data: literal },
      ],
    });
    const file = write({ format: 'pcap', packets });
    const run = tshark(file, [...BASE_FIELDS, 'tcp.analysis.flags', 'tcp.flags.str']);
    assert.equal(run.status, 0, run.stderr);
    assertRows(run.rows, packets, () => 6);
    assert.deepEqual(run.rows.filter((r) => r[5] !== '').map((r) => r[0]), [], 'no TCP analysis warnings');
    assert.ok(packets.some((p) => p.seq < 0x1000) && packets.some((p) => p.seq > 0xffff_0000), 'sequence wraps');
    assert.ok(packets.every((p) => payloadLength(p) <= 1448));
    const stream = followStream(file);
    assert.equal(stream.client.toString('latin1'), request);
    assert.ok(stream.server.equals(Buffer.concat([Buffer.from(greeting), literal])));
    const last = run.rows.at(-1)![6]!;
    if (close === 'fin') assert.match(last, /A/);
    if (close === 'rst') assert.match(last, /R/);
  }
});

test('tcpConversation: mid-stream start and capture damage knobs', (t) => {
  if (skipWithoutTshark(t)) return;
  const body = Buffer.from('0123456789'.repeat(1000));
  const make = (knobs: object): SynthPacket[] =>
    tcpConversation({ handshake: false, close: 'none', exchanges: [{ from: 'server', data: body }], ...knobs });
  const analysis = (packets: SynthPacket[]): string[] =>
    tshark(write({ format: 'pcap', packets }), ['_ws.expert.message']).rows.map((r) => r.join(' '));

  const clean = make({});
  assert.equal(clean[0]!.flags, 'A', 'no SYN when starting mid-stream');

  const dropped = make({ drop: [2] });
  assert.equal(dropped.length, clean.length - 1);
  assert.ok(analysis(dropped).some((m) => /Previous segment.* not captured/.test(m)));

  const resent = make({ retransmit: [{ seg: 1, after: 2 }] });
  assert.ok(analysis(resent).some((m) => /retransmission/i.test(m)));

  const swapped = make({ swap: [[2, 3]] });
  assert.ok(analysis(swapped).some((m) => /out-of-order/i.test(m)));

  const overlapped = make({ overlap: [{ seg: 4, back: 100 }] });
  const o = overlapped.filter((p) => payloadLength(p) > 0)[4]!;
  assert.equal(payloadLength(o), 1448 + 100);
  const overlapStream = followStream(write({ format: 'pcap', packets: overlapped }));
  assert.ok(overlapStream.server.equals(body), 'overlap repeats true bytes');

  const fates = tcpConversation({
    exchanges: [{ from: 'server', data: body }],
    fate: (_x, seg) => (seg === 1 ? 'lost' : seg === 3 ? 'late' : seg === 5 ? 'dup' : 'ok'),
  });
  const flags = analysis(fates).join('\n');
  assert.match(flags, /Fast retransmission/i);
  assert.match(flags, /Out-Of-Order/i);
  assert.match(flags, /Spurious retransmission/i);
  assert.ok(followStream(write({ format: 'pcap', packets: fates })).server.equals(body), 'loss is recovered');
});

// ---------------------------------------------------------------------------------------------------------------
// bench/gen-capture.ts

/** An IMAP stream cut into lines, each followed by the literals it announces ({N} or {N+}). */
function imapUnits(stream: Buffer): { line: string; literals: Buffer[] }[] {
  const units: { line: string; literals: Buffer[] }[] = [];
  let at = 0;
  while (at < stream.length) {
    const unit = { line: '', literals: [] as Buffer[] };
    for (;;) {
      const eol = stream.indexOf('\r\n', at);
      assert.ok(eol >= 0, 'line ends with CRLF');
      const line = stream.toString('latin1', at, eol);
      at = eol + 2;
      unit.line += line;
      const literal = /\{(\d+)\+?\}$/.exec(line);
      if (!literal) break;
      unit.literals.push(stream.subarray(at, at + Number(literal[1])));
      at += Number(literal[1]);
    }
    units.push(unit);
  }
  return units;
}

/** Body of the n-th part of a multipart message (between its header and the next delimiter). */
function partBody(message: Buffer, boundary: string, n: number): Buffer {
  let at = 0;
  for (let i = 0; i <= n; i++) at = message.indexOf(`--${boundary}\r\n`, at) + boundary.length + 4;
  const start = message.indexOf('\r\n\r\n', at) + 4;
  return message.subarray(start, message.indexOf(`\r\n--${boundary}`, start));
}

test('gen-capture: rendered messages agree with their RFC822.SIZE and BODYSTRUCTURE', () => {
  let multipart = 0;
  for (let uid = 1; uid <= 80; uid++) {
    const m = makeMessage(42, uid, 'tester');
    const bytes = renderMessage(m);
    assert.equal(bytes.length, m.size, `size of uid ${uid}`);
    assert.ok(bytes.every((b) => b < 0x80), '7-bit text');
    const bs = bodyStructure(m);
    const text = m.attachment ? partBody(bytes, m.boundary, 0) : bytes.subarray(bytes.indexOf('\r\n\r\n') + 4);
    const lines = text.toString('latin1').split('\r\n').length - 1;
    assert.ok(bs.includes(`"7BIT" ${text.length} ${lines} `), `text part of uid ${uid}: ${bs}`);
    if (m.attachment) {
      multipart++;
      assert.ok(bs.includes(`"BASE64" ${partBody(bytes, m.boundary, 1).length} `), `attachment of uid ${uid}`);
    }
  }
  assert.ok(multipart > 0, 'some messages are multipart');
});

test('gen-capture: a session pairs every command with its tagged reply, literals sized right', () => {
  for (const seed of [1, 2, 3, 4]) {
    const plan = planSession(seed);
    const exchanges = [...imapSession(plan)];
    const side = (from: string): Buffer =>
      Buffer.concat(exchanges.filter((x) => x.from === from).map((x) => Buffer.from(x.data as Buffer | string)));
    const client = imapUnits(side('client'));
    const server = imapUnits(side('server')).filter((u) => !/^[*+] /.test(u.line));
    assert.deepEqual(
      server.map((u) => u.line.split(' ')[0]),
      client.map((u) => u.line.split(' ')[0]),
      'tags answered in order',
    );
    assert.ok(server.every((u) => / OK /.test(u.line)));
    const bodies = imapUnits(side('server')).filter((u) => /BODY\[\] \{/.test(u.line));
    assert.equal(bodies.length, plan.fetches.length);
    for (const u of bodies) assert.equal(u.literals[0]!.length, Number(/RFC822\.SIZE (\d+)/.exec(u.line)![1]));
    assert.equal(client.filter((u) => / APPEND /.test(u.line)).length, plan.appends.length);
  }
});

test('gen-capture: a small capture is deterministic and reads cleanly in tshark', async (t) => {
  if (skipWithoutTshark(t)) return;
  const options = { mb: 3, seed: 5, concurrency: 8, loss: 0.01, reorder: 0.01 };
  const [a, b] = [join(dir, 'gen-a.pcap'), join(dir, 'gen-b.pcap')];
  const summary = await generateCapture({ ...options, out: a });
  await generateCapture({ ...options, out: b });
  assert.ok(readFileSync(a).equals(readFileSync(b)), 'same seed, same bytes');
  assert.equal(statSync(a).size, summary.bytes);
  assert.ok(summary.lost + summary.dup + summary.unseen > 0 && summary.late > 0, 'damage was applied');

  const run = tshark(a, ['frame.time_delta', 'tcp.stream', 'tcp.dstport', 'tcp.srcport']);
  assert.equal(run.status, 0, run.stderr);
  assert.equal(run.rows.length, summary.packets);
  assert.ok(run.rows.every((r) => Number(r[0]) >= 0), 'timestamps never go backwards');
  assert.equal(new Set(run.rows.map((r) => r[1])).size, summary.sessions, 'one TCP stream per session');
  assert.ok(run.rows.every((r) => r[2] === '143' || r[3] === '143'));
});
