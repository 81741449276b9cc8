/**
 * NSS key log files (RFC 9850): the secrets a TLS endpoint wrote down, keyed by the ClientHello random
 * of the connection they belong to. Only parsing and lookup; nothing here knows about records.
 */

/** What a key log says about one connection (one ClientHello random). Secrets are absent when not logged. */
export interface TlsSecrets {
  clientRandom: Buffer;
  /** TLS ≤ 1.2: the 48-byte master secret (label CLIENT_RANDOM). */
  masterSecret?: Buffer;
  /** TLS 1.3 secrets, 32 or 48 bytes (the suite's hash length). */
  clientEarlyTrafficSecret?: Buffer;
  clientHandshakeTrafficSecret?: Buffer;
  serverHandshakeTrafficSecret?: Buffer;
  clientTrafficSecret0?: Buffer;
  serverTrafficSecret0?: Buffer;
  exporterSecret?: Buffer;
  earlyExporterSecret?: Buffer;
}

type SecretField = Exclude<keyof TlsSecrets, 'clientRandom'>;

const LABELS: ReadonlyMap<string, SecretField> = new Map([
  ['CLIENT_RANDOM', 'masterSecret'],
  ['CLIENT_EARLY_TRAFFIC_SECRET', 'clientEarlyTrafficSecret'],
  ['CLIENT_HANDSHAKE_TRAFFIC_SECRET', 'clientHandshakeTrafficSecret'],
  ['SERVER_HANDSHAKE_TRAFFIC_SECRET', 'serverHandshakeTrafficSecret'],
  ['CLIENT_TRAFFIC_SECRET_0', 'clientTrafficSecret0'],
  ['SERVER_TRAFFIC_SECRET_0', 'serverTrafficSecret0'],
  ['EXPORTER_SECRET', 'exporterSecret'],
  ['EARLY_EXPORTER_SECRET', 'earlyExporterSecret'],
]);

/** pcapng Decryption Secrets Block secrets type for a TLS key log ("TLSK"). */
export const DSB_TLS_KEY_LOG = 0x544c534b;

const RANDOM_LENGTH = 32;
const MASTER_SECRET_LENGTH = 48;
const HEX = /^[0-9a-fA-F]+$/;

/** TLS sessions (client randoms) one key log holds; secrets of further sessions are dropped and counted. */
export const MAX_KEYLOG_SESSIONS = 500_000;

export class KeyLog {
  /** Keyed by the client random in lower-case hex. */
  private readonly byRandom = new Map<string, TlsSecrets>();
  /** Secrets dropped because they belong to a session past the cap. */
  dropped = 0;

  constructor(private readonly maxSessions = MAX_KEYLOG_SESSIONS) {}

  /**
   * Parse key log text. Comments, blank lines and CRLF are fine; labels we do not use (RSA, ECH, future
   * ones) are skipped silently; malformed lines are reported to `warn` (1-based line number) and skipped.
   */
  static parse(text: string, warn: (line: number, msg: string) => void = () => {}): KeyLog {
    const log = new KeyLog();
    const lines = text.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!.trim();
      if (line === '' || line.startsWith('#')) continue;
      const problem = log.addLine(line);
      if (problem) warn(i + 1, problem);
    }
    return log;
  }

  /** Add every secret of `other`; where both know the same secret, other's wins (it was read later). */
  merge(other: KeyLog): void {
    this.dropped += other.dropped;
    for (const secrets of other.byRandom.values()) {
      for (const field of LABELS.values()) {
        const value = secrets[field];
        if (value) this.store(secrets.clientRandom, field, value);
      }
    }
  }

  secretsFor(clientRandom: Buffer): TlsSecrets | null {
    return this.byRandom.get(clientRandom.toString('hex')) ?? null;
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
    this.store(Buffer.from(randomHex, 'hex'), field, secret);
    return null;
  }

  private store(clientRandom: Buffer, field: SecretField, secret: Buffer): void {
    const key = clientRandom.toString('hex');
    let secrets = this.byRandom.get(key);
    if (!secrets) {
      // A key log is read whole into memory: past the cap, a hostile or runaway one stops growing.
      if (this.byRandom.size >= this.maxSessions) {
        this.dropped++;
        return;
      }
      secrets = { clientRandom: Buffer.from(clientRandom) };
      this.byRandom.set(key, secrets);
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
