/**
 * Capture readers (pcap, pcapng, gzip, stdin) and the link/IP/TCP decoder, on synthetic captures written by
 * test/helpers/synth.ts. Every test checks frame numbers, bytes, addresses, ports and times, not just counts.
 */
import { bytes } from './helpers/data.js';
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { CaptureError, readCapture, type CaptureResult } from '../src/capture/reader.js';
import { addressText, formatIPv6 } from '../src/decode/address.js';
import { i32be, u16be, u16le, u32be, u32le } from '../src/util/bytes.js';
import { seededRandom } from './helpers/random.js';
import type { Frame, Warning } from '../src/capture/types.js';
import { PacketDecoder } from '../src/decode/decoder.js';
import type { Segment } from '../src/decode/types.js';
import {
  buildCapture,
  encodeFrame,
  LINKTYPE,
  nsToUnits,
  pcapFileHeader,
  pcapRecord,
  toNs,
  writeCapture,
  type SynthCapture,
  type SynthPacket,
} from './helpers/synth.js';
import { ROOT } from './helpers/env.js';

const dir = mkdtempSync(join(tmpdir(), 'imapscope-capture-'));
after(() => rmSync(dir, { recursive: true, force: true }));

let fileCount = 0;
function tempPath(ext: string): string {
  return join(dir, `f${fileCount++}.${ext}`);
}

function write(c: SynthCapture): string {
  const path = tempPath(c.format);
  writeCapture(path, c);
  return path;
}

function writeBytes(bytes: Buffer, ext = 'bin'): string {
  const path = tempPath(ext);
  writeFileSync(path, bytes);
  return path;
}

/** A frame copied out of the callback (its data is only valid during the call). */
type KeptFrame = Frame;
/** A decoded segment with its buffers copied. */
type KeptSegment = Omit<Segment, 'frame'> & { frameNumber: number };

interface ReadOut {
  result: CaptureResult;
  frames: KeptFrame[];
  segments: (KeptSegment | null)[];
  warnings: Warning[];
}

async function read(path: string): Promise<ReadOut> {
  const frames: KeptFrame[] = [];
  const segments: (KeptSegment | null)[] = [];
  const warnings: Warning[] = [];
  const warn = (w: Warning) => warnings.push(w);
  const decoder = new PacketDecoder(warn);
  const result = await readCapture(path, (f) => {
    frames.push({ ...f, data: Buffer.from(f.data) });
    const s = decoder.decode(f);
    if (!s) segments.push(null);
    else {
      const { frame, ...rest } = s;
      segments.push({ ...rest, payload: Buffer.from(s.payload), frameNumber: frame.number });
    }
  }, warn);
  return { result, frames, segments, warnings };
}


const T0 = 1_700_000_000_123_456_789n;

/** A data segment with a payload and ports/seq unique to `i`. */
function pkt(i: number, over: Partial<SynthPacket> = {}): SynthPacket {
  return {
    t: T0 + BigInt(i) * 1_000_001_001n,
    src: '192.0.2.10',
    dst: '192.0.2.20',
    sport: 40000 + i,
    dport: 143,
    seq: (0x10000000 * (i + 1) + 7) >>> 0,
    ack: 0x01020304 + i,
    flags: 'PA',
    payload: `a${i} NOOP ${bytes(3, i).toString('hex')}\r\n`,
    ...over,
  };
}

function payloadOf(p: SynthPacket): Buffer {
  return p.payload === undefined ? Buffer.alloc(0) : typeof p.payload === 'string' ? Buffer.from(p.payload, 'latin1') : p.payload;
}

const FLAG_BITS: Record<string, number> = { F: 1, S: 2, R: 4, P: 8, A: 16 };
function flagBits(letters: string): number {
  return [...letters].reduce((acc, ch) => acc | FLAG_BITS[ch]!, 0);
}

/** The segment decoded from a frame says what the packet said. */
function assertSegment(s: KeptSegment | null, p: SynthPacket, what: string, src = p.src, dst = p.dst): void {
  assert.ok(s, `${what}: decoded to a TCP segment`);
  assert.equal(addressText(s.src), src, `${what}: src`);
  assert.equal(addressText(s.dst), dst, `${what}: dst`);
  assert.equal(s.srcPort, p.sport, `${what}: sport`);
  assert.equal(s.dstPort, p.dport, `${what}: dport`);
  assert.equal(s.seq, p.seq >>> 0, `${what}: seq`);
  assert.equal(s.ack, (p.ack ?? 0) >>> 0, `${what}: ack`);
  assert.equal(s.flags, flagBits(p.flags), `${what}: flags`);
  assert.deepEqual(s.payload, payloadOf(p), `${what}: payload`);
  assert.equal(s.missingPayload, 0, `${what}: nothing missing`);
}

/** Expected [sec, nsec] for a time stored at 10^-digits (truncated). */
function decimalTime(t: bigint, digits: number): [number, number] {
  const unit = 10n ** BigInt(9 - digits);
  const ns = (t / unit) * unit;
  return [Number(ns / 1_000_000_000n), Number(ns % 1_000_000_000n)];
}

