/**
 * Decrypts one TLS connection with secrets from a key log: fed the two reassembled directions, it hands
 * on the application data each side sent, in order. It follows the handshake only as far as decryption
 * needs (hellos, ChangeCipherSpec, Finished, KeyUpdate) and never verifies anything but record integrity.
 * Anything it cannot decrypt it reports once per direction and then leaves alone: it never guesses.
 */
import type { Side } from '../tcp/types.js';
import {
  HandshakeReader,
  HS_CLIENT_HELLO,
  HS_FINISHED,
  HS_KEY_UPDATE,
  HS_SERVER_HELLO,
  clientHelloOf,
  serverHelloOf,
  type ClientHelloDetails,
  type HandshakeMessage,
  type ServerHelloDetails,
} from './handshake-reader.js';
import type { KeyLog, TlsSecrets } from './keylog.js';
import { RecordReader, type TlsRecord } from './record-reader.js';
import { tls12Suite, tls13Suite } from './suites.js';
import { Tls12Protection, tls12Protections } from './tls12.js';
import { Tls13Protection, type OpenedRecord } from './tls13.js';
import { keyBytes } from '../util/bytes.js';

export interface TlsDecryptorOutput {
  /** Application data (content type 23) in order; `bytes` belongs to the receiver. */
  plaintext(side: Side, bytes: Buffer, frame: number): void;
  warn(frame: number, message: string): void;
}

export interface TlsDecryptorState {
  /** Negotiated version as hello.ts names it ("TLS 1.2", "TLS 1.3"), once the ServerHello is seen. */
  readonly version: string | null;
  readonly cipher: string | null;
  readonly sni: string | null;
  /** Random of the latest ClientHello (a renegotiation brings a new one), in lower-case hex: the key log lookup key. */
  readonly clientRandom: string | null;
  /** Keys for the current handshake are known and at least one direction is still being decrypted. */
  readonly decrypting: boolean;
  /** Why not (or no longer) decrypting: missing keys, unsupported cipher, MAC failure, gap, …; null if fine. */
  readonly reason: string | null;
}

const CONTENT_CHANGE_CIPHER_SPEC = 20;
const CONTENT_ALERT = 21;
const CONTENT_HANDSHAKE = 22;
const CONTENT_APPLICATION_DATA = 23;

/** Records one direction may hold back while waiting for the other side's hello. */
const MAX_WAITING_BYTES = 256 * 1024;
/** TLS 1.3 trial decryption: the handshake flight is a few records; past this the key is wrong. */
const MAX_TRIAL_FAILURES = 16;

const LABEL: Record<Side, string> = { client: 'client→server', server: 'server→client' };

/** No records waiting: one shared empty list (each direction of every open connection had its own). */
const NO_RECORDS: TlsRecord[] = Object.freeze([]) as never[];

/**
 * What is kept of a hello for the rest of the connection: what the keys and the handshake's later steps need. Not the
 * parsed message (its lists of suites and versions), and the random as hex text: a view of the message pinned the
 * 8 KiB pool slab it was cut from, and a copy of its own cost a Buffer and an ArrayBuffer (see keyText).
 */
interface KeptClientHello {
  random: string;
  earlyData: boolean;
}

interface KeptServerHello {
  version: string;
  cipherSuite: number;
  /** Until the handshake's keys are set up (install): a connection that goes on needs it no more. */
  random: string | null;
  encryptThenMac: boolean;
}

/** Read state of one direction. */
class Direction {
  readonly records = new RecordReader();
  readonly handshake = new HandshakeReader();
  /** Current read protection; both null while records are plaintext (or undecryptable). */
  tls12: Tls12Protection | null = null;
  tls13: Tls13Protection | null = null;
  /** TLS 1.2: what the next ChangeCipherSpec of this side switches to. */
  pending12: Tls12Protection | null = null;
  /** TLS 1.3: the application traffic key, used after this side's Finished (or found by trial). */
  application13: Tls13Protection | null = null;
  /** TLS 1.3 phase of this side: handshake keys until its Finished. */
  phase: 'handshake' | 'application' = 'handshake';
  /** TLS 1.3 with application secrets only: try each record until one opens. */
  trial = false;
  trialFailures = 0;
  /** A record opened with the current key: a record that does not is corrupt, not the wrong key or early data. */
  opened = false;
  /** A record of this direction was seen: its first one was a handshake record, as a hello is. */
  began = false;
  stopped = false;
  /** Records held, in order, until the other direction has sent what they need. */
  waiting: TlsRecord[] = NO_RECORDS;
  waitingBytes = 0;
  constructor(readonly side: Side) {}
}

