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
 * A key log's secrets as plain data: each session's packed in one string (see PackedSecrets), by the client random's
 * bytes as text, and how many it dropped past the cap. What crosses to a worker thread; each capture's KeyLog reads
 * them in place (KeyLog.of). Not the key log's text: a large one was kept whole for the run, and parsed again for
 * every capture.
 */
export interface KeyLogSecrets {
  readonly bySession: ReadonlyMap<string, PackedSecrets>;
  readonly dropped: number;
}

/**
 * One session's secrets in one string: for each of SECRET_FIELDS in turn, a character whose code is the secret's
 * length in bytes (0: not logged), then its bytes as text (keyText). An object of up to five strings cost 0.45 KiB a
 * session with its map entry; this, about 0.25.
 */
export type PackedSecrets = string;

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

/** The secrets a session may have, in the order PackedSecrets keeps them. */
const SECRET_FIELDS: readonly SecretField[] = [...new Set(LABELS.values())];
/** A session with no secret logged yet. */
const NO_SECRETS: PackedSecrets = String.fromCharCode(0).repeat(SECRET_FIELDS.length);
/** Where PackedSecrets are made: long enough for every field at its longest (a secret is at most 48 bytes). */
const packing = Buffer.alloc(SECRET_FIELDS.length * (1 + 255));
const NO_SESSIONS: ReadonlyMap<string, PackedSecrets> = new Map();

export class KeyLog {
  /** Secrets this key log reads in place and never changes (KeyLog.of): other captures read them too. */
  private readonly shared: ReadonlyMap<string, PackedSecrets>;
  /**
   * Secrets of its own, keyed by the client random's bytes as text (keyText): those read or merged into it. For a
   * session the shared ones know too, they hold both, merged.
   */
  private readonly own = new Map<string, PackedSecrets>();
  /** Sessions of its own that the shared ones do not know. */
  private ownOnly = 0;
  /** Secrets dropped because they belong to a session past the cap. */
  dropped = 0;

  constructor(private readonly maxSessions = MAX_KEYLOG_SESSIONS, shared = NO_SESSIONS) {
    this.shared = shared;
  }

  /**
   * A key log that reads these secrets in place: secrets merged into it later (a pcapng's own) change only it. A copy
   * for each capture cost 15 MB per 100,000 sessions.
   */
  static of(secrets: KeyLogSecrets): KeyLog {
    const log = new KeyLog(MAX_KEYLOG_SESSIONS, secrets.bySession);
    log.dropped = secrets.dropped;
    return log;
  }

  /** Its secrets as plain data (KeyLog.of makes a key log of them again). */
  get secrets(): KeyLogSecrets {
    if (this.shared.size === 0) return { bySession: this.own, dropped: this.dropped };
    const bySession = new Map(this.shared);
    for (const [random, packed] of this.own) bySession.set(random, packed);
    return { bySession, dropped: this.dropped };
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
    for (const [random, packed] of other.secrets.bySession) {
      // A session this one does not know takes the other's string as it is: the commands merge each --keylog file's
      // 100,000 sessions into an empty key log.
      if (this.known(random) === undefined) {
        if (this.admits()) this.own.set(random, packed);
        else this.dropped += secretCount(packed);
        continue;
      }
      const secrets = unpacked(packed);
      for (const field of SECRET_FIELDS) {
        const value = secrets[field];
        if (value) this.store(random, field, value);
      }
    }
  }

  secretsFor(clientRandom: Buffer): TlsSecrets | null {
    const packed = this.known(keyText(clientRandom));
    return packed === undefined ? null : unpacked(packed);
  }

  /** Number of distinct client randoms. */
  get size(): number {
    return this.shared.size + this.ownOnly;
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
    const length = secretHex.length / 2;
    if (field === 'masterSecret' ? length !== MASTER_SECRET_LENGTH : length !== 32 && length !== 48) {
      return `${label}: secret of ${length} bytes (expected ${field === 'masterSecret' ? '48' : '32 or 48'})`;
    }
    // The hex digits go straight to where they are kept: a key log of 100,000 sessions has 400,000 lines.
    const randomLength = packing.write(randomHex, 'hex');
    this.store(packing.toString('latin1', 0, randomLength), field, secretHex, 'hex');
    return null;
  }

  /** `secret`: its bytes as text (keyText), or as hex digits. */
  private store(random: string, field: SecretField, secret: string, encoding: 'latin1' | 'hex' = 'latin1'): void {
    const known = this.known(random);
    if (known === undefined && !this.admits()) {
      this.dropped++;
      return;
    }
    this.own.set(random, withSecret(known ?? NO_SECRETS, SECRET_FIELDS.indexOf(field), secret, encoding));
  }

  private known(random: string): PackedSecrets | undefined {
    return this.own.get(random) ?? this.shared.get(random);
  }

  /**
   * Whether a session it does not know yet may be added (counted as its own): a key log is read whole into memory,
   * and past the cap a hostile or runaway one stops growing.
   */
  private admits(): boolean {
    if (this.size >= this.maxSessions) return false;
    this.ownOnly++;
    return true;
  }
}

function secretCount(packed: PackedSecrets): number {
  let count = 0;
  for (let from = 0; from < packed.length; from += 1 + packed.charCodeAt(from)) if (packed.charCodeAt(from) > 0) count++;
  return count;
}

/** The session's secrets with the one at `index` in SECRET_FIELDS set (written from `secret` in `encoding`): a flat string. */
function withSecret(packed: PackedSecrets, index: number, secret: string, encoding: 'latin1' | 'hex'): PackedSecrets {
  const end = packing.write(packed, 0, 'latin1');
  let at = 0;
  for (let i = 0; i < index; i++) at += 1 + packing[at]!;
  const length = encoding === 'hex' ? secret.length / 2 : secret.length;
  // What follows the field moves to where the new value ends.
  const rest = at + 1 + packing[at]!;
  const moved = at + 1 + length;
  packing.copyWithin(moved, rest, end);
  packing[at] = length;
  packing.write(secret, at + 1, length, encoding);
  return packing.toString('latin1', 0, moved + end - rest);
}

function unpacked(packed: PackedSecrets): TlsSecrets {
  const secrets: TlsSecrets = {};
  let from = 0;
  for (const field of SECRET_FIELDS) {
    const length = packed.charCodeAt(from);
    if (length > 0) secrets[field] = packed.slice(from + 1, from + 1 + length);
    from += 1 + length;
  }
  return secrets;
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