function assertTime(f: KeptFrame, t: bigint, digits: number, what: string): void {
  assert.deepEqual([f.tsSec, f.tsNsec, f.tsDigits], [...decimalTime(t, digits), digits], `${what}: time`);
}

// ---------------------------------------------------------------------------------------------------------------
// Link types and encapsulations

interface LinkCase {
  name: string;
  linkType: number;
  v4: boolean;
  v6: boolean;
  vlan?: number[];
}

const LINK_CASES: LinkCase[] = [
  { name: 'Ethernet', linkType: LINKTYPE.ETHERNET, v4: true, v6: true },
  { name: '802.1Q', linkType: LINKTYPE.ETHERNET, v4: true, v6: true, vlan: [100] },
  { name: 'QinQ', linkType: LINKTYPE.ETHERNET, v4: true, v6: true, vlan: [10, 20] },
  { name: 'QinQ x3', linkType: LINKTYPE.ETHERNET, v4: true, v6: false, vlan: [1, 2, 3] },
  { name: 'BSD NULL', linkType: LINKTYPE.NULL, v4: true, v6: true },
  { name: 'BSD LOOP', linkType: LINKTYPE.LOOP, v4: true, v6: true },
  { name: 'RAW 101', linkType: LINKTYPE.RAW, v4: true, v6: true },
  { name: 'IPv4 228', linkType: LINKTYPE.IPV4, v4: true, v6: false },
  { name: 'IPv6 229', linkType: LINKTYPE.IPV6, v4: false, v6: true },
  { name: 'Linux SLL 113', linkType: LINKTYPE.LINUX_SLL, v4: true, v6: true },
  { name: 'Linux SLL2 276', linkType: LINKTYPE.LINUX_SLL2, v4: true, v6: true },
];

for (const lc of LINK_CASES) {
  for (const bigEndian of [false, true]) {
    test(`link type ${lc.name} (${bigEndian ? 'big' : 'little'}-endian pcap): frames and TCP segments decode exactly`, async () => {
      const packets: SynthPacket[] = [];
      if (lc.v4) packets.push(pkt(0, { vlan: lc.vlan }), pkt(1, { src: '203.0.113.5', dst: '198.51.100.7', sport: 143, dport: 51000, flags: 'A', vlan: lc.vlan }));
      if (lc.v6) packets.push(pkt(2, { src: '2001:db8::1', dst: '2001:db8:0:1::ffff:a', vlan: lc.vlan }), pkt(3, { src: 'fe80::1:2', dst: '2001:db8::2', sport: 993, dport: 60001, flags: 'FA', vlan: lc.vlan }));
      const path = write({ format: 'pcap', linkType: lc.linkType, bigEndian, packets });
      const out = await read(path);
      assert.deepEqual(out.warnings, []);
      assert.equal(out.result.info.format, 'pcap');
      assert.equal(out.result.info.gzip, false);
      assert.deepEqual(out.result.info.linkTypes, [lc.linkType]);
      assert.equal(out.result.info.frames, packets.length);
      assert.equal(out.frames.length, packets.length);
      packets.forEach((p, i) => {
        const f = out.frames[i]!;
        const wire = encodeFrame(p, lc.linkType, i + 1, bigEndian);
        assert.equal(f.number, i + 1);
        assert.equal(f.linkType, lc.linkType);
        assert.deepEqual(f.data, wire, `frame ${i + 1} bytes`);
        assert.equal(f.origLen, wire.length);
        assertTime(f, toNs(p.t), 6, `frame ${i + 1}`);
        assertSegment(out.segments[i]!, p, `frame ${i + 1}`);
        assert.equal(out.segments[i]!.frameNumber, i + 1);
      });
    });
  }
}

test('the byte readers of the reader and the decoder agree with Buffer\'s, at every offset, on bytes with the high bits set', () => {
  const random = seededRandom(9);
  const d = Buffer.from(Array.from({ length: 64 }, (_, i) => (i < 8 ? 0xff : Math.floor(random() * 256))));
  for (let at = 0; at + 4 <= d.length; at++) {
    assert.equal(u16be(d, at), d.readUInt16BE(at));
    assert.equal(u16le(d, at), d.readUInt16LE(at));
    assert.equal(u32be(d, at), d.readUInt32BE(at));
    assert.equal(u32le(d, at), d.readUInt32LE(at));
    assert.equal(i32be(d, at), d.readInt32BE(at));
  }
});

