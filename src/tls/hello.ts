/**
 * Sniff TLS from the first bytes of one reassembled TCP direction: is it TLS at all, and what do the
 * ClientHello / ServerHello say (versions, SNI, ALPN, cipher suites)? Pure and defensive: the input is
 * whatever a peer chose to send, so every length is checked and garbage yields null, never an exception.
 */

export interface ClientHelloInfo {
  /** The hello's legacy_version field, e.g. "TLS 1.2" (TLS 1.3 clients also send 1.2 here). */
  legacyVersion: string;
  /** From the supported_versions extension, GREASE values skipped; empty when the extension is absent. */
  supportedVersions: string[];
  /** First host_name in the server_name extension. */
  sni: string | null;
  alpn: string[];
  /** 32 bytes (an SSLv2-compatible hello's challenge is left-padded with zeros, as RFC 5246 E.2 says). */
  random: Buffer;
  /** As offered, in wire order, GREASE values included (see isGrease). */
  cipherSuites: number[];
}

export interface ServerHelloInfo {
  /** Negotiated version: the supported_versions extension if present (TLS 1.3), else the legacy field. */
  version: string;
  cipherSuite: number;
  /** IANA name for common suites, else null. */
  cipherName: string | null;
  random: Buffer;
}

const CONTENT_ALERT = 0x15;
const CONTENT_HANDSHAKE = 0x16;
const CONTENT_APPLICATION_DATA = 0x17;

const HANDSHAKE_CLIENT_HELLO = 1;
const HANDSHAKE_SERVER_HELLO = 2;

const EXT_SERVER_NAME = 0;
const EXT_ALPN = 16;
const EXT_SUPPORTED_VERSIONS = 43;

/** RFC 8446 §5.1 caps a plaintext record at 2^14; allow the ciphertext expansion slack as well. */
const MAX_RECORD_LENGTH = 16384 + 2048;
const RECORD_HEADER_LENGTH = 5;
const RANDOM_LENGTH = 32;

/** True when b starts with a TLS record header, or with an SSLv2-compatible ClientHello. */
export function looksLikeTls(b: Buffer): boolean {
  return looksLikeTlsRecord(b) || looksLikeSslv2ClientHello(b);
}

function looksLikeTlsRecord(b: Buffer): boolean {
  if (b.length < 3) return false;
  const type = b[0]!;
  const known = type === CONTENT_HANDSHAKE || type === CONTENT_ALERT || type === CONTENT_APPLICATION_DATA;
  if (!known || b[1] !== 3 || b[2]! > 4) return false;
  // With the length in view, an empty or oversized record rules TLS out.
  if (b.length < RECORD_HEADER_LENGTH) return true;
  const length = b.readUInt16BE(3);
  return length > 0 && length <= MAX_RECORD_LENGTH;
}

/** SSLv2 record with a 2-byte header (high bit set), message type CLIENT-HELLO, version SSL 3.0 or later. */
/**
 * Can a direction whose first bytes are `b` still show its hello when more come? Not when it starts with another
 * record than a handshake one, or with another handshake message: a capture begun mid-connection starts with
 * application data, and nothing need be kept looking for a hello there.
 */
export function helloStillPossible(b: Buffer, side: 'client' | 'server'): boolean {
  if (b.length === 0) return true;
  if (side === 'client' && (b[0]! & 0x80) !== 0) return true; // an SSLv2-style ClientHello (looksLikeSslv2ClientHello)
  if (b[0] !== CONTENT_HANDSHAKE) return false;
  return b.length <= RECORD_HEADER_LENGTH || b[RECORD_HEADER_LENGTH] === (side === 'client' ? HANDSHAKE_CLIENT_HELLO : HANDSHAKE_SERVER_HELLO);
}

function looksLikeSslv2ClientHello(b: Buffer): boolean {
  if (b.length < 5 || (b[0]! & 0x80) === 0) return false;
  const length = ((b[0]! & 0x7f) << 8) | b[1]!;
  return length >= 9 && b[2] === HANDSHAKE_CLIENT_HELLO && b[3] === 3 && b[4]! <= 4;
}