type WritableState = { -readonly [K in keyof TlsDecryptorState]: TlsDecryptorState[K] };

/** What a direction at rest says of itself (in RestingDecryptor.flags): four bits each, the server's above. */
const BEGAN = 1;
const STOPPED = 2;
const OPENED = 4;
const APPLICATION_PHASE = 8;
const SERVER_SHIFT = 4;
const TLS13 = 1 << 8;
/** The hellos of the current handshake: which were read, and their flags. */
const CLIENT_HELLO = 1 << 9;
const EARLY_DATA = 1 << 10;
const SERVER_HELLO = 1 << 11;
const ENCRYPT_THEN_MAC = 1 << 12;

/**
 * A decryptor between records (TlsDecryptor.rest): what it needs to go on, in one object. Each direction is its
 * protection and four bits; its record and handshake readers, its held records and the keys of a handshake under way
 * are all empty when it may rest. The hellos are bits and what the state does not say already (the ServerHello's
 * suite and, until the keys are set up, its random): as two objects they cost 94 bytes. Everything else is kept as it
 * was.
 */
export class RestingDecryptor {
  constructor(
    readonly st: WritableState,
    readonly serverCipherSuite: number,
    readonly serverRandom: string | null,
    readonly keyFailure: string | null,
    readonly warned: string | Set<string> | null,
    /** TLS13, the hellos' bits, and each direction's. */
    readonly flags: number,
    readonly client: Tls12Protection | Tls13Protection | null,
    readonly server: Tls12Protection | Tls13Protection | null,
  ) {}
}

/** A direction's protection while it may rest: its current one, or none; undefined if it holds anything more. */
function restingProtection(d: Direction): Tls12Protection | Tls13Protection | null | undefined {
  if (d.records.pending > 0 || d.handshake.partial || d.waiting.length > 0) return undefined;
  // (A trial's key is its application13 until a record opens with it.)
  if (d.pending12 !== null || d.application13 !== null) return undefined;
  return d.tls12 ?? d.tls13;
}

function directionBits(d: Direction): number {
  return (d.began ? BEGAN : 0) | (d.stopped ? STOPPED : 0) | (d.opened ? OPENED : 0) | (d.phase === 'application' ? APPLICATION_PHASE : 0);
}

function wakeDirection(d: Direction, bits: number, protection: Tls12Protection | Tls13Protection | null): void {
  d.began = (bits & BEGAN) !== 0;
  d.stopped = (bits & STOPPED) !== 0;
  d.opened = (bits & OPENED) !== 0;
  d.phase = (bits & APPLICATION_PHASE) !== 0 ? 'application' : 'handshake';
  if (protection instanceof Tls12Protection) d.tls12 = protection;
  else d.tls13 = protection;
}

export class TlsDecryptor {
  private readonly client = new Direction('client');
  private readonly server = new Direction('server');
  private readonly st: WritableState;
  /** Hellos of the current handshake; a ClientHello after a complete one starts a renegotiation. */
  private clientHello: KeptClientHello | null = null;
  private serverHello: KeptServerHello | null = null;
  private tls13 = false;
  /** Why the current handshake's keys could not be set up (reported when a direction needs them). */
  private keyFailure: string | null = null;
  /**
   * Reasons already warned about, so one cause yields one warning per connection: the first as itself, a set from the
   * second on (a connection the capture joined midway has one, and many such may be open).
   */
  private warned: string | Set<string> | null = null;

  /** `resting`: what a decryptor put to rest kept (TlsDecryptor.rest); this one goes on from there. */
  constructor(private readonly keys: KeyLog, private readonly out: TlsDecryptorOutput, resting?: RestingDecryptor) {
    if (resting === undefined) {
      this.st = { version: null, cipher: null, sni: null, clientRandom: null, decrypting: false, reason: null };
      return;
    }
    this.st = resting.st;
    const flags = resting.flags;
    if (flags & CLIENT_HELLO) this.clientHello = { random: resting.st.clientRandom!, earlyData: (flags & EARLY_DATA) !== 0 };
    if (flags & SERVER_HELLO) {
      this.serverHello = { version: resting.st.version!, cipherSuite: resting.serverCipherSuite, random: resting.serverRandom, encryptThenMac: (flags & ENCRYPT_THEN_MAC) !== 0 };
    }
    this.keyFailure = resting.keyFailure;
    this.warned = resting.warned;
    this.tls13 = (resting.flags & TLS13) !== 0;
    wakeDirection(this.client, resting.flags, resting.client);
    wakeDirection(this.server, resting.flags >> SERVER_SHIFT, resting.server);
  }