test('IPv4 options, TCP options, IPv6 extension headers and 6in4 are walked past', async () => {
  const packets = [
    pkt(0, { ipv4Options: Buffer.from([0x01, 0x07, 11, 4, 0, 0, 0, 0, 0, 0, 0, 0]) }), // NOP + record route
    pkt(1, { ipv4Options: Buffer.alloc(40, 0x01) }), // the longest header: IHL 15
    pkt(2, { tcpOptions: Buffer.from([2, 4, 5, 0xb4, 1, 3, 3, 7]) }),
    pkt(3, { src: '2001:db8::a', dst: '2001:db8::b', ipv6ExtHeaders: true }),
    pkt(4, { src: '2001:db8::c', dst: '2001:db8::d', tunnel6in4: { src: '198.51.100.1', dst: '198.51.100.2' } }),
    pkt(5, { src: '2001:db8::e', dst: '2001:db8::f', ipv6ExtHeaders: true, tunnel6in4: { src: '198.51.100.3', dst: '198.51.100.4' }, ipv4Options: Buffer.from([1, 1, 1, 1]) }),
    pkt(6, { src: '2001:db8::e', dst: '2001:db8::f', ipv6ExtHeaders: true, vlan: [7, 8] }),
  ];
  for (const linkType of [LINKTYPE.ETHERNET, LINKTYPE.RAW]) {
    const list = linkType === LINKTYPE.RAW ? packets.map((p) => ({ ...p, vlan: undefined })) : packets;
    const out = await read(write({ format: 'pcap', linkType, packets: list }));
    assert.deepEqual(out.warnings, []);
    list.forEach((p, i) => {
      // 6in4: the TCP conversation is between the inner IPv6 addresses.
      assertSegment(out.segments[i]!, p, `link ${linkType} frame ${i + 1}`);
    });
  }
});

test('IPv6 extension headers of other lengths (hop-by-hop of 16 bytes, then destination options of 8)', async () => {
  const p = pkt(0, { src: '2001:db8::a', dst: '2001:db8::b', ipv6ExtHeaders: true, payload: 'a1 NOOP\r\n' });
  const raw = encodeFrame(p, LINKTYPE.RAW, 1);
  // Grow the hop-by-hop header (at 40, 8 bytes, one PadN) to 16 bytes: Hdr Ext Len 1, one 12-byte experimental
  // option (type 0x1e, "skip if unknown") whose non-zero data would be misread as a next header by a wrong length.
  const hbh = Buffer.from([60, 1, 0x1e, 12, ...new Array<number>(12).fill(0xaa)]);
  const grown = Buffer.concat([raw.subarray(0, 40), hbh, raw.subarray(48)]);
  grown.writeUInt16BE(raw.readUInt16BE(4) + 8, 4);
  const file = Buffer.concat([pcapFileHeader(LINKTYPE.RAW), pcapRecord(p.t, grown, grown.length)]);
  const out = await read(writeBytes(file, 'pcap'));
  assert.deepEqual(out.warnings, []);
  assertSegment(out.segments[0]!, p, 'frame 1');
});

test('an IPv4 fragment is skipped with a warning naming its frame; later frames still decode', async () => {
  const packets = [pkt(0), pkt(1, { fragment: true }), pkt(2), pkt(3, { src: '2001:db8::1', dst: '2001:db8::2', tunnel6in4: { src: '10.0.0.1', dst: '10.0.0.2' }, fragment: true })];
  const out = await read(write({ format: 'pcap', packets }));
  assert.equal(out.frames.length, 4, 'the fragment frames are still read');
  assertSegment(out.segments[0]!, packets[0]!, 'frame 1');
  assert.equal(out.segments[1], null);
  assertSegment(out.segments[2]!, packets[2]!, 'frame 3');
  assert.equal(out.segments[3], null);
  assert.deepEqual(out.warnings.map((w) => w.frame), [2, 4]);
  for (const w of out.warnings) assert.match(w.message, /fragment/i);
});

test('Ethernet padding after a short IP packet is not payload; snaplen-cut payload is reported as missing', async () => {
  const short = pkt(0, { payload: 'x' });
  const wire = encodeFrame(short, LINKTYPE.ETHERNET, 1);
  const padded = Buffer.concat([wire, Buffer.alloc(60 - wire.length, 0xee)]);
  const long = pkt(1, { payload: bytes(300, 9) });
  const longWire = encodeFrame(long, LINKTYPE.ETHERNET, 2);
  const cut = longWire.subarray(0, 54 + 100);
  const file = Buffer.concat([
    pcapFileHeader(LINKTYPE.ETHERNET),
    pcapRecord(short.t, padded, padded.length),
    pcapRecord(long.t, cut, longWire.length),
  ]);
  const out = await read(writeBytes(file, 'pcap'));
  assert.deepEqual(out.warnings, []);
  assert.equal(padded.length, 60);
  assert.deepEqual(out.segments[0]!.payload, Buffer.from('x'));
  assert.equal(out.frames[1]!.origLen, longWire.length);
  assert.equal(out.frames[1]!.data.length, 154);
  assert.deepEqual(out.segments[1]!.payload, payloadOf(long).subarray(0, 100));
  assert.equal(out.segments[1]!.missingPayload, 200);
});

// ---------------------------------------------------------------------------------------------------------------
// Classic pcap