/** "TLS 1.2" for 0x0303 and so on; unknown values as hex, e.g. "0x0a0a". */
export function tlsVersionName(v: number): string {
  switch (v) {
    case 0x0002: case 0x0200: return 'SSL 2.0';
    case 0x0300: return 'SSL 3.0';
    case 0x0301: return 'TLS 1.0';
    case 0x0302: return 'TLS 1.1';
    case 0x0303: return 'TLS 1.2';
    case 0x0304: return 'TLS 1.3';
  }
  // Pre-RFC 8446 implementations advertised drafts as 0x7fNN.
  if ((v & 0xff00) === 0x7f00) return `TLS 1.3 draft ${v & 0xff}`;
  return `0x${v.toString(16).padStart(4, '0')}`;
}

/** RFC 8701 GREASE values (0x0a0a, 0x1a1a, … 0xfafa): random noise that peers must ignore. */
export function isGrease(v: number): boolean {
  return (v & 0x0f0f) === 0x0a0a && v >> 8 === (v & 0xff);
}

export function parseClientHello(b: Buffer): ClientHelloInfo | null {
  try {
    if (looksLikeSslv2ClientHello(b)) return parseSslv2ClientHello(b);
    const body = firstHandshakeMessage(b, HANDSHAKE_CLIENT_HELLO);
    return body ? clientHelloFromBody(body) : null;
  } catch (e) {
    if (e instanceof Truncated) return null;
    throw e;
  }
}

export function parseServerHello(b: Buffer): ServerHelloInfo | null {
  try {
    const body = firstHandshakeMessage(b, HANDSHAKE_SERVER_HELLO);
    return body ? serverHelloFromBody(body) : null;
  } catch (e) {
    if (e instanceof Truncated) return null;
    throw e;
  }
}

/** Thrown by Reader when a length points past the end; caught by the exported parsers. */
class Truncated extends Error {}

/** Bounds-checked big-endian reads over one buffer. */
class Reader {
  private pos = 0;
  constructor(private readonly buf: Buffer) {}

  get remaining(): number {
    return this.buf.length - this.pos;
  }