  /**
   * This decryptor at rest, if it can rest: neither direction holds part of a record or handshake message, records
   * waiting for a hello, or the keys of a handshake under way. Otherwise null, and it stays as it is.
   */
  rest(): RestingDecryptor | null {
    const client = restingProtection(this.client);
    const server = restingProtection(this.server);
    if (client === undefined || server === undefined) return null;
    const ch = this.clientHello;
    const sh = this.serverHello;
    // The state names the current hellos' random and version (they are set together): woken, it gives them back.
    if ((ch && ch.random !== this.st.clientRandom) || (sh && sh.version !== this.st.version)) return null;
    const hellos = (ch ? CLIENT_HELLO | (ch.earlyData ? EARLY_DATA : 0) : 0) | (sh ? SERVER_HELLO | (sh.encryptThenMac ? ENCRYPT_THEN_MAC : 0) : 0);
    const flags = (this.tls13 ? TLS13 : 0) | hellos | directionBits(this.client) | (directionBits(this.server) << SERVER_SHIFT);
    return new RestingDecryptor(this.st, sh?.cipherSuite ?? 0, sh?.random ?? null, this.keyFailure, this.warned, flags, client, server);
  }

  get state(): TlsDecryptorState {
    return this.st;
  }

  /** In-order bytes of one direction; only valid during the call (records copy what they keep). */
  push(side: Side, bytes: Buffer, frame: number): void {
    const d = this.direction(side);
    if (d.stopped) return;
    const records = d.records.push(bytes, frame);
    for (const record of records) this.accept(d, record);
    if (d.records.error && !d.stopped) this.stop(d, d.records.error, frame);
  }

  /** `length` bytes of one direction are missing: its records can no longer be framed or decrypted. */
  gap(side: Side, length: number, frame: number): void {
    const d = this.direction(side);
    if (d.stopped) return;
    this.stop(d, `${length} bytes missing from the TCP stream`, frame);
  }

  /**
   * End of the connection: what is still held is reported (a record cut short, records that waited in
   * vain for the other side's hello, a trial decryption that never found its key).
   */
  end(frame: number): void {
    for (const d of [this.client, this.server]) {
      if (d.stopped) continue;
      if (d.records.pending > 0) this.stop(d, `truncated record at the end (${d.records.pending} bytes of an incomplete record)`, frame);
      else if (d.waiting.length > 0) this.stop(d, `encrypted records without a complete handshake (${this.missingHello()})`, frame);
      else if (d.trial && d.trialFailures > 0) this.stop(d, `no record opened with the ${d.side} application traffic secret (wrong key log?)`, frame);
    }
  }

  private direction(side: Side): Direction {
    return side === 'client' ? this.client : this.server;
  }

  /** Process a record now, or hold it while it needs the other side's hello. */
  private accept(d: Direction, record: TlsRecord): void {
    if (!d.began) {
      d.began = true;
      if (record.type !== CONTENT_HANDSHAKE) return this.joinedMidway(d, record);
    }
    if (d.waiting.length > 0 || this.mustWait(d, record)) {
      if (d.waiting === NO_RECORDS) d.waiting = [record];
      else d.waiting.push(record);
      d.waitingBytes += record.body.length;
      if (d.waitingBytes > MAX_WAITING_BYTES) this.stop(d, `encrypted records without a complete handshake (${this.missingHello()})`, record.frame);
      return;
    }
    this.process(d, record);
    this.release();
  }

  /**
   * Protected records and ChangeCipherSpec need both hellos of the current handshake (the client random
   * finds the secrets, the ServerHello names version and suite). The two directions are fed separately,
   * so one may run ahead of the other.
   */
  private mustWait(d: Direction, record: TlsRecord): boolean {
    if (this.clientHello && this.serverHello) return false;
    // A server's CCS before its own ServerHello is TLS 1.3's compatibility CCS after a HelloRetryRequest.
    if (record.type === CONTENT_CHANGE_CIPHER_SPEC) return d === this.client || this.serverHello !== null;
    return record.type === CONTENT_APPLICATION_DATA && !d.tls12 && !d.tls13 && !d.trial;
  }

