/**
 * Handshake messages out of the handshake content of one direction (plaintext or decrypted): a message
 * may span records and a record may hold several messages. Also the hello details decryption needs that
 * hello.ts does not report (HelloRetryRequest, encrypt_then_mac).
 */
import { parseClientHello, parseServerHello, type ClientHelloInfo, type ServerHelloInfo } from './hello.js';

export interface HandshakeMessage {
  type: number;
  /** Header (type + 24-bit length) and body. */
  raw: Buffer;
}

export const HS_HELLO_REQUEST = 0;
export const HS_CLIENT_HELLO = 1;
export const HS_SERVER_HELLO = 2;
export const HS_FINISHED = 20;
export const HS_KEY_UPDATE = 24;

/** Certificate chains are the largest messages in practice; anything far beyond is not a handshake. */
const MAX_MESSAGE_LENGTH = 1 << 20;

/** RFC 8446 §4.1.3: a ServerHello with this random is a HelloRetryRequest. */
const HELLO_RETRY_RANDOM = Buffer.from('cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c', 'hex');

const EXT_ENCRYPT_THEN_MAC = 22;
const EXT_EARLY_DATA = 42;

/**
 * The start of a message that is not complete yet, as the fragments it came in: joined once it is whole, not at every
 * fragment (a message of a megabyte in one-byte records was a megabyte copied a million times).
 */
interface Held {
  fragments: Buffer[];
  bytes: number;
}

export class HandshakeReader {
  /** Nothing between messages (every idle decrypted connection has two readers). */
  private held: Held | null = null;
  error: string | null = null;

  push(fragment: Buffer): HandshakeMessage[] {
    if (this.error) return [];
    let data = fragment;
    const held = this.held;
    if (held !== null) {
      held.fragments.push(Buffer.from(fragment));
      held.bytes += fragment.length;
      if (held.bytes < 4) return [];
      const length = lengthOf(held.fragments);
      if (length <= MAX_MESSAGE_LENGTH && held.bytes < 4 + length) return [];
      data = Buffer.concat(held.fragments);
    }
    const messages: HandshakeMessage[] = [];
    while (data.length >= 4) {
      const length = data.readUIntBE(1, 3);
      if (length > MAX_MESSAGE_LENGTH) {
        this.error = `handshake message of ${length} bytes`;
        data = Buffer.alloc(0);
        break;
      }
      if (data.length < 4 + length) break;
      messages.push({ type: data[0]!, raw: Buffer.from(data.subarray(0, 4 + length)) });
      data = data.subarray(4 + length);
    }
    this.held = data.length > 0 ? { fragments: [Buffer.from(data)], bytes: data.length } : null;
    return messages;
  }

  /** True while part of a message is held (a key change must not happen mid-message). */
  get partial(): boolean {
    return this.held !== null;
  }

  clear(): void {
    this.held = null;
  }
}

/** The body length a message's header announces (bytes 1 to 3), read across the fragments it came in. */
function lengthOf(fragments: Buffer[]): number {
  let length = 0;
  let at = 0;
  for (const f of fragments) {
    for (let i = 0; i < f.length && at < 4; i++, at++) if (at > 0) length = length * 256 + f[i]!;
    if (at === 4) break;
  }
  return length;
}

/** hello.ts parses records; wrap one message as the plaintext records it could have come in. */
function asRecords(message: Buffer): Buffer {
  const parts: Buffer[] = [];
  for (let at = 0; at < message.length; at += 16384) {
    const piece = message.subarray(at, at + 16384);
    parts.push(Buffer.from([22, 3, 3, piece.length >> 8, piece.length & 0xff]), piece);
  }
  return Buffer.concat(parts);
}

export interface ClientHelloDetails extends ClientHelloInfo {
  /** The client offered 0-RTT data (early_data extension). */
  earlyData: boolean;
}

export function clientHelloOf(message: HandshakeMessage): ClientHelloDetails | null {
  const info = parseClientHello(asRecords(message.raw));
  if (!info) return null;
  return { ...info, earlyData: extensionTypes(message.raw, true).has(EXT_EARLY_DATA) };
}

export interface ServerHelloDetails extends ServerHelloInfo {
  helloRetry: boolean;
  encryptThenMac: boolean;
}

export function serverHelloOf(message: HandshakeMessage): ServerHelloDetails | null {
  const info = parseServerHello(asRecords(message.raw));
  if (!info) return null;
  return { ...info, helloRetry: info.random.equals(HELLO_RETRY_RANDOM), encryptThenMac: extensionTypes(message.raw, false).has(EXT_ENCRYPT_THEN_MAC) };
}

/** Extension types of a hello whose shape hello.ts has already accepted; lengths are still checked. */
function extensionTypes(raw: Buffer, client: boolean): Set<number> {
  const types = new Set<number>();
  // header 4, version 2, random 32, session id (1 + n), then
  // ClientHello: suites (2 + n), compressions (1 + n); ServerHello: suite 2, compression 1; extensions (2 + n)
  let pos = 4 + 2 + 32;
  if (pos >= raw.length) return types;
  pos += 1 + raw[pos]!;
  if (client) {
    if (pos + 2 > raw.length) return types;
    pos += 2 + raw.readUInt16BE(pos);
    if (pos >= raw.length) return types;
    pos += 1 + raw[pos]!;
  } else {
    pos += 2 + 1;
  }
  if (pos + 2 > raw.length) return types;
  const end = Math.min(raw.length, pos + 2 + raw.readUInt16BE(pos));
  pos += 2;
  while (pos + 4 <= end) {
    types.add(raw.readUInt16BE(pos));
    pos += 4 + raw.readUInt16BE(pos + 2);
  }
  return types;
}