for (const nanosecond of [false, true]) {
  for (const bigEndian of [false, true]) {
    test(`pcap ${nanosecond ? 'ns' : 'µs'} ${bigEndian ? 'big' : 'little'}-endian: exact timestamps and summary`, async () => {
      const times = [T0, T0 + 1n, T0 + 999n, T0 + 1_000n, 1_700_000_001_000_000_000n, 1_700_000_001_999_999_999n, 4_000_000_000_000_000_001n,
        4_000_000_000_000_005_001n, 4_000_000_000_000_003_001n];
      // Out of order on purpose: first/last in the summary are the earliest and latest, not file order (the latest is
      // later within the second of one before it, and one after it falls back within that second).
      const order = [1, 0, 2, 3, 4, 6, 5, 7, 8];
      const packets = order.map((k, i) => pkt(i, { t: times[k]! }));
      const out = await read(write({ format: 'pcap', nanosecond, bigEndian, packets }));
      assert.deepEqual(out.warnings, []);
      const digits = nanosecond ? 9 : 6;
      packets.forEach((p, i) => {
        assertTime(out.frames[i]!, p.t as bigint, digits, `frame ${i + 1}`);
        assertSegment(out.segments[i]!, p, `frame ${i + 1}`);
      });
      const info = out.result.info;
      const [fs, fn] = decimalTime(T0, digits);
      const [ls, ln] = decimalTime(times[7]!, digits);
      assert.deepEqual(info.first, { sec: fs, nsec: fn, digits });
      assert.deepEqual(info.last, { sec: ls, nsec: ln, digits });
      assert.equal(info.firstFrame, 1);
      assert.equal(info.lastFrame, packets.length);
      assert.equal(info.bytes, out.frames.reduce((n, f) => n + f.data.length, 0));
      if (nanosecond) assert.equal(out.frames[1]!.tsNsec, 123_456_789);
      else assert.equal(out.frames[1]!.tsNsec, 123_456_000);
    });
  }
}

// 3.7 MB: four reads, so each of the reader's two buffers is read into again while the other is parsed.
test('pcap: records spanning read-chunk boundaries (a 3.7 MB file), plain and gzip', async () => {
  const packets = Array.from({ length: 2600 }, (_, i) => pkt(i, { payload: bytes(1400 + (i % 7), i), sport: 1024 + i }));
  const file = buildCapture({ format: 'pcap', packets });
  for (const [bytesOnDisk, gz] of [[file, false], [gzipSync(file), true]] as const) {
    const out = await read(writeBytes(bytesOnDisk, gz ? 'pcap.gz' : 'pcap'));
    assert.deepEqual(out.warnings, []);
    assert.equal(out.result.info.gzip, gz);
    assert.equal(out.frames.length, packets.length);
    packets.forEach((p, i) => {
      assert.equal(out.frames[i]!.number, i + 1);
      assertSegment(out.segments[i]!, p, `frame ${i + 1}`);
    });
  }
});

function recordOffsets(file: Buffer, bigEndian: boolean): number[] {
  const offs: number[] = [];
  for (let o = 24; o + 16 <= file.length;) {
    offs.push(o);
    o += 16 + (bigEndian ? file.readUInt32BE(o + 8) : file.readUInt32LE(o + 8));
  }
  return offs;
}

for (const bigEndian of [false, true]) {
  test(`pcap (${bigEndian ? 'big' : 'little'}-endian): a corrupt record length in the middle is reported and the records after it are read`, async () => {
    const packets = Array.from({ length: 8 }, (_, i) => pkt(i));
    const file = Buffer.from(buildCapture({ format: 'pcap', bigEndian, packets }));
    const offs = recordOffsets(file, bigEndian);
    assert.equal(offs.length, 8);
    // Record 4 (0-based 3): an impossible captured length (little-endian) or original < captured (big-endian).
    const put = (v: number, at: number) => (bigEndian ? file.writeUInt32BE(v, at) : file.writeUInt32LE(v, at));
    if (bigEndian) put(1, offs[3]! + 12);
    else put(0x7fff0000, offs[3]! + 8);
    const out = await read(writeBytes(file, 'pcap'));
    const kept = packets.filter((_, i) => i !== 3);
    assert.equal(out.frames.length, kept.length, 'every record but the corrupt one');
    kept.forEach((p, i) => {
      assert.equal(out.frames[i]!.number, i + 1);
      assertTime(out.frames[i]!, p.t as bigint, 6, `frame ${i + 1}`);
      assertSegment(out.segments[i]!, p, `frame ${i + 1}`);
    });
    const corrupt = out.warnings.filter((w) => /corrupt pcap record header/.test(w.message));
    assert.equal(corrupt.length, 1, JSON.stringify(out.warnings));
    assert.equal(corrupt[0]!.frame, 4, 'the warning names the frame where the corruption is');
    assert.match(corrupt[0]!.message, new RegExp(`offset ${offs[3]}\\b`));
    assert.ok(out.warnings.some((w) => /resynchronised/.test(w.message) && w.frame === 4), JSON.stringify(out.warnings));
    assert.equal(out.warnings.length, 2);
  });
}

test('pcap: a corrupt header in the last record skips only that record', async () => {
  const packets = Array.from({ length: 4 }, (_, i) => pkt(i));
  const file = Buffer.from(buildCapture({ format: 'pcap', packets }));
  const offs = recordOffsets(file, false);
  file.writeUInt32LE(2_000_000, offs[3]! + 4); // microseconds ≥ 10^6
  const out = await read(writeBytes(file, 'pcap'));
  assert.equal(out.frames.length, 3);
  packets.slice(0, 3).forEach((p, i) => assertSegment(out.segments[i]!, p, `frame ${i + 1}`));
  assert.ok(out.warnings.length >= 1);
  assert.ok(out.warnings.every((w) => w.frame === 4), JSON.stringify(out.warnings));
});

