import type { Frame } from '../capture/types.js';

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;

/**
 * An address as a segment carries it: IPv4 as its 32 bits in a signed integer (a small integer to the engine: no string
 * per packet, no allocation, and a cheap key), IPv6 as its RFC 5952 text. addressText() gives the text of either.
 */
export type AddressKey = number | string;

/** One TCP segment, decoded from a frame. Buffers point into the frame's data: valid only during the callback. */
export interface Segment {
  frame: Frame;
  /** Source and destination addresses as keys: their text comes from addressText() (see AddressKey). */
  src: AddressKey;
  dst: AddressKey;
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