  /** Process held records whose wait is over, in both directions, until nothing moves. */
  private release(): void {
    for (let moved = true; moved;) {
      moved = false;
      for (const d of [this.client, this.server]) {
        while (!d.stopped && d.waiting.length > 0 && !this.mustWait(d, d.waiting[0]!)) {
          const record = d.waiting.shift()!;
          if (d.waiting.length === 0) d.waiting = NO_RECORDS;
          d.waitingBytes -= record.body.length;
          this.process(d, record);
          moved = true;
        }
      }
    }
  }

  /**
   * Each side's first record holds its hello; this side's does not, so the capture began after the handshake. No key will
   * be found for either side, and nothing is held waiting for one (an idle connection kept its records): one warning,
   * and both sides stop.
   */
  private joinedMidway(d: Direction, record: TlsRecord): void {
    const reason = `the capture began after the handshake (the ${d.side}'s first record is not its hello)`;
    this.note(record.frame, `TLS not decrypted: ${reason}`, reason);
    this.stop(this.client, reason, record.frame);
    this.stop(this.server, reason, record.frame);
  }

  private missingHello(): string {
    return this.clientHello ? 'no ServerHello' : 'no ClientHello';
  }

  private process(d: Direction, record: TlsRecord): void {
    if (d.stopped) return;
    if (this.tls13) this.process13(d, record);
    else this.process12(d, record);
  }

  // ---- TLS 1.2 and the plaintext start of every connection ----

  private process12(d: Direction, record: TlsRecord): void {
    let content = record.body;
    if (d.tls12) {
      const plain = d.tls12.open(record);
      if (!plain) return this.stop(d, this.macFailure(d, record), record.frame);
      d.opened = true;
      content = plain;
    }
    switch (record.type) {
      case CONTENT_CHANGE_CIPHER_SPEC:
        return this.changeCipherSpec(d, record.frame);
      case CONTENT_HANDSHAKE:
        return this.handshakeContent(d, content, record.frame);
      case CONTENT_APPLICATION_DATA:
        // Application data before any ChangeCipherSpec cannot be real; it is not handed on.
        if (d.tls12) this.out.plaintext(d.side, content, record.frame);
        return;
      default:
        return; // alerts and heartbeats carry no IMAP
    }
  }

  private changeCipherSpec(d: Direction, frame: number): void {
    if (!this.serverHello) return; // compatibility CCS after a HelloRetryRequest (see mustWait)
    if (!d.pending12) {
      return this.stop(d, this.keyFailure ?? 'ChangeCipherSpec without usable keys for this handshake', frame);
    }
    d.tls12 = d.pending12;
    d.pending12 = null;
    d.opened = false;
    d.handshake.clear();
  }

  // ---- TLS 1.3 ----

  private process13(d: Direction, record: TlsRecord): void {
    switch (record.type) {
      case CONTENT_APPLICATION_DATA:
        return this.protected13(d, record);
      case CONTENT_HANDSHAKE:
        // Plaintext handshake records only before encryption: ClientHello after HelloRetryRequest, hellos.
        return this.handshakeContent(d, record.body, record.frame);
      default:
        return; // middlebox-compatibility ChangeCipherSpec and plaintext alerts carry nothing
    }
  }

  private protected13(d: Direction, record: TlsRecord): void {
    let opened: OpenedRecord | null = null;
    if (d.trial) {
      opened = d.application13!.open(record);
      if (!opened) {
        // Most likely a handshake record, protected with a key we do not have.
        if (++d.trialFailures > MAX_TRIAL_FAILURES) {
          this.stop(d, `no record opened with the ${d.side} application traffic secret (wrong key log?)`, record.frame);
        }
        return;
      }
      d.trial = false;
      this.switch13(d, d.application13!);
    } else if (d.tls13) {
      opened = d.tls13.open(record);
      if (!opened) {
        if (this.isEarlyData(d)) {
          // 0-RTT data is protected with the early traffic secret, which we do not use: skip it.
          this.note(record.frame, `${LABEL[d.side]}: 0-RTT early data is not decrypted`); // once: notes are not repeated
          return;
        }
        return this.stop(d, this.macFailure(d, record), record.frame);
      }
    } else {
      return; // no key for this direction: already reported
    }
    d.opened = true;
    this.inner13(d, opened, record.frame);
  }

