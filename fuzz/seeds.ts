import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ChunkedParser } from '../src/capture/chunked.js';
import { FrameBuilder } from '../src/capture/frame-builder.js';
import { PcapParser, pcapMagic } from '../src/capture/pcap.js';
import { PcapngParser, isPcapng } from '../src/capture/pcapng.js';
import { emptyInfo } from '../src/capture/reader.js';
import type { CaptureInfo, Frame, FrameSink, WarningSink } from '../src/capture/types.js';
import { PacketDecoder } from '../src/decode/decoder.js';
import { DEFAULT_PORTS, TcpTracker } from '../src/tcp/tracker.js';
import type { Side } from '../src/tcp/types.js';
import { CAPTURES } from './paths.js';

/** The project's own recordings (captures/): real clients against a real Dovecot. */
export function recordedCaptures(): { name: string; bytes: Buffer }[] {
  return readdirSync(CAPTURES).filter((f) => /\.pcap(ng)?$/.test(f)).sort().map((name) => ({ name, bytes: readFileSync(join(CAPTURES, name)) }));
}

/** The parser a capture's magic asks for, or null when it is neither pcap nor pcapng. */
export function parserFor(head: Buffer, onFrame: FrameSink, warn: WarningSink, info: CaptureInfo = emptyInfo('fuzz')): ChunkedParser | null {
  const frames = new FrameBuilder(info);
  if (pcapMagic(head)) return new PcapParser(frames, onFrame, warn, info);
  if (isPcapng(head)) return new PcapngParser(frames, onFrame, warn, info, () => {});
  return null;
}

/** Every frame of a capture held in memory (copied: frames are only valid during the callback). */
export function framesOf(capture: Buffer): { linkType: number; data: Buffer }[] {
  const out: { linkType: number; data: Buffer }[] = [];
  const parser = parserFor(capture, (f: Frame) => out.push({ linkType: f.linkType, data: Buffer.from(f.data) }), () => {});
  parser?.push(capture);
  parser?.end();
  return out;
}

export interface Conversation {
  /** Reassembled bytes in the order they were delivered, each with its direction. */
  chunks: { side: Side; bytes: Buffer }[];
}

/** The IMAP conversations of a capture, reassembled, synchronously. */
export function conversationsOf(capture: Buffer): Conversation[] {
  const byId = new Map<number, Conversation>();
  const tracker = new TcpTracker({
    open: (c) => { byId.set(c.id, { chunks: [] }); },
    data: (c, side, bytes) => { byId.get(c.id)?.chunks.push({ side, bytes: Buffer.from(bytes) }); },
    gap: () => {},
    close: () => {},
  }, () => {}, { ports: new Set(DEFAULT_PORTS), maxHeldBytes: 4 * 1024 * 1024 });
  const decoder = new PacketDecoder(() => {});
  const parser = parserFor(capture, (f) => {
    const seg = decoder.decode(f);
    if (seg) tracker.segment(seg);
  }, () => {});
  parser?.push(capture);
  parser?.end();
  tracker.end();
  return [...byId.values()];
}

/** One direction of every recorded conversation, whole. */
export function recordedStreams(side: Side): Buffer[] {
  return recordedCaptures().flatMap((c) => conversationsOf(c.bytes))
    .map((conv) => Buffer.concat(conv.chunks.filter((ch) => ch.side === side).map((ch) => ch.bytes)))
    .filter((b) => b.length > 0);
}

/** IMAP keywords and delimiters for the mutator. */
export const IMAP_DICTIONARY: readonly Buffer[] = [
  'a1 ', '* ', '+ ', 'OK', 'NO', 'BAD', 'BYE', 'PREAUTH', 'LOGIN', 'AUTHENTICATE', 'SELECT', 'FETCH', 'UID', 'STORE',
  'APPEND', 'IDLE', 'DONE', 'STARTTLS', 'COMPRESS DEFLATE', 'LOGOUT', 'CAPABILITY', 'LIST', 'STATUS', 'SEARCH',
  'ENVELOPE', 'BODYSTRUCTURE', 'BODY[', 'BODY.PEEK[', 'BINARY[', ']', 'RFC822.SIZE', 'FLAGS', 'INTERNALDATE', 'NIL',
  '{0}\r\n', '{5}\r\n', '{4294967295}\r\n', '{99999999999999999999}\r\n', '{3+}\r\n', '{3-}\r\n', '~{4}\r\n',
  '"', '\\"', '()', '((', '))', '[', '<0.10>', '\r\n', '\n', ' ', 'EXISTS', 'EXPUNGE', 'RECENT', '[UIDVALIDITY 1]',
  '"TEXT" "PLAIN"', '"MULTIPART" "MIXED"', '"MESSAGE" "RFC822"', '("CHARSET" "UTF-8")', '"BASE64"', '&AOQ-', '&-',
].map((t) => Buffer.from(t, 'latin1'));