  bytes(n: number): Buffer {
    if (n > this.remaining) throw new Truncated();
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  u8(): number {
    return this.bytes(1)[0]!;
  }

  u16(): number {
    return this.bytes(2).readUInt16BE(0);
  }

  u24(): number {
    return this.bytes(3).readUIntBE(0, 3);
  }

  /** The bytes of a length-prefixed vector (prefix of 1 or 2 bytes). */
  opaque(prefixBytes: 1 | 2): Buffer {
    const n = prefixBytes === 1 ? this.u8() : this.u16();
    return this.bytes(n);
  }

  /** A length-prefixed vector as its own Reader, so its contents cannot overrun it. */
  vector(prefixBytes: 1 | 2): Reader {
    return new Reader(this.opaque(prefixBytes));
  }
}

/**
 * Body of the first handshake message, which must be of the wanted type. A handshake message may be
 * fragmented over several records (or share one with later messages), so the payloads of consecutive
 * handshake records are joined until the message is complete. Null when incomplete or not TLS.
 */
function firstHandshakeMessage(b: Buffer, wantedType: number): Buffer | null {
  const fragments: Buffer[] = [];
  let have = 0;
  let pos = 0;
  /** Join up to `need` bytes of handshake payload; false when the records run out first. */
  const gather = (need: number): boolean => {
    while (have < need) {
      const payload = recordPayload(b, pos);
      if (payload === null) return false;
      fragments.push(payload);
      have += payload.length;
      pos += RECORD_HEADER_LENGTH + payload.length;
    }
    return true;
  };
  if (!gather(4)) return null;
  const header = Buffer.concat(fragments).subarray(0, 4);
  if (header[0] !== wantedType) return null;
  const end = 4 + header.readUIntBE(1, 3);
  if (!gather(end)) return null;
  return Buffer.concat(fragments).subarray(4, end);
}

/** Payload of the complete handshake record at pos, else null (other content type, truncated, bogus). */
function recordPayload(b: Buffer, pos: number): Buffer | null {
  if (pos + RECORD_HEADER_LENGTH > b.length) return null;
  if (b[pos] !== CONTENT_HANDSHAKE || b[pos + 1] !== 3) return null;
  const length = b.readUInt16BE(pos + 3);
  if (length > MAX_RECORD_LENGTH) return null;
  const end = pos + RECORD_HEADER_LENGTH + length;
  return end <= b.length ? b.subarray(pos + RECORD_HEADER_LENGTH, end) : null;
}

function clientHelloFromBody(body: Buffer): ClientHelloInfo {
  const r = new Reader(body);
  const legacyVersion = r.u16();
  const random = Buffer.from(r.bytes(RANDOM_LENGTH));
  r.opaque(1); // legacy_session_id
  const suites = r.vector(2);
  const cipherSuites: number[] = [];
  while (suites.remaining >= 2) cipherSuites.push(suites.u16());
  r.opaque(1); // legacy_compression_methods
  const info: ClientHelloInfo = {
    legacyVersion: tlsVersionName(legacyVersion),
    supportedVersions: [],
    sni: null,
    alpn: [],
    random,
    cipherSuites,
  };
  // Extensions are optional: SSL 3.0-era hellos end after the compression methods.
  for (const [type, data] of extensions(r)) {
    if (type === EXT_SERVER_NAME) info.sni = serverName(data);
    else if (type === EXT_ALPN) info.alpn = protocolNames(data);
    else if (type === EXT_SUPPORTED_VERSIONS) info.supportedVersions = versionList(data);
  }
  return info;
}

function serverHelloFromBody(body: Buffer): ServerHelloInfo {
  const r = new Reader(body);
  let version = r.u16();
  const random = Buffer.from(r.bytes(RANDOM_LENGTH));
  r.opaque(1); // legacy_session_id_echo
  const cipherSuite = r.u16();
  r.u8(); // legacy_compression_method
  for (const [type, data] of extensions(r)) {
    // TLS 1.3 freezes legacy_version at 1.2 and states the real version here (RFC 8446 §4.2.1).
    if (type === EXT_SUPPORTED_VERSIONS) version = new Reader(data).u16();
  }
  return { version: tlsVersionName(version), cipherSuite, cipherName: cipherSuiteName(cipherSuite), random };
}

/** The extensions block as (type, data) pairs; none when the message ends before it. */
function extensions(r: Reader): Array<[number, Buffer]> {
  if (r.remaining === 0) return [];
  const block = r.vector(2);
  const out: Array<[number, Buffer]> = [];
  while (block.remaining > 0) {
    const type = block.u16();
    out.push([type, block.opaque(2)]);
  }
  return out;
}

function serverName(data: Buffer): string | null {
  const list = new Reader(data).vector(2);
  while (list.remaining > 0) {
    const nameType = list.u8();
    const name = list.opaque(2);
    if (nameType === 0) return name.toString('latin1');
  }
  return null;
}

function protocolNames(data: Buffer): string[] {
  const list = new Reader(data).vector(2);
  const names: string[] = [];
  while (list.remaining > 0) {
    names.push(list.opaque(1).toString('latin1'));
  }
  return names;
}

function versionList(data: Buffer): string[] {
  const list = new Reader(data).vector(1);
  const names: string[] = [];
  while (list.remaining >= 2) {
    const v = list.u16();
    if (!isGrease(v)) names.push(tlsVersionName(v));
  }
  return names;
}

/**
 * SSLv2-compatible ClientHello (RFC 5246 Appendix E.2), still sent by some old clients to reach
 * SSL 3.0 / TLS servers. It carries no extensions, so no SNI or ALPN.
 */
function parseSslv2ClientHello(b: Buffer): ClientHelloInfo | null {
  const length = ((b[0]! & 0x7f) << 8) | b[1]!;
  if (2 + length > b.length) return null;
  const r = new Reader(b.subarray(2, 2 + length));
  r.u8(); // msg_type, checked by looksLikeSslv2ClientHello
  const version = r.u16();
  const specsLength = r.u16();
  const sessionIdLength = r.u16();
  const challengeLength = r.u16();
  const specs = new Reader(r.bytes(specsLength));
  r.bytes(sessionIdLength);
  const challenge = r.bytes(challengeLength);
  if (challengeLength < 16 || challengeLength > RANDOM_LENGTH) return null;
  const cipherSuites: number[] = [];
  // 3-byte SSLv2 cipher specs; those with a zero first byte are TLS suites.
  while (specs.remaining >= 3) {
    const spec = specs.bytes(3);
    if (spec[0] === 0) cipherSuites.push(spec.readUInt16BE(1));
  }
  const random = Buffer.alloc(RANDOM_LENGTH);
  challenge.copy(random, RANDOM_LENGTH - challengeLength);
  return { legacyVersion: tlsVersionName(version), supportedVersions: [], sni: null, alpn: [], random, cipherSuites };
}

/** IANA names of the suites seen in practice; anything else is reported by number only. */
const CIPHER_SUITE_NAMES: ReadonlyMap<number, string> = new Map([
  [0x0004, 'TLS_RSA_WITH_RC4_128_MD5'],
  [0x0005, 'TLS_RSA_WITH_RC4_128_SHA'],
  [0x000a, 'TLS_RSA_WITH_3DES_EDE_CBC_SHA'],
  [0x002f, 'TLS_RSA_WITH_AES_128_CBC_SHA'],
  [0x0033, 'TLS_DHE_RSA_WITH_AES_128_CBC_SHA'],
  [0x0035, 'TLS_RSA_WITH_AES_256_CBC_SHA'],
  [0x0039, 'TLS_DHE_RSA_WITH_AES_256_CBC_SHA'],
  [0x003c, 'TLS_RSA_WITH_AES_128_CBC_SHA256'],
  [0x003d, 'TLS_RSA_WITH_AES_256_CBC_SHA256'],
  [0x0067, 'TLS_DHE_RSA_WITH_AES_128_CBC_SHA256'],
  [0x006b, 'TLS_DHE_RSA_WITH_AES_256_CBC_SHA256'],
  [0x009c, 'TLS_RSA_WITH_AES_128_GCM_SHA256'],
  [0x009d, 'TLS_RSA_WITH_AES_256_GCM_SHA384'],
  [0x009e, 'TLS_DHE_RSA_WITH_AES_128_GCM_SHA256'],
  [0x009f, 'TLS_DHE_RSA_WITH_AES_256_GCM_SHA384'],
  [0x00ff, 'TLS_EMPTY_RENEGOTIATION_INFO_SCSV'],
  [0x1301, 'TLS_AES_128_GCM_SHA256'],
  [0x1302, 'TLS_AES_256_GCM_SHA384'],
  [0x1303, 'TLS_CHACHA20_POLY1305_SHA256'],
  [0x1304, 'TLS_AES_128_CCM_SHA256'],
  [0x1305, 'TLS_AES_128_CCM_8_SHA256'],
  [0x5600, 'TLS_FALLBACK_SCSV'],
  [0xc009, 'TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA'],
  [0xc00a, 'TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA'],
  [0xc011, 'TLS_ECDHE_RSA_WITH_RC4_128_SHA'],
  [0xc012, 'TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA'],
  [0xc013, 'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA'],
  [0xc014, 'TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA'],
  [0xc023, 'TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256'],
  [0xc024, 'TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384'],
  [0xc027, 'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256'],
  [0xc028, 'TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384'],
  [0xc02b, 'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256'],
  [0xc02c, 'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384'],
  [0xc02f, 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256'],
  [0xc030, 'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384'],
  [0xcca8, 'TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256'],
  [0xcca9, 'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256'],
  [0xccaa, 'TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256'],
]);

export function cipherSuiteName(suite: number): string | null {
  return CIPHER_SUITE_NAMES.get(suite) ?? null;
}
