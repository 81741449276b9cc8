import type { Side, TimePoint } from '../tcp/types.js';
import { TlsDecryptor, type RestingDecryptor, type TlsDecryptorOutput } from '../tls/decryptor.js';
import { helloStillPossible, parseClientHello, parseServerHello } from '../tls/hello.js';
import type { KeyLog } from '../tls/keylog.js';
import { RawInflater } from './inflate.js';
import type { ImapConnection } from './model.js';

/** The connection's side of the transport: its record, its keys, and where IMAP octets and events go. */
export interface TransportOutput {
  /** The record TLS and COMPRESS facts are written to. */
  readonly info: ImapConnection;
  /** Key log for TLS decryption (may gain secrets while the capture is read). */
  readonly keys: KeyLog | null;
  /** IMAP octets of one side. Returns how many were consumed: fewer when the protocol switched after a message. */
  imap(side: Side, bytes: Buffer, frame: number, time: TimePoint): number;
  /** Octets of plaintext IMAP that the capture lost. */
  imapGap(side: Side, length: number, frame: number, time: TimePoint): void;
  marker(side: Side | null, frame: number, text: string): void;
  /** A problem on this connection (the receiver names the connection). */
  warn(frame: number, message: string): void;
}

type Mode = 'imap' | 'tls' | 'undecodable';

/** How much of a TLS direction we keep looking at for its hello. */
const TLS_SNIFF_BYTES = 16 * 1024;

/** The first bytes of a TLS direction, kept until its hello parses (or TLS_SNIFF_BYTES went by). */
interface HelloSniff {
  chunks: Buffer[];
  length: number;
}

/** A TLS connection's state, made when TLS starts. */
interface TlsState {
  decryptor: TlsDecryptor | null;
  /** The start of each TLS direction, until both hellos have been read (from the switch to TLS on); then null. */
  hellos: Record<Side, HelloSniff> | null;
  /** Time of the segment being decrypted, for the plaintext that comes out of it; null between segments. */
  now: TimePoint | null;
}

/** The transcript's line for octets the capture lost. */
function missingText(length: number): string {
  return `${length} bytes missing from the capture`;
}

/** Plain IMAP octets of one side that the capture lost: said in the transcript, then handed to the framer. */
export function plainGap(out: TransportOutput, side: Side, length: number, frame: number, time: TimePoint): void {
  out.marker(side, frame, missingText(length));
  out.imapGap(side, length, frame, time);
}

/**
 * What lies between one connection's TCP byte streams and its IMAP framers: TLS (from the first byte or
 * after STARTTLS; sniffed for its hello, or decrypted with a key log) and COMPRESS=DEFLATE, including
 * the switch in the middle of a segment. The session decides when to switch, and makes one of these then
 * (a plain connection, most of them, has none); this class carries the switch out.
 */
export class ConnectionTransport implements TlsDecryptorOutput {
  private mode: Mode = 'imap';
  /** Both directions' inflaters once COMPRESS is on; state a plain connection never needs is not allocated. */
  private inflaters: Record<Side, RawInflater> | null = null;
  private tlsState: TlsState | null = null;

  constructor(private readonly out: TransportOutput) {}

  /**
   * A TLS connection's transport that rested (ConnectionTransport.rest), as it was: with the decryptor that rested as
   * `decryptor`, or none.
   */
  static woken(out: TransportOutput, decryptor: RestingDecryptor | null): ConnectionTransport {
    const transport = new ConnectionTransport(out);
    transport.mode = 'tls';
    // A resting decryptor was made with the key log, which a capture's sessions share.
    transport.tlsState = { decryptor: decryptor && new TlsDecryptor(out.keys!, transport, decryptor), hellos: null, now: null };
    return transport;
  }

  /**
   * This transport at rest (ImapSession.rest), if it can rest: TLS with both hellos read, not compressed. Then what its
   * decryptor keeps (its `rest`), or null without a decryptor (no key log: nothing is decrypted). Undefined otherwise:
   * it stays as it is.
   */
  rest(): RestingDecryptor | null | undefined {
    const tls = this.tlsState;
    // TLS state is made at the switch to TLS; a transport in any other mode has inflaters (COMPRESS, or its failure).
    if (this.inflaters !== null || tls === null || tls.hellos !== null) return undefined;
    if (tls.decryptor === null) return null;
    return tls.decryptor.rest() ?? undefined;
  }

  private get info(): ImapConnection {
    return this.out.info;
  }

  /** True while there is IMAP to dissect: in the clear, or decrypted. */
  get dissecting(): boolean {
    return this.mode === 'imap' || (this.mode === 'tls' && this.info.tls?.decrypted === true);
  }

  /** Bytes off the wire, in order. */
  data(side: Side, bytes: Buffer, frame: number, time: TimePoint): void {
    const tls = this.tlsState;
    if (this.mode === 'tls' && tls) {
      if (tls.hellos) this.sniff(tls, tls.hellos, side, bytes);
      if (tls.decryptor) {
        tls.now = time;
        tls.decryptor.push(side, bytes, frame);
        tls.now = null; // not held by an idle connection
      }
      return;
    }
    this.plain(side, bytes, frame, time);
  }

  gap(side: Side, length: number, frame: number, time: TimePoint): void {
    if (this.mode === 'undecodable') return;
    if (this.mode === 'imap' && !this.inflaters) return plainGap(this.out, side, length, frame, time);
    this.out.marker(side, frame, missingText(length));
    if (this.mode === 'tls') {
      this.tlsState?.decryptor?.gap(side, length, frame);
      return;
    }
    // A deflate stream cannot continue past missing bytes: the rest of this direction is lost.
    this.compressionFailed(side, frame, `${length} compressed bytes missing`);
  }