for (const format of ['pcap', 'pcapng'] as const) {
  for (const cut of [1, 10, 30]) {
    test(`${format}: a truncated last record (${cut} bytes cut) keeps the frames before it and names the frame`, async () => {
      const packets = Array.from({ length: 5 }, (_, i) => pkt(i));
      const out = await read(write({ format, packets, truncateLastRecord: cut }));
      assert.equal(out.frames.length, 4);
      packets.slice(0, 4).forEach((p, i) => {
        assert.deepEqual(out.frames[i]!.data, encodeFrame(p, LINKTYPE.ETHERNET, i + 1));
        assertSegment(out.segments[i]!, p, `frame ${i + 1}`);
      });
      assert.equal(out.warnings.length, 1, JSON.stringify(out.warnings));
      assert.equal(out.warnings[0]!.frame, 5);
      assert.match(out.warnings[0]!.message, /truncated/);
    });
  }
}

test('pcap: a file cut inside the global header, and one with a header but no records', async () => {
  const header = pcapFileHeader(LINKTYPE.ETHERNET);
  const cutOut = await read(writeBytes(header.subarray(0, 10), 'pcap'));
  assert.equal(cutOut.frames.length, 0);
  assert.equal(cutOut.warnings.length, 1);
  assert.equal(cutOut.warnings[0]!.frame, null);
  const emptyOut = await read(writeBytes(header, 'pcap'));
  assert.equal(emptyOut.frames.length, 0);
  assert.deepEqual(emptyOut.warnings, []);
  assert.equal(emptyOut.result.info.format, 'pcap');
  assert.equal(emptyOut.result.info.first, null);
});

// ---------------------------------------------------------------------------------------------------------------
// pcapng

/** Expected [sec, nsec] for a time stored with an if_tsresol byte, converted back like the reader does. */
function tsresolTime(t: bigint, tsresol: number): [number, number] {
  const per = tsresol & 0x80 ? 2n ** BigInt(tsresol & 0x7f) : 10n ** BigInt(tsresol);
  const units = nsToUnits(t, tsresol);
  const rem = units % per;
  // Binary fractions round to the nearest nanosecond.
  const nsec = (rem * 1_000_000_000n * 2n + per) / (per * 2n);
  return [Number(units / per), Number(nsec)];
}

test('pcapng: two interfaces with different link types and if_tsresol (6, 9, default, 2^-20), EPB', async () => {
  const interfaces = [
    { linkType: LINKTYPE.ETHERNET, tsresol: 6 },
    { linkType: LINKTYPE.RAW, tsresol: 9 },
    { linkType: LINKTYPE.LINUX_SLL2 }, // no option: microseconds
    { linkType: LINKTYPE.IPV6, tsresol: 0x80 | 20 },
  ];
  const packets = [
    pkt(0, { iface: 0 }),
    pkt(1, { iface: 1, src: '2001:db8::1', dst: '2001:db8::2' }),
    pkt(2, { iface: 2 }),
    pkt(3, { iface: 3, src: '2001:db8::3', dst: '2001:db8::4' }),
    pkt(4, { iface: 1 }),
    pkt(5, { iface: 0, t: 1_700_000_000_999_999_999n }),
  ];
  const out = await read(write({ format: 'pcapng', interfaces, packets }));
  assert.deepEqual(out.warnings, []);
  assert.equal(out.result.info.format, 'pcapng');
  assert.deepEqual(out.result.info.linkTypes, [LINKTYPE.ETHERNET, LINKTYPE.RAW, LINKTYPE.LINUX_SLL2, LINKTYPE.IPV6]);
  const digitsOf = [6, 9, 6, 7];
  packets.forEach((p, i) => {
    const f = out.frames[i]!;
    const iface = interfaces[p.iface!]!;
    assert.equal(f.number, i + 1);
    assert.equal(f.linkType, iface.linkType, `frame ${i + 1} link type`);
    assert.deepEqual(f.data, encodeFrame(p, iface.linkType, i + 1));
    assert.deepEqual([f.tsSec, f.tsNsec], tsresolTime(p.t as bigint, iface.tsresol ?? 6), `frame ${i + 1} time`);
    assert.equal(f.tsDigits, digitsOf[p.iface!]);
    assertSegment(out.segments[i]!, p, `frame ${i + 1}`);
  });
  // Exact values, not only the helper's arithmetic.
  assert.deepEqual([out.frames[0]!.tsSec, out.frames[0]!.tsNsec], [1_700_000_000, 123_456_000]);
  assert.deepEqual([out.frames[1]!.tsSec, out.frames[1]!.tsNsec], [1_700_000_001, 123_457_790]);
  assert.deepEqual([out.frames[5]!.tsSec, out.frames[5]!.tsNsec], [1_700_000_000, 999_999_000]);
});

