import type { Frame, Warning } from '../../src/capture/types.js';
import { TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN, type Segment } from '../../src/decode/types.js';
import { warningLines } from '../../src/report/format.js';
import { TcpTracker } from '../../src/tcp/tracker.js';
import type { Side } from '../../src/tcp/types.js';
import { check, checkPrintable } from '../invariants.js';
import type { Layer } from '../layer.js';
import { Rng } from '../rng.js';

const CLIENT = { ip: '10.0.0.1', port: 40000 };
const SERVER = { ip: '10.0.0.2', port: 143 };
const HEADER = 8;
const OP = 6;
/** Small, so that scripts reach the out-of-order cap. */
const MAX_HELD = 64 * 1024;

/** The byte every segment carries at absolute sequence number q: consecutive bytes differ by 31. */
const byteAt = (q: number) => (q * 31) & 0xff;

/**
 * A script of segments on one connection. Header: client ISN, server ISN (u32 each; values near 2^32
 * wrap). Each 6-byte op: control (bit 0 server side, 1 SYN, 2 FIN, 3 RST, 4 ACK, 5 long), stream offset
 * (u16) from the ISN, length (× 64 when long), the ACK's offset (× 256), and a byte of snaplen cut.
 * Payload bytes are a function of their sequence number, so whatever order, overlap or repetition the
 * script makes, each run of reassembled bytes between gaps can be checked.
 */
function segmentsOf(input: Buffer): Segment[] {
  if (input.length < HEADER) return [];
  const isn = { client: input.readUInt32BE(0), server: input.readUInt32BE(4) };
  const out: Segment[] = [];
  for (let at = HEADER, n = 1; at + OP <= input.length; at += OP, n++) {
    const ctl = input[at]!;
    const side: Side = ctl & 1 ? 'server' : 'client';
    const peer: Side = side === 'client' ? 'server' : 'client';
    const offset = input.readUInt16BE(at + 1);
    const length = input[at + 3]! * (ctl & 0x20 ? 64 : 1);
    const seq = (isn[side] + (ctl & 2 ? 0 : 1) + offset) >>> 0;
    const payload = Buffer.alloc(ctl & 2 ? 0 : length);
    for (let i = 0; i < payload.length; i++) payload[i] = byteAt(seq + i);
    const cut = Math.min(payload.length, input[at + 5]! & 0x80 ? input[at + 5]! & 0x7f : 0);
    const frame: Frame = { number: n, tsSec: 1_700_000_000 + n, tsNsec: 0, tsDigits: 6, linkType: 1, data: payload, origLen: payload.length, iface: 0 };
    const flags = (ctl & 2 ? TCP_SYN : 0) | (ctl & 4 ? TCP_FIN : 0) | (ctl & 8 ? TCP_RST : 0) | (ctl & 0x10 ? TCP_ACK : 0);
    const [src, dst] = side === 'client' ? [CLIENT, SERVER] : [SERVER, CLIENT];
    out.push({
      frame, src: src.ip, dst: dst.ip, srcPort: src.port, dstPort: dst.port, seq,
      ack: (isn[peer] + 1 + input[at + 4]! * 256) >>> 0, flags, window: 65535,
      payload: payload.subarray(0, payload.length - cut), missingPayload: cut,
    });
  }
  return out;
}

function op(side: Side, ctl: number, offset: number, length: number, ack: number): Buffer {
  const b = Buffer.alloc(OP);
  b[0] = ctl | (side === 'server' ? 1 : 0);
  b.writeUInt16BE(offset & 0xffff, 1);
  b[3] = length;
  b[4] = ack;
  return b;
}

/** A handshake, data both ways in order, then a FIN: mutation reorders, overlaps and drops from here. */
function generate(rng: Rng): Buffer {
  const header = Buffer.alloc(HEADER);
  header.writeUInt32BE(rng.chance(0.3) ? 0xffffffff - rng.int(2000) : rng.int(2 ** 32), 0);
  header.writeUInt32BE(rng.chance(0.3) ? 0xffffffff - rng.int(2000) : rng.int(2 ** 32), 4);
  const ops = [op('client', 2, 0, 0, 0), op('server', 2 | 0x10, 0, 0, 0)];
  const sent = { client: 0, server: 0 };
  for (let i = rng.small(30); i > 0; i--) {
    const side: Side = rng.chance(0.5) ? 'client' : 'server';
    const peer: Side = side === 'client' ? 'server' : 'client';
    const len = 1 + rng.int(255);
    // Often acknowledging all the peer sent (rounded up to the ACK's unit): a direction all acknowledged goes quiet
    // once ten frames (seconds) pass, and its connection keeps its streams as numbers until the next segment.
    const ack = rng.chance(0.5) ? Math.min(255, Math.ceil(sent[peer] / 256)) : 0;
    ops.push(op(side, 0x10, sent[side], len, ack));
    sent[side] += len;
    if (rng.chance(0.1)) {
      // A quiet spell: twelve seconds of bare ACKs of all each side sent, and the streams rest as numbers.
      for (let k = 0; k < 12; k++) {
        const from: Side = k % 2 === 0 ? 'client' : 'server';
        ops.push(op(from, 0x10, sent[from], 0, Math.min(255, Math.ceil(sent[from === 'client' ? 'server' : 'client'] / 256))));
      }
    }
  }
  ops.push(op('client', 4 | 0x10, sent.client, 0, 0));
  return Buffer.concat([header, ...(rng.chance(0.3) ? ops.sort(() => rng.next() - 0.5) : ops)]);
}

