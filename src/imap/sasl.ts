/**
 * The user name from the client side of SASL exchanges (IMAP AUTHENTICATE), one function per mechanism.
 * Passwords, digests, tokens and NTLM responses are parsed past, never returned. Inputs are base64 as
 * it appears on the wire; anything malformed (bad base64, truncation, hostile offsets) yields null.
 */

/** A SASL mechanism name, upper-case ("PLAIN", "CRAM-MD5", …). */
export type SaslMechanism = string;

export interface SaslUser {
  /** The authentication identity (whose password was checked). */
  user: string | null;
  /** The identity to act as, when the client asked for a different one. */
  authzid?: string | null;
}

function noUser(): SaslUser {
  return { user: null, authzid: null };
}

/** RFC 4616: [authzid] NUL authcid NUL passwd. */
export function userFromPlain(b64: string): SaslUser {
  const bytes = decodeBase64(b64);
  if (bytes === null) return noUser();
  const parts = splitBytes(bytes, 0);
  // Exactly three parts: with two, "user NUL pass" and "NUL user" cannot be told apart, and
  // guessing wrong would report the password as the user.
  if (parts.length !== 3) return noUser();
  const user = nonEmpty(utf8OrLatin1(parts[1]!));
  if (user === null) return noUser();
  return { user, authzid: nonEmpty(utf8OrLatin1(parts[0]!)) };
}

/**
 * SASL LOGIN (draft-murchison-sasl-login): the server prompts "Username:" then "Password:" and the
 * client answers each. Returns the answer when the prompt asks for the user name; a prompt mentioning
 * a password always gives null. An empty or unrecognised prompt (servers vary, and SASL-IR sends the
 * user with no prompt at all) is taken to be the user prompt only when `firstStep` says this is the
 * client's first response — callers that cannot tell should pass false.
 */
export function userFromLoginStep(serverPromptB64: string, clientB64: string, firstStep = true): string | null {
  const prompt = promptText(serverPromptB64).toLowerCase();
  if (prompt.includes('pass')) return null;
  const asksForUser = /user|name|login/.test(prompt);
  if (!asksForUser && !firstStep) return null;
  const answer = decodeBase64(clientB64);
  return answer === null ? null : nonEmpty(utf8OrLatin1(answer));
}

/** RFC 2195: "user SP digest", the digest being 32 hex digits. */
export function userFromCramMd5(clientB64: string): string | null {
  const text = decodeText(clientB64);
  if (text === null) return null;
  const space = text.lastIndexOf(' ');
  if (space < 0 || !/^[0-9a-f]{32}$/i.test(text.slice(space + 1))) return null;
  return nonEmpty(text.slice(0, space));
}

/** RFC 2831 digest-response: the username="…" directive. */
export function userFromDigestMd5(clientB64: string): string | null {
  const bytes = decodeBase64(clientB64);
  if (bytes === null) return null;
  // Parse as Latin-1 so each byte is one character; the charset directive says how to read the name.
  const directives = parseDirectives(bytes.toString('latin1'));
  const raw = directives?.get('username');
  if (raw === undefined) return null;
  const utf8 = directives!.get('charset')?.toLowerCase() === 'utf-8';
  return nonEmpty(utf8 ? utf8OrLatin1(Buffer.from(raw, 'latin1')) : raw);
}

/**
 * XOAUTH2 ("user=" name ^A "auth=Bearer " token ^A ^A) and OAUTHBEARER (RFC 7628: a GS2 header
 * "n,a=user@example.com," then key/value pairs). OAUTHBEARER without "a=" names no user outside the
 * token, and the token is never looked into.
 */
export function userFromXoauth2(b64: string): string | null {
  const text = decodeText(b64);
  if (text === null) return null;
  if (text.startsWith('user=')) return nonEmpty(text.slice('user='.length).split('\x01')[0]!);
  return parseGs2Header(text)?.authzid ?? null;
}

/** SCRAM-SHA-* client-first-message (RFC 5802): GS2 header, then "n=" user ",r=" nonce. */
export function userFromScram(clientFirstB64: string): SaslUser {
  const text = decodeText(clientFirstB64);
  const gs2 = text === null ? null : parseGs2Header(text);
  if (text === null || gs2 === null) return noUser();
  const m = /^n=([^,]*),/.exec(text.slice(gs2.length));
  const user = m ? decodeSaslName(m[1]!) : null;
  return user ? { user, authzid: gs2.authzid } : noUser();
}

export interface NtlmUser {
  user: string | null;
  domain: string | null;
  workstation: string | null;
}

const NTLM_SIGNATURE = Buffer.from('NTLMSSP\0', 'latin1');
const NTLM_AUTHENTICATE = 3;
const NTLM_NEGOTIATE_UNICODE = 0x1;
/** Signature, type and the LM, NT, domain, user and workstation buffers. */
const NTLM_MIN_HEADER = 52;
/** …then the session key buffer and the flags, absent from some old clients' messages. */
const NTLM_HEADER_WITH_FLAGS = 64;

/** NTLMSSP AUTHENTICATE (type 3) message ([MS-NLMP] 2.2.1.3): domain, user and workstation names. */
export function userFromNtlm(b64: string): NtlmUser {
  const none: NtlmUser = { user: null, domain: null, workstation: null };
  const b = decodeBase64(b64);
  if (b === null || b.length < NTLM_MIN_HEADER) return none;
  if (!b.subarray(0, 8).equals(NTLM_SIGNATURE) || b.readUInt32LE(8) !== NTLM_AUTHENTICATE) return none;

  const domain = securityBuffer(b, 28);
  const user = securityBuffer(b, 36);
  const workstation = securityBuffer(b, 44);
  const unicode = ntlmUnicode(b, user);
  const name = (field: Buffer | null): string | null => {
    if (field === null) return null;
    if (!unicode) return nonEmpty(field.toString('latin1'));
    return field.length % 2 === 0 ? nonEmpty(field.toString('utf16le')) : null;
  };
  return { user: name(user), domain: name(domain), workstation: name(workstation) };
}