for (const bigEndian of [false, true]) {
  test(`pcapng (${bigEndian ? 'big' : 'little'}-endian): simple packet blocks (no time, IDB snaplen) and legacy packet blocks`, async () => {
    const interfaces = [{ linkType: LINKTYPE.ETHERNET, tsresol: 9, snaplen: 78 }, { linkType: LINKTYPE.LINUX_SLL, tsresol: 6 }];
    const big = bytes(200, 77);
    const packets: SynthPacket[] = [
      pkt(0, { block: 'spb' }),
      pkt(1, { block: 'spb', payload: big }),
      pkt(2, { block: 'pb', iface: 1 }),
      pkt(3, { block: 'pb', iface: 0, payload: 'tiny' }),
      pkt(4, { block: 'epb', iface: 1 }),
    ];
    const out = await read(write({ format: 'pcapng', bigEndian, interfaces, packets }));
    assert.deepEqual(out.warnings, []);
    assert.equal(out.frames.length, 5);
    // SPB: interface 0, timestamp 0, captured length min(original, snaplen).
    const f0 = out.frames[0]!;
    assert.deepEqual([f0.tsSec, f0.tsNsec, f0.tsDigits, f0.linkType], [0, 0, 9, LINKTYPE.ETHERNET]);
    assert.deepEqual(f0.data, encodeFrame(packets[0]!, LINKTYPE.ETHERNET, 1, bigEndian).subarray(0, 78));
    assertSegment(out.segments[0]!, packets[0]!, 'frame 1');
    const f1 = out.frames[1]!;
    const wire1 = encodeFrame(packets[1]!, LINKTYPE.ETHERNET, 2, bigEndian);
    assert.equal(f1.origLen, wire1.length);
    assert.deepEqual(f1.data, wire1.subarray(0, 78));
    assert.deepEqual(out.segments[1]!.payload, big.subarray(0, 78 - 54));
    assert.equal(out.segments[1]!.missingPayload, 200 - (78 - 54));
    // PB: 16-bit interface id, with a timestamp.
    assert.equal(out.frames[2]!.linkType, LINKTYPE.LINUX_SLL);
    assertTime(out.frames[2]!, packets[2]!.t as bigint, 6, 'frame 3');
    assertSegment(out.segments[2]!, packets[2]!, 'frame 3');
    assert.equal(out.frames[3]!.linkType, LINKTYPE.ETHERNET);
    assertTime(out.frames[3]!, packets[3]!.t as bigint, 9, 'frame 4');
    assertSegment(out.segments[3]!, packets[3]!, 'frame 4');
    assertTime(out.frames[4]!, packets[4]!.t as bigint, 6, 'frame 5');
    assertSegment(out.segments[4]!, packets[4]!, 'frame 5');
  });
}

for (const firstBigEndian of [false, true]) {
  test(`pcapng: two sections in different byte orders (first ${firstBigEndian ? 'big' : 'little'}-endian), each with its own IDBs`, async () => {
    const packets: SynthPacket[] = [
      pkt(0, { iface: 0 }),
      pkt(1, { iface: 1, src: '2001:db8::1', dst: '2001:db8::2' }),
      // Section 2: interface 0 is now SLL2 with ns, interface 1 NULL (whose header is in the writer's byte order).
      pkt(2, { iface: 0 }),
      pkt(3, { iface: 1, src: '2001:db8::5', dst: '2001:db8::6' }),
      pkt(4, { iface: 0, block: 'pb' }),
    ];
    const c: SynthCapture = {
      format: 'pcapng',
      bigEndian: firstBigEndian,
      interfaces: [{ linkType: LINKTYPE.ETHERNET, tsresol: 6 }, { linkType: LINKTYPE.IPV6, tsresol: 9 }],
      sections: [{ at: 2, bigEndian: !firstBigEndian, interfaces: [{ linkType: LINKTYPE.LINUX_SLL2, tsresol: 9 }, { linkType: LINKTYPE.NULL, tsresol: 3 }] }],
      packets,
      unknownBlocks: true,
    };
    const out = await read(write(c));
    assert.deepEqual(out.warnings, []);
    const links = [LINKTYPE.ETHERNET, LINKTYPE.IPV6, LINKTYPE.LINUX_SLL2, LINKTYPE.NULL, LINKTYPE.LINUX_SLL2];
    const digits = [6, 9, 9, 3, 9];
    assert.equal(out.frames.length, 5);
    packets.forEach((p, i) => {
      const f = out.frames[i]!;
      const be = i < 2 ? firstBigEndian : !firstBigEndian;
      assert.equal(f.number, i + 1);
      assert.equal(f.linkType, links[i]);
      assert.deepEqual(f.data, encodeFrame(p, links[i]!, i + 1, be), `frame ${i + 1} bytes`);
      assertTime(f, p.t as bigint, digits[i]!, `frame ${i + 1}`);
      assertSegment(out.segments[i]!, p, `frame ${i + 1}`);
    });
  });
}

