import type { Frame } from '../capture/types.js';

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;

/** One TCP segment, decoded from a frame. Buffers point into the frame's data: valid only during the callback. */
export interface Segment {
  frame: Frame;
  /** Source and destination addresses in text form (dotted IPv4 or RFC 5952 IPv6). */
  src: string;
  dst: string;
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  flags: number;
  window: number;
  payload: Buffer;
  /** Payload bytes that were on the wire but cut off by the snaplen. */
  missingPayload: number;
  /** A TCP header quoted inside an ICMP error: it names a conversation but carries no data of it. */
  quoted?: boolean;
}
