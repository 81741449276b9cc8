/**
 * NSS key log files (RFC 9850): the secrets a TLS endpoint wrote down, keyed by the ClientHello random
 * of the connection they belong to. Only parsing and lookup; nothing here knows about records.
 */
import { keyText } from '../util/bytes.js';

/**
 * What a key log says about one connection (one ClientHello random). Secrets are absent when not logged; each is its
 * bytes as text (keyText, src/util/bytes.ts): a key log of 100,000 TLS 1.3 sessions kept 1.1 KiB each as buffers cut
 * from Node's pool, its secrets for 0-RTT and exporters among them, where this costs less than half.
 */
export interface TlsSecrets {
  /** TLS ≤ 1.2: the 48-byte master secret (label CLIENT_RANDOM). */
  masterSecret?: string;
  /** TLS 1.3 secrets, 32 or 48 bytes (the suite's hash length). */
  clientHandshakeTrafficSecret?: string;
  serverHandshakeTrafficSecret?: string;
  clientTrafficSecret0?: string;
  serverTrafficSecret0?: string;
}

type SecretField = keyof TlsSecrets;

/**
 * A key log's secrets as plain data, by the client random's bytes as text, and how many it dropped past the cap: what
 * crosses to a worker thread, each capture making its own KeyLog of them (KeyLog.of). Not the key log's text: a large
 * one was kept whole for the run, and parsed again for every capture.
 */
export interface KeyLogSecrets {
  readonly bySession: ReadonlyMap<string, Readonly<TlsSecrets>>;
  readonly dropped: number;
}

/** Told of a line that is not a key log line: its number (from 1) and what is wrong with it. */
export type KeyLogWarn = (line: number, msg: string) => void;

/**
 * The labels whose secrets decryption uses. Others are skipped as unknown ones are: the early traffic secret (0-RTT
 * data is not decrypted), the exporter secrets, RSA and ECH lines.
 */
const LABELS: ReadonlyMap<string, SecretField> = new Map([
  ['CLIENT_RANDOM', 'masterSecret'],
  ['CLIENT_HANDSHAKE_TRAFFIC_SECRET', 'clientHandshakeTrafficSecret'],
  ['SERVER_HANDSHAKE_TRAFFIC_SECRET', 'serverHandshakeTrafficSecret'],
  ['CLIENT_TRAFFIC_SECRET_0', 'clientTrafficSecret0'],
  ['SERVER_TRAFFIC_SECRET_0', 'serverTrafficSecret0'],
]);

/** pcapng Decryption Secrets Block secrets type for a TLS key log ("TLSK"). */
export const DSB_TLS_KEY_LOG = 0x544c534b;

const RANDOM_LENGTH = 32;
const MASTER_SECRET_LENGTH = 48;
const HEX = /^[0-9a-fA-F]+$/;

/** TLS sessions (client randoms) one key log holds; secrets of further sessions are dropped and counted. */
export const MAX_KEYLOG_SESSIONS = 500_000;

export class KeyLog {
  /** Keyed by the client random's bytes as text (keyText). */
  private readonly byRandom = new Map<string, TlsSecrets>();
  /** Secrets dropped because they belong to a session past the cap. */
  dropped = 0;

  constructor(private readonly maxSessions = MAX_KEYLOG_SESSIONS) {}

  /** A key log of these secrets, of its own: secrets merged into it later (a pcapng's own) change only it. */
  static of(secrets: KeyLogSecrets): KeyLog {
    const log = new KeyLog();
    for (const [random, entry] of secrets.bySession) log.byRandom.set(random, { ...entry });
    log.dropped = secrets.dropped;
    return log;
  }

  /** Its secrets as plain data (KeyLog.of makes a key log of them again). */
  get secrets(): KeyLogSecrets {
    return { bySession: this.byRandom, dropped: this.dropped };
  }

  /**
   * Parse key log text. Comments, blank lines and CRLF are fine; labels we do not use (RSA, ECH, future
   * ones) are skipped silently; malformed lines are reported to `warn` (1-based line number) and skipped.
   */
  static parse(text: string, warn: KeyLogWarn = () => {}): KeyLog {
    const log = new KeyLog();
    log.read(text, 1, warn);
    return log;
  }

  /** Add the lines of `text`, the first of them line `firstLine` of its key log; returns the number of the next. */
  read(text: string, firstLine: number, warn: KeyLogWarn): number {
    const lines = text.split('\n');
    // Text that ends its last line has no line after the newline.
    const count = lines.at(-1) === '' ? lines.length - 1 : lines.length;
    for (let i = 0; i < count; i++) {
      const line = lines[i]!.trim();
      if (line === '' || line.startsWith('#')) continue;
      const problem = this.addLine(line);
      if (problem) warn(firstLine + i, problem);
    }
    return firstLine + count;
  }

  /** Add every secret of `other`; where both know the same secret, other's wins (it was read later). */
  merge(other: KeyLog): void {
    this.dropped += other.dropped;
    for (const [random, secrets] of other.byRandom) {
      for (const field of LABELS.values()) {
        const value = secrets[field];
        if (value) this.store(random, field, value);
      }
    }
  }

  secretsFor(clientRandom: Buffer): TlsSecrets | null {
    return this.byRandom.get(keyText(clientRandom)) ?? null;
  }

  /** Number of distinct client randoms. */
  get size(): number {
    return this.byRandom.size;
  }

  /** Returns a description of what is wrong with the line, or null when it was taken (or ignored). */
  private addLine(line: string): string | null {
    const fields = line.split(/\s+/);
    const label = fields[0]!;
    const field = LABELS.get(label);
    if (!field) return /^[A-Z0-9_]+$/.test(label) ? null : `not a key log line (label "${label.slice(0, 40)}")`;
    if (fields.length !== 3) return `${label}: expected "${label} <client random> <secret>", got ${fields.length} fields`;
    const [, randomHex, secretHex] = fields as [string, string, string];
    if (randomHex.length !== RANDOM_LENGTH * 2 || !HEX.test(randomHex)) return `${label}: client random is not 64 hex digits`;
    if (secretHex.length % 2 !== 0 || !HEX.test(secretHex)) return `${label}: secret is not hex`;
    const secret = Buffer.from(secretHex, 'hex');
    if (field === 'masterSecret' ? secret.length !== MASTER_SECRET_LENGTH : secret.length !== 32 && secret.length !== 48) {
      return `${label}: secret of ${secret.length} bytes (expected ${field === 'masterSecret' ? '48' : '32 or 48'})`;
    }
    this.store(keyText(Buffer.from(randomHex, 'hex')), field, keyText(secret));
    return null;
  }

  private store(random: string, field: SecretField, secret: string): void {
    let secrets = this.byRandom.get(random);
    if (!secrets) {
      // A key log is read whole into memory: past the cap, a hostile or runaway one stops growing.
      if (this.byRandom.size >= this.maxSessions) {
        this.dropped++;
        return;
      }
      secrets = {};
      this.byRandom.set(random, secrets);
    }
    secrets[field] = secret;
  }
}

/**
 * The key log text of a pcapng Decryption Secrets Block of type TLSK (the reader hands over its secrets
 * data). Writers may pad with NULs; those are dropped.
 */
export function keyLogFromDsb(data: Buffer): string {
  let end = data.length;
  while (end > 0 && data[end - 1] === 0) end--;
  return data.toString('utf8', 0, end);
}