  private switch13(d: Direction, protection: Tls13Protection): void {
    d.tls13 = protection;
    d.application13 = null;
    d.phase = 'application';
    d.opened = false;
  }

  /** Before the first client record opened with the handshake key, failures may be early data. */
  private isEarlyData(d: Direction): boolean {
    return d.side === 'client' && d.phase === 'handshake' && !d.opened && this.clientHello?.earlyData === true;
  }

  private inner13(d: Direction, opened: OpenedRecord, frame: number): void {
    switch (opened.type) {
      case CONTENT_APPLICATION_DATA:
        if (d.phase === 'application') this.out.plaintext(d.side, opened.content, frame);
        return;
      case CONTENT_HANDSHAKE:
        return this.handshakeContent(d, opened.content, frame);
      case CONTENT_ALERT:
        return;
      default:
        return this.stop(d, `record with inner content type ${opened.type}`, frame);
    }
  }

  // ---- handshake messages, both versions ----

  private handshakeContent(d: Direction, content: Buffer, frame: number): void {
    for (const message of d.handshake.push(content)) {
      this.handshakeMessage(d, message, frame);
      if (d.stopped) return;
    }
    if (d.handshake.error) this.stop(d, d.handshake.error, frame);
  }

  private handshakeMessage(d: Direction, message: HandshakeMessage, frame: number): void {
    if (message.type === HS_CLIENT_HELLO && d.side === 'client') {
      const hello = clientHelloOf(message);
      if (hello) this.onClientHello(hello, frame);
    } else if (message.type === HS_SERVER_HELLO && d.side === 'server') {
      const hello = serverHelloOf(message);
      if (hello) this.onServerHello(hello, frame);
    } else if (this.tls13 && (d.tls13 || d.trial)) {
      this.postHello13(d, message, frame);
    }
  }

  /** TLS 1.3 key changes announced by handshake messages (RFC 8446 §4.4.4, §4.6.3). */
  private postHello13(d: Direction, message: HandshakeMessage, frame: number): void {
    if (message.type === HS_FINISHED && d.phase === 'handshake' && !d.trial) {
      if (!d.application13) {
        return this.stop(d, `no ${d.side.toUpperCase()}_TRAFFIC_SECRET_0 in the key log`, frame);
      }
      this.switch13(d, d.application13);
    } else if (message.type === HS_KEY_UPDATE && d.phase === 'application') {
      this.switch13(d, d.tls13!.next());
    }
  }

  private onClientHello(hello: ClientHelloDetails, frame: number): void {
    // The second ClientHello after a HelloRetryRequest keeps the random; the keys may already be in use.
    const random = hello.random.toString('hex');
    if (this.clientHello?.random === random) {
      this.clientHello.earlyData = hello.earlyData;
      return;
    }
    if (this.clientHello && this.serverHello) this.serverHello = null; // renegotiation: a new handshake
    this.clientHello = { random, earlyData: hello.earlyData };
    this.st.clientRandom = random;
    if (hello.sni !== null) this.st.sni = hello.sni;
    this.install(frame);
  }

  private onServerHello(hello: ServerHelloDetails, frame: number): void {
    this.st.version = hello.version;
    this.st.cipher = hello.cipherName ?? `0x${hello.cipherSuite.toString(16).padStart(4, '0')}`;
    // A HelloRetryRequest only asks for another ClientHello; the real ServerHello follows.
    if (hello.helloRetry) return;
    this.serverHello = { version: hello.version, cipherSuite: hello.cipherSuite, random: hello.random.toString('hex'), encryptThenMac: hello.encryptThenMac };
    this.install(frame);
  }

  /**
   * Once both hellos of a handshake are known: find the secrets and set up the keys. (Looked up here, not at the
   * ClientHello: a pcapng's secrets read between the two count, and a decryptor keeps none of them.)
   */
  private install(frame: number): void {
    const ch = this.clientHello;
    const sh = this.serverHello;
    if (!ch || !sh?.random) return;
    const secrets = this.keys.secretsFor(Buffer.from(ch.random, 'hex'));
    const serverRandom = sh.random;
    sh.random = null;
    this.keyFailure = null;
    // Optimistic; a direction without its secret stops (and says why) while the keys are set up.
    this.st.decrypting = true;
    this.st.reason = null;
    const failure =
      sh.version === 'TLS 1.3' ? this.install13(ch, sh, secrets, frame)
      : sh.version === 'TLS 1.2' ? this.install12(ch, sh, secrets, serverRandom)
      : `${sh.version} is not decrypted (only TLS 1.2 and 1.3)`;
    if (failure) {
      this.keyFailure = failure;
      this.client.pending12 = this.server.pending12 = null;
      this.fail(failure, frame);
    }
  }