/**
 * TCP reassembly. Per direction the delivered bytes are checked against the sequence-number pattern
 * (no byte repeated, reordered or lost between two gaps), never exceed what was captured, and every connection opens
 * once, delivers, and closes once, its record counting the bytes and gaps it delivered (also across a quiet spell,
 * when its streams were kept as numbers).
 */
export const tcpLayer: Layer = {
  name: 'tcp',
  about: 'TCP reassembly: order, overlap, retransmission, sequence wrap, gaps, snaplen cuts, SYN/FIN/RST, port reuse',
  maxLength: 6 * 400 + HEADER,
  seeds: () => [1, 2, 3].map((seed) => generate(new Rng(seed))),
  generate,
  run(input) {
    const segments = segmentsOf(input);
    const captured = { client: 0, server: 0 };
    for (const s of segments) captured[s.srcPort === CLIENT.port ? 'client' : 'server'] += s.payload.length;
    const delivered = { client: 0, server: 0 };
    const last: Record<Side, number | null> = { client: null, server: null };
    const state = new Map<number, 'open' | 'closed'>();
    /** What the open connection delivered, by side: what its record must count at the close. */
    let counts = { client: { bytes: 0, gaps: 0, gapBytes: 0 }, server: { bytes: 0, gaps: 0, gapBytes: 0 } };
    const warnings: Warning[] = [];
    const tracker = new TcpTracker({
      open(conn) {
        check(!state.has(conn.id), `connection ${conn.id} opened twice`);
        state.set(conn.id, 'open');
        last.client = last.server = null;
        counts = { client: { bytes: 0, gaps: 0, gapBytes: 0 }, server: { bytes: 0, gaps: 0, gapBytes: 0 } };
      },
      data(conn, side, bytes) {
        check(state.get(conn.id) === 'open', `data on connection ${conn.id} while ${state.get(conn.id) ?? 'never opened'}`);
        check(bytes.length > 0, 'empty data delivery');
        counts[side].bytes += bytes.length;
        for (const b of bytes) {
          const prev = last[side];
          check(prev === null || b === ((prev + 31) & 0xff), `${side} byte ${delivered[side]} is ${b}, after ${prev} it must be ${((prev ?? 0) + 31) & 0xff}: bytes out of order, repeated or lost without a gap`);
          last[side] = b;
          delivered[side]++;
        }
      },
      gap(conn, side, length) {
        check(state.get(conn.id) === 'open', `gap on connection ${conn.id} while ${state.get(conn.id) ?? 'never opened'}`);
        check(length > 0, `gap of ${length} bytes`);
        counts[side].gaps++;
        counts[side].gapBytes += length;
        // The pattern restarts after a gap: a FIN inside the hole takes a sequence number that is no byte.
        last[side] = null;
      },
      close(conn) {
        check(state.get(conn.id) === 'open', `connection ${conn.id} closed while ${state.get(conn.id) ?? 'never opened'}`);
        state.set(conn.id, 'closed');
        for (const side of ['client', 'server'] as const) {
          const [got, want] = [JSON.stringify(conn.stats[side]), JSON.stringify(counts[side])];
          check(got === want, `connection ${conn.id} ${side}: the record counts ${got}, it delivered ${want}`);
        }
      },
    }, (w) => warnings.push(w), {
      // Every other script with room for a few held segments a direction, so that the cap on their number gives holes up.
      ports: new Set([143]), maxHeldBytes: MAX_HELD, maxHeldSegments: input.length % 2 === 0 ? 1 + (input.length % 7) : undefined,
    });
    for (const s of segments) tracker.segment(s);
    tracker.end();
    for (const side of ['client', 'server'] as const) {
      check(delivered[side] <= captured[side], `${side}: ${delivered[side]} bytes delivered, only ${captured[side]} captured`);
    }
    for (const [id, st] of state) check(st === 'closed', `connection ${id} never closed`);
    for (const line of warningLines(warnings)) checkPrintable(line, 'warning');
  },
};
