import type { AddressKey, Segment } from '../decode/types.js';
import { parseIp } from '../filter/values.js';

/** Where the TCP header starts in the frame, found from the payload offset and the header's own length field. */
function tcpHeaderOffset(data: Buffer, seg: Segment, payloadAt: number): number | null {
  for (let hlen = 20; hlen <= 60; hlen += 4) {
    const at = payloadAt - hlen;
    if (at < 0) break;
    if ((data[at + 12]! >> 4) * 4 === hlen && data.readUInt16BE(at) === seg.srcPort && data.readUInt16BE(at + 2) === seg.dstPort && data.readUInt32BE(at + 4) === seg.seq) return at;
  }
  return null;
}

function addressBytes(address: AddressKey): Buffer {
  if (typeof address === 'number') {
    const b = Buffer.alloc(4);
    b.writeInt32BE(address);
    return b;
  }
  const ip = parseIp(address)!;
  const b = Buffer.alloc(ip.v6 ? 16 : 4);
  let v = ip.value;
  for (let i = b.length - 1; i >= 0; i--) {
    b[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return b;
}

function sum16(b: Buffer, acc: number): number {
  let s = acc;
  for (let i = 0; i + 1 < b.length; i += 2) s += b.readUInt16BE(i);
  if (b.length & 1) s += b[b.length - 1]! << 8;
  return s;
}

/**
 * Recompute the TCP checksum of a frame whose payload was changed in place (IP headers are unchanged,
 * so their checksums stay as they were). `payloadAt` is the payload's offset in `data`. Returns false
 * when it cannot (the snaplen cut the segment, or the header was not found).
 */
export function fixTcpChecksum(data: Buffer, seg: Segment, payloadAt: number): boolean {
  if (seg.missingPayload > 0) return false;
  const at = tcpHeaderOffset(data, seg, payloadAt);
  if (at === null) return false;
  const tcpLength = payloadAt + seg.payload.length - at;
  const src = addressBytes(seg.src);
  const dst = addressBytes(seg.dst);
  const pseudo = Buffer.alloc(src.length === 4 ? 12 : 40);
  src.copy(pseudo, 0);
  dst.copy(pseudo, src.length);
  if (src.length === 4) {
    pseudo[9] = 6;
    pseudo.writeUInt16BE(tcpLength, 10);
  } else {
    pseudo.writeUInt32BE(tcpLength, 32);
    pseudo[39] = 6;
  }
  data.writeUInt16BE(0, at + 16);
  let s = sum16(data.subarray(at, at + tcpLength), sum16(pseudo, 0));
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  data.writeUInt16BE(~s & 0xffff, at + 16);
  return true;
}
