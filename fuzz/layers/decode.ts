import type { Warning } from '../../src/capture/types.js';
import { PacketDecoder } from '../../src/decode/decoder.js';
import { warningLines } from '../../src/report/format.js';
import { check, checkPrintable } from '../invariants.js';
import type { Layer } from '../layer.js';
import type { Rng } from '../rng.js';
import { framesOf, recordedCaptures } from '../seeds.js';

const LINK_TYPES = [1, 0, 108, 12, 14, 101, 228, 229, 113, 276, 147];
const T = { sec: 1_700_000_000, nsec: 0, digits: 6 };

/** Input: one byte choosing the link type, then the frame's bytes. */
function linkByte(linkType: number): number {
  return Math.max(0, LINK_TYPES.indexOf(linkType));
}

/** An Ethernet/IPv4 or IPv6/TCP frame with random header fields (options, extension headers, lengths). */
function generate(rng: Rng): Buffer {
  const v6 = rng.chance(0.4);
  const tcp = Buffer.alloc(20 + 4 * rng.small(10));
  for (let i = 0; i < tcp.length; i++) tcp[i] = rng.int(256);
  tcp.writeUInt16BE(rng.chance(0.5) ? 143 : rng.int(65536), rng.chance(0.5) ? 0 : 2);
  tcp[12] = ((tcp.length / 4) << 4) | (rng.chance(0.1) ? rng.int(16) : 0);
  const payload = Buffer.from('a1 NOOP\r\n'.repeat(rng.small(20)));
  let ip: Buffer;
  if (v6) {
    ip = Buffer.alloc(40);
    ip[0] = 0x60;
    ip.writeUInt16BE(Math.min(0xffff, tcp.length + payload.length + (rng.chance(0.1) ? rng.int(100) : 0)), 4);
    ip[6] = rng.chance(0.8) ? 6 : rng.pick([0, 43, 44, 60, 41, 4, 58]);
  } else {
    ip = Buffer.alloc(20 + 4 * rng.small(10));
    ip[0] = 0x40 | (ip.length / 4);
    ip.writeUInt16BE(Math.max(0, ip.length + tcp.length + payload.length - (rng.chance(0.1) ? rng.int(60) : 0)), 2);
    if (rng.chance(0.1)) ip.writeUInt16BE(rng.int(65536), 6);
    ip[9] = rng.chance(0.8) ? 6 : rng.pick([1, 4, 41, 17]);
  }
  const eth = Buffer.alloc(14);
  eth.writeUInt16BE(v6 ? 0x86dd : 0x0800, 12);
  return Buffer.concat([Buffer.from([0]), eth, ip, tcp, payload]);
}

/**
 * Link → IP → TCP decoding of one frame. A segment's payload lies inside the frame, ports and
 * sequence numbers are in range, and warnings print safely.
 */
export const decodeLayer: Layer = {
  name: 'decode',
  about: 'link (Ethernet, VLAN, SLL, SLL2, NULL/LOOP, raw), IPv4/IPv6 (options, extension headers, tunnels, ICMP quotes), TCP',
  maxLength: 4096,
  seeds: () => recordedCaptures().flatMap((c) => framesOf(c.bytes).slice(0, 40))
    .map((f) => Buffer.concat([Buffer.from([linkByte(f.linkType)]), f.data.subarray(0, 600)])),
  generate,
  dictionary: [Buffer.from('0800', 'hex'), Buffer.from('86dd', 'hex'), Buffer.from('8100', 'hex'), Buffer.from('88a8', 'hex'), Buffer.from('008f', 'hex'), Buffer.from('45', 'hex'), Buffer.from('60', 'hex')],
  run(input) {
    if (input.length === 0) return;
    const warnings: Warning[] = [];
    const decoder = new PacketDecoder((w) => warnings.push(w));
    const data = input.subarray(1);
    const seg = decoder.decode({ number: 1, tsSec: T.sec, tsNsec: 0, tsDigits: 6, linkType: LINK_TYPES[input[0]! % LINK_TYPES.length]!, data, origLen: data.length + (input[0]! & 0x80 ? 100 : 0), iface: 0 });
    if (seg) {
      check(seg.payload.length <= data.length, `payload of ${seg.payload.length} bytes in a ${data.length}-byte frame`);
      check(seg.payload.buffer === data.buffer || seg.payload.length === 0, 'payload is not a view of the frame');
      check(seg.srcPort >= 0 && seg.srcPort < 65536 && seg.dstPort >= 0 && seg.dstPort < 65536, 'port out of range');
      check(seg.seq >= 0 && seg.seq < 2 ** 32 && seg.ack >= 0 && seg.ack < 2 ** 32, 'sequence number out of range');
      check(seg.missingPayload >= 0, `negative missing payload ${seg.missingPayload}`);
      checkPrintable(`${seg.src} ${seg.dst}`, 'address');
    }
    for (const line of warningLines(warnings)) checkPrintable(line, 'warning');
  },
};