test('pcapng: unknown (local-use) blocks are skipped; custom blocks take a frame number like Wireshark; a DSB secret is returned', async () => {
  const packets = Array.from({ length: 4 }, (_, i) => pkt(i));
  const secret = 'CLIENT_RANDOM 0011223344556677 8899aabbccddeeff\n'; // 51 bytes: the block pads it
  for (const bigEndian of [false, true]) {
    const plain = await read(write({ format: 'pcapng', bigEndian, packets, sections: [{ at: 2 }] }));
    const out = await read(write({
      format: 'pcapng', bigEndian, packets, unknownBlocks: true, decryptionSecrets: secret, sections: [{ at: 2 }],
    }));
    assert.deepEqual(out.warnings, []);
    assert.deepEqual(out.frames, plain.frames);
    packets.forEach((p, i) => {
      assert.equal(out.frames[i]!.number, i + 1);
      assertSegment(out.segments[i]!, p, `frame ${i + 1}`);
    });
    assert.deepEqual(plain.result.secrets, []);
    assert.equal(out.result.secrets.length, 1);
    assert.equal(out.result.secrets[0]!.type, 0x544c534b);
    assert.equal(out.result.secrets[0]!.data.toString('latin1'), secret);

    // A custom block follows the IDBs of each of the two sections: frames 1 and 4 are those blocks.
    const custom = await read(write({ format: 'pcapng', bigEndian, packets, customBlocks: true, unknownBlocks: true, sections: [{ at: 2 }] }));
    assert.deepEqual(custom.warnings, []);
    assert.deepEqual(custom.frames.map((f) => f.number), [2, 3, 5, 6]);
    assert.deepEqual(custom.frames.map((f) => f.data), plain.frames.map((f) => f.data));
    assert.equal(custom.result.info.frames, 6);
    packets.forEach((p, i) => assertSegment(custom.segments[i]!, p, `packet ${i}`));
  }
});

test('pcapng: a packet on an interface no IDB described is skipped with a warning naming its frame', async () => {
  const packets = [pkt(0), pkt(1), pkt(2, { iface: 1 }), pkt(3)];
  // Section 2 has a single interface, so packet 2 (iface 1) cannot be written there: build it in section 1 instead
  // by giving section 1 two interfaces and then removing the second IDB from the bytes.
  const file = buildCapture({ format: 'pcapng', interfaces: [{ linkType: 1 }, { linkType: 101 }], packets });
  // Find the second IDB (type 1 after the SHB and the first IDB) and drop it.
  const shbLen = file.readUInt32LE(4);
  const idb1Len = file.readUInt32LE(shbLen + 4);
  const idb2At = shbLen + idb1Len;
  assert.equal(file.readUInt32LE(idb2At), 1);
  const idb2Len = file.readUInt32LE(idb2At + 4);
  const damaged = Buffer.concat([file.subarray(0, idb2At), file.subarray(idb2At + idb2Len)]);
  const out = await read(writeBytes(damaged, 'pcapng'));
  assert.equal(out.frames.length, 3);
  assertSegment(out.segments[0]!, packets[0]!, 'frame 1');
  assertSegment(out.segments[1]!, packets[1]!, 'frame 2');
  assertSegment(out.segments[2]!, packets[3]!, 'frame 3');
  assert.equal(out.warnings.length, 1);
  assert.equal(out.warnings[0]!.frame, 3);
  assert.match(out.warnings[0]!.message, /interface 1/);
});

// ---------------------------------------------------------------------------------------------------------------
// gzip, stdin, not-a-capture

test('gzip-compressed pcap and pcapng are read transparently', async () => {
  const packets = Array.from({ length: 6 }, (_, i) => pkt(i));
  for (const format of ['pcap', 'pcapng'] as const) {
    const file = buildCapture({ format, packets, nanosecond: true });
    const plain = await read(writeBytes(file, format));
    const out = await read(writeBytes(gzipSync(file), `${format}.gz`));
    assert.deepEqual(out.warnings, []);
    assert.equal(out.result.info.gzip, true);
    assert.equal(out.result.info.format, format);
    assert.deepEqual(out.frames, plain.frames);
    packets.forEach((p, i) => {
      assertTime(out.frames[i]!, p.t as bigint, 9, `frame ${i + 1}`);
      assertSegment(out.segments[i]!, p, `frame ${i + 1}`);
    });
  }
});

test('a cut-off gzip stream keeps what was decompressed and warns', async () => {
  const packets = Array.from({ length: 40 }, (_, i) => pkt(i, { payload: bytes(500, i) }));
  const gz = gzipSync(buildCapture({ format: 'pcap', packets }));
  const out = await read(writeBytes(gz.subarray(0, Math.floor(gz.length * 0.6)), 'pcap.gz'));
  assert.ok(out.frames.length > 0 && out.frames.length < packets.length, `read ${out.frames.length} frames`);
  out.frames.forEach((_, i) => assertSegment(out.segments[i]!, packets[i]!, `frame ${i + 1}`));
  assert.ok(out.warnings.some((w) => /gzip/.test(w.message)), JSON.stringify(out.warnings));
});