  /** The connection ended: a TLS record cut short is reported, and why nothing was decrypted. */
  end(frame: number): void {
    const decryptor = this.tlsState?.decryptor;
    if (!decryptor) return;
    decryptor.end(frame);
    const tls = this.info.tls;
    if (tls && !tls.decrypted) tls.decryptionNote = decryptor.state.reason ?? 'no application data was decrypted';
  }

  startTls(how: 'implicit' | 'starttls', frame: number): void {
    this.mode = 'tls';
    this.info.tls = { how, frame, version: null, sni: null, cipher: null, decrypted: false, decryptionNote: null, injectedBeforeTls: false };
    const state = (this.tlsState ??= { decryptor: null, hellos: null, now: null });
    state.hellos = { client: { chunks: [], length: 0 }, server: { chunks: [], length: 0 } };
    this.out.marker(null, frame, how === 'starttls' ? 'STARTTLS accepted: the rest of the connection is TLS' : 'the connection is TLS from its first byte');
    const keys = this.out.keys;
    // The transport is its decryptor's output itself: no closures per connection.
    if (keys && keys.size > 0) state.decryptor = new TlsDecryptor(keys, this);
  }

  startCompression(frame: number): void {
    this.info.compress = { frame };
    this.inflaters = { client: new RawInflater(), server: new RawInflater() };
    this.out.marker(null, frame, 'COMPRESS=DEFLATE active: both directions are inflated from here on');
  }

  /** IMAP octets (off the wire, or out of TLS): inflate if COMPRESS is on, then frame. */
  private plain(side: Side, bytes: Buffer, frame: number, time: TimePoint): void {
    if (this.mode === 'undecodable') {
      this.info.undecoded += bytes.length;
      return;
    }
    const inflater = this.inflaters?.[side];
    if (inflater) {
      const inflated = inflater.push(bytes);
      if (!inflated) return this.compressionFailed(side, frame, inflater.failed!);
      bytes = inflated;
    }
    const modeBefore = this.mode;
    const used = this.out.imap(side, bytes, frame, time);
    if (used >= bytes.length) return;
    // A message switched the protocol: the rest is TLS (back to the wire layer) or compressed.
    const rest = bytes.subarray(used);
    if (this.mode !== modeBefore) this.data(side, rest, frame, time);
    else if (this.inflaters?.[side] !== inflater) this.plain(side, rest, frame, time);
  }

  /** Application data out of TLS (TlsDecryptorOutput): the same IMAP dissection as in the clear. */
  plaintext(side: Side, bytes: Buffer, frame: number): void {
    const tls = this.info.tls!;
    const transport = this.tlsState!;
    if (!tls.decrypted) {
      tls.decrypted = true;
      const state = transport.decryptor!.state;
      tls.version = state.version ?? tls.version;
      tls.cipher = state.cipher ?? tls.cipher;
      this.out.marker(null, frame, `TLS decrypted with the key log (${tls.version ?? '?'}, ${tls.cipher ?? '?'})`);
    }
    this.plain(side, bytes, frame, transport.now ?? this.info.conn.end);
  }

  /** A problem in the TLS layer (TlsDecryptorOutput). */
  warn(frame: number, message: string): void {
    this.out.warn(frame, `TLS: ${message}`);
  }

  /** Version, cipher and SNI from the hellos, whether or not there are keys. */
  private sniff(state: TlsState, hellos: Record<Side, HelloSniff>, side: Side, bytes: Buffer): void {
    const hello = hellos[side];
    if (hello.length >= TLS_SNIFF_BYTES) return;
    hello.chunks.push(Buffer.from(bytes.subarray(0, TLS_SNIFF_BYTES - hello.length)));
    hello.length += bytes.length;
    const seen = Buffer.concat(hello.chunks);
    const read = side === 'client' ? this.clientHelloRead(seen) : this.serverHelloRead(seen);
    // Read, or not to be read (a capture that began mid-connection starts with application data): the side is done
    // with, and what was kept of it goes (it stayed, up to 16 KiB a side, for as long as the connection was open).
    if (!read && hello.length < TLS_SNIFF_BYTES && helloStillPossible(seen, side)) return;
    hello.length = TLS_SNIFF_BYTES;
    hello.chunks = [];
    if (hellos.client.length >= TLS_SNIFF_BYTES && hellos.server.length >= TLS_SNIFF_BYTES) state.hellos = null;
  }

  private clientHelloRead(seen: Buffer): boolean {
    const client = parseClientHello(seen);
    if (!client) return false;
    const tls = this.info.tls!;
    tls.sni = client.sni;
    tls.version ??= client.supportedVersions[0] ?? client.legacyVersion;
    return true;
  }

  private serverHelloRead(seen: Buffer): boolean {
    const server = parseServerHello(seen);
    if (!server) return false;
    const tls = this.info.tls!;
    tls.version = server.version;
    tls.cipher = server.cipherName ?? `0x${server.cipherSuite.toString(16).padStart(4, '0')}`;
    return true;
  }

  private compressionFailed(side: Side, frame: number, why: string): void {
    this.out.warn(frame, `cannot inflate the ${side} side after COMPRESS (${why}); the rest of the connection is not dissected`);
    this.mode = 'undecodable';
  }
}