/** The bytes a security buffer (u16 length, u16 max length, u32 offset) points at, if in bounds. */
function securityBuffer(b: Buffer, at: number): Buffer | null {
  const length = b.readUInt16LE(at);
  const offset = b.readUInt32LE(at + 4);
  if (length === 0 || offset < NTLM_MIN_HEADER || offset + length > b.length) return null;
  return b.subarray(offset, offset + length);
}

/**
 * Whether names are UTF-16LE. The flags field exists only when the payload starts after it; without
 * it, guess from the user name: ASCII in UTF-16LE has a zero in every odd byte.
 */
function ntlmUnicode(b: Buffer, user: Buffer | null): boolean {
  const offsets = [12, 20, 28, 36, 44]
    .filter((at) => b.readUInt16LE(at) > 0)
    .map((at) => b.readUInt32LE(at + 4));
  const payloadStart = Math.min(b.length, ...offsets);
  if (payloadStart >= NTLM_HEADER_WITH_FLAGS) return (b.readUInt32LE(60) & NTLM_NEGOTIATE_UNICODE) !== 0;
  return user !== null && user.length % 2 === 0 && user.every((byte, i) => i % 2 === 0 || byte === 0);
}

/**
 * Strict base64 (RFC 4648 alphabet; padding optional but, if present, correct). "=" alone is the
 * RFC 4959 empty initial response. Node's own decoder skips bad characters, which would turn garbage
 * into plausible bytes.
 */
function decodeBase64(s: string): Buffer | null {
  const t = s.trim();
  if (t === '=') return Buffer.alloc(0);
  const m = /^([A-Za-z0-9+/]*)(={0,2})$/.exec(t);
  if (!m) return null;
  const bare = m[1]!;
  if (bare.length % 4 === 1) return null;
  if (m[2] !== '' && t.length % 4 !== 0) return null;
  return Buffer.from(bare, 'base64');
}

function decodeText(b64: string): string | null {
  const bytes = decodeBase64(b64);
  return bytes === null ? null : utf8OrLatin1(bytes);
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** UTF-8 when valid, else Latin-1, so that no byte is lost or replaced. */
function utf8OrLatin1(b: Buffer): string {
  try {
    return strictUtf8.decode(b);
  } catch {
    return b.toString('latin1');
  }
}

/** A LOGIN prompt as text: base64 as the protocol says, but some servers send it plain. */
function promptText(s: string): string {
  const bytes = decodeBase64(s);
  return bytes === null ? s : bytes.toString('latin1');
}

function nonEmpty(s: string): string | null {
  return s === '' ? null : s;
}

function splitBytes(b: Buffer, separator: number): Buffer[] {
  const parts: Buffer[] = [];
  let start = 0;
  for (let at = b.indexOf(separator); at >= 0; at = b.indexOf(separator, start)) {
    parts.push(b.subarray(start, at));
    start = at + 1;
  }
  parts.push(b.subarray(start));
  return parts;
}

/** GS2 header (RFC 5801): cbind flag "," [ "a=" authzid ] ",". `length` is where the rest begins. */
function parseGs2Header(text: string): { authzid: string | null; length: number } | null {
  const m = /^(?:n|y|p=[A-Za-z0-9.-]+),(?:a=([^,]*))?,/.exec(text);
  if (!m) return null;
  const authzid = m[1] === undefined ? null : decodeSaslName(m[1]);
  if (m[1] !== undefined && authzid === null) return null;
  return { authzid, length: m[0].length };
}

/** saslname (RFC 5801/5802): "=2C" is ",", "=3D" is "=", any other "=" is malformed. */
function decodeSaslName(s: string): string | null {
  if (/=(?!2C|3D)/.test(s)) return null;
  return nonEmpty(s.replace(/=2C/g, ',').replace(/=3D/g, '='));
}

/**
 * RFC 2831 directives: key=value or key="quoted \"value\"", comma-separated. Tokenised rather than
 * pattern-matched so a username="…" inside another directive's quoted value cannot be mistaken for it.
 * Keys are lower-cased; the first occurrence wins. Null when malformed.
 */
function parseDirectives(s: string): Map<string, string> | null {
  const out = new Map<string, string>();
  let i = 0;
  /** Match a sticky pattern at i and step over it. */
  const take = (pattern: RegExp): string | null => {
    pattern.lastIndex = i;
    const m = pattern.exec(s);
    if (m === null) return null;
    i += m[0].length;
    return m[0];
  };
  for (;;) {
    take(/[\s,]*/y);
    if (i >= s.length) return out;
    const key = take(/[^\s=,"]+/y);
    if (key === null || take(/\s*=\s*/y) === null) return null;
    let value: string;
    if (s[i] === '"') {
      const quoted = take(/"((?:[^"\\]|\\.)*)"/sy);
      if (quoted === null) return null;
      value = quoted.slice(1, -1).replace(/\\(.)/gs, '$1');
    } else {
      value = take(/[^,]*/y)!.trim();
    }
    if (!out.has(key.toLowerCase())) out.set(key.toLowerCase(), value);
  }
}