  private install12(ch: KeptClientHello, sh: KeptServerHello, secrets: TlsSecrets | null, serverRandom: string): string | null {
    this.tls13 = false;
    const suite = tls12Suite(sh.cipherSuite);
    if (!suite) return `cipher suite ${this.st.cipher} is not decrypted (supported: AES-GCM, ChaCha20-Poly1305, AES-CBC)`;
    const master = secrets?.masterSecret;
    if (!master) return `no CLIENT_RANDOM secret for client random ${ch.random} in the key log`;
    const p = tls12Protections(suite, keyBytes(master), Buffer.from(ch.random, 'hex'), Buffer.from(serverRandom, 'hex'), sh.encryptThenMac);
    this.client.pending12 = p.client;
    this.server.pending12 = p.server;
    return null;
  }

  private install13(ch: KeptClientHello, sh: KeptServerHello, secrets: TlsSecrets | null, frame: number): string | null {
    this.tls13 = true;
    const suite = tls13Suite(sh.cipherSuite);
    if (!suite) return `cipher suite ${this.st.cipher} is not decrypted`;
    const known = secrets && (secrets.clientHandshakeTrafficSecret || secrets.serverHandshakeTrafficSecret || secrets.clientTrafficSecret0 || secrets.serverTrafficSecret0);
    if (!known) return `no TLS 1.3 traffic secrets for client random ${ch.random} in the key log`;
    const setUp = (d: Direction, handshake: string | undefined, application: string | undefined): void => {
      d.application13 = application ? new Tls13Protection(suite, application) : null;
      d.phase = 'handshake';
      if (handshake) d.tls13 = new Tls13Protection(suite, handshake);
      // Without the handshake secret, the first record that opens with the application key starts its phase.
      else if (application) {
        d.trial = true;
        d.trialFailures = 0;
      }
      else this.stop(d, `no ${d.side.toUpperCase()}_*_TRAFFIC_SECRET in the key log`, frame);
    };
    setUp(this.client, secrets.clientHandshakeTrafficSecret, secrets.clientTrafficSecret0);
    setUp(this.server, secrets.serverHandshakeTrafficSecret, secrets.serverTrafficSecret0);
    return null;
  }

  // ---- failures ----

  private macFailure(d: Direction, record: TlsRecord): string {
    return `record of frame ${record.frame} (${record.body.length} bytes) does not decrypt (MAC failure): ` +
      (d.opened ? 'corrupt record' : 'wrong key in the key log, or a corrupt record');
  }

  /** The connection's keys are unusable: one warning; directions stop when they need the keys. */
  private fail(reason: string, frame: number): void {
    this.st.reason = reason;
    this.st.decrypting = false;
    this.note(frame, `TLS not decrypted: ${reason}`, reason);
    // TLS 1.3 needs the keys right after the hellos; TLS 1.2 only at the next ChangeCipherSpec.
    if (this.tls13) for (const d of [this.client, this.server]) this.stop(d, reason, frame);
  }

  /** Stop decrypting one direction for good: one warning per cause, nothing more is handed on. */
  private stop(d: Direction, reason: string, frame: number): void {
    if (d.stopped) return;
    d.stopped = true;
    d.waiting = NO_RECORDS;
    d.waitingBytes = 0;
    d.records.clear();
    d.handshake.clear();
    d.tls12 = d.tls13 = d.pending12 = d.application13 = null;
    this.note(frame, `TLS ${LABEL[d.side]}: ${reason}; decryption of this direction stops`, reason);
    this.st.reason = reason;
    this.st.decrypting = this.st.decrypting && !(this.client.stopped && this.server.stopped);
  }

  private note(frame: number, message: string, key = message): void {
    const warned = this.warned;
    if (warned === null) this.warned = key;
    else if (typeof warned === 'string') {
      if (warned === key) return;
      this.warned = new Set([warned, key]);
    } else {
      if (warned.has(key)) return;
      warned.add(key);
    }
    this.out.warn(frame, message);
  }
}