test("'-' reads the capture from stdin, even when it arrives a few bytes at a time", async () => {
  const packets = Array.from({ length: 5 }, (_, i) => pkt(i));
  const file = buildCapture({ format: 'pcapng', packets, interfaces: [{ linkType: LINKTYPE.ETHERNET, tsresol: 9 }] });
  const reader = pathToFileURL(join(ROOT, 'dist', 'src', 'capture', 'reader.js')).href;
  const script = `
    import { readCapture } from ${JSON.stringify(reader)};
    const frames = [];
    const warnings = [];
    process.stderr.write('ready\\n');
    const r = await readCapture('-', (f) => frames.push([f.number, f.tsSec, f.tsNsec, f.data.toString('hex')]), (w) => warnings.push(w));
    process.stdout.write(JSON.stringify({ format: r.info.format, frames, warnings }));
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c) => (stdout += c));
  child.stderr.on('data', (c) => (stderr += c));
  child.stdin.on('error', () => {}); // EPIPE if the child died early: its exit status reports it
  const done = new Promise<number | null>((resolve) => child.on('close', resolve));
  const ready = new Promise<void>((resolve) => {
    child.stderr.on('data', () => stderr.startsWith('ready\n') && resolve());
    child.on('close', () => resolve());
  });
  await ready;
  // Two bytes, a pause, two more, a pause, then the rest: the reader must wait for the whole magic.
  const pause = () => new Promise((r) => setTimeout(r, 150));
  child.stdin.write(file.subarray(0, 2));
  await pause();
  child.stdin.write(file.subarray(2, 4));
  await pause();
  child.stdin.end(file.subarray(4));
  assert.equal(await done, 0, stderr);
  assert.equal(stderr, 'ready\n');
  const got = JSON.parse(stdout) as { format: string; frames: [number, number, number, string][]; warnings: Warning[] };
  assert.equal(got.format, 'pcapng');
  assert.deepEqual(got.warnings, []);
  assert.deepEqual(got.frames, packets.map((p, i) => {
    const ns = p.t as bigint;
    return [i + 1, Number(ns / 1_000_000_000n), Number(ns % 1_000_000_000n), encodeFrame(p, LINKTYPE.ETHERNET, i + 1).toString('hex')];
  }));
});

test('a file that is neither pcap nor pcapng, an empty file and a missing file are rejected with CaptureError', async () => {
  const cases: [string, RegExp][] = [
    [writeBytes(Buffer.from('From: someone@example.org\r\nSubject: not a capture\r\n'), 'eml'), /not a pcap or pcapng/],
    [writeBytes(Buffer.from([0xd4, 0xc3, 0xb2]), 'pcap'), /not a pcap or pcapng/], // shorter than any magic
    [writeBytes(Buffer.alloc(0), 'pcap'), /empty/],
    [join(dir, 'does-not-exist.pcap'), /no such file/],
  ];
  for (const [path, message] of cases) {
    let frames = 0;
    await assert.rejects(readCapture(path, () => frames++, () => {}), (err: unknown) => {
      assert.ok(err instanceof CaptureError, `${path}: ${String(err)}`);
      assert.match((err as Error).message, message);
      assert.ok((err as Error).message.includes(path), 'the message names the file');
      return true;
    });
    assert.equal(frames, 0);
  }
});

test('pcapng: a block too short for its fixed fields is skipped with a warning naming its offset; a time past 9999 is taken as 9999-12-31', async () => {
  const fixtures = join(ROOT, 'test', 'fixtures', 'fuzz', 'pipeline');
  const short = await read(join(fixtures, 'pcapng-block-shorter-than-its-fields.bin'));
  assert.equal(short.frames.length, 0);
  assert.deepEqual(short.warnings.map((w) => w.message.replace(/ at file offset (\d+).*/, ' @$1')), [
    'corrupt pcapng block (type 0x6, length 12) @48', 'corrupt pcapng block (type 0x2, length 20) @60',
    'corrupt pcapng block (type 0x3, length 12) @80', 'corrupt pcapng block (type 0x1, length 12) @92',
  ]);
  const late = await read(join(fixtures, 'timestamp-beyond-year-9999.bin'));
  assert.deepEqual(late.frames.map((f) => [f.number, f.tsSec, f.tsNsec]), [[1, 1_700_000_000, 0], [2, 253_402_300_799, 0]]);
  assert.deepEqual(late.warnings.map((w) => [w.frame, w.message]), [
    [2, "packet's timestamp (8796093022208 s since 1970) is outside the years 1970 to 9999; taken as 9999-12-31T23:59:59Z"],
  ]);
});

test('an IPv6 address is written as RFC 5952 says: the longest run of zero groups (the first of equals) as "::", at either end too', () => {
  const forms: [string, number[]][] = [
    ['::', [0, 0, 0, 0, 0, 0, 0, 0]],
    ['::1', [0, 0, 0, 0, 0, 0, 0, 1]],
    ['1::', [1, 0, 0, 0, 0, 0, 0, 0]],
    ['fe80::1:2', [0xfe80, 0, 0, 0, 0, 0, 1, 2]],
    ['2001:db8::', [0x2001, 0xdb8, 0, 0, 0, 0, 0, 0]],
    ['2001:db8:0:1:1:1:1:1', [0x2001, 0xdb8, 0, 1, 1, 1, 1, 1]],
    ['2001:0:0:1::1', [0x2001, 0, 0, 1, 0, 0, 0, 1]],
    ['2001:db8::1:0:0:1', [0x2001, 0xdb8, 0, 0, 1, 0, 0, 1]],
    ['1:2:3:4:5:6:7:8', [1, 2, 3, 4, 5, 6, 7, 8]],
  ];
  for (const [text, groups] of forms) {
    const b = Buffer.alloc(18);
    groups.forEach((g, i) => b.writeUInt16BE(g, 2 + 2 * i));
    assert.equal(formatIPv6(b, 2), text, groups.join(','));
  }
});
