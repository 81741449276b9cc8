/**
 * IMAP "modified UTF-7" mailbox names (RFC 3501 §5.1.3, kept by RFC 9051 §5.1.3): printable ASCII stands
 * for itself except "&", which is written "&-"; anything else is UTF-16BE in base64 (with "," for "/",
 * no padding) between "&" and "-". Example: "Entw&APw-rfe" is "Entwürfe".
 */

const BASE64_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,';
const BASE64_VALUE: ReadonlyMap<string, number> = new Map([...BASE64_ALPHABET].map((c, i) => [c, i]));

/**
 * The mailbox name as Unicode. A name that is not valid modified UTF-7 comes back unchanged: with
 * UTF8=ACCEPT (RFC 6855) servers send raw UTF-8 names, and those may contain a bare "&" or non-ASCII.
 */
export function decodeMailboxName(s: string): string {
  let out = '';
  let i = 0;
  while (i < s.length) {
    const c = s[i]!;
    if (!isDirect(c) && c !== '&') return s;
    if (c !== '&') {
      out += c;
      i++;
      continue;
    }
    const end = s.indexOf('-', i + 1);
    if (end < 0) return s;
    if (end === i + 1) {
      out += '&';
    } else {
      const decoded = decodeShifted(s.slice(i + 1, end));
      if (decoded === null) return s;
      out += decoded;
    }
    i = end + 1;
  }
  return out;
}

/** Encode a Unicode mailbox name for the wire. Lone surrogates, which UTF-16 cannot carry, become U+FFFD. */
export function encodeMailboxName(s: string): string {
  let out = '';
  let pending: number[] = []; // UTF-16 code units awaiting a base64 run
  const flush = (): void => {
    if (pending.length > 0) out += `&${encodeShifted(pending)}-`;
    pending = [];
  };
  for (const ch of s) {
    if (ch === '&') {
      flush();
      out += '&-';
    } else if (isDirect(ch)) {
      flush();
      out += ch;
    } else {
      pending.push(...utf16Units(ch));
    }
  }
  flush();
  return out;
}

/** Printable US-ASCII other than "&" represents itself, and nothing else may appear unencoded. */
function isDirect(c: string): boolean {
  const code = c.charCodeAt(0);
  return c.length === 1 && code >= 0x20 && code <= 0x7e && c !== '&';
}

/** UTF-16 code units of one code point (as iterated from a string); lone surrogates become U+FFFD. */
function utf16Units(ch: string): number[] {
  const cp = ch.codePointAt(0)!;
  if (cp >= 0xd800 && cp <= 0xdfff) return [0xfffd];
  if (cp < 0x10000) return [cp];
  const v = cp - 0x10000;
  return [0xd800 | (v >> 10), 0xdc00 | (v & 0x3ff)];
}

function encodeShifted(units: number[]): string {
  const bytes = Buffer.alloc(units.length * 2);
  units.forEach((u, k) => bytes.writeUInt16BE(u, k * 2));
  return bytes.toString('base64').replace(/=+$/, '').replace(/\//g, ',');
}

/**
 * The text of one "&...-" run, or null when it is not a valid encoding: characters outside the
 * alphabet, leftover bits that are not zero padding, an odd byte count, unpaired surrogates, or
 * printable ASCII (which must be written directly, so a strict reader would reject it).
 */
function decodeShifted(run: string): string | null {
  const bytes: number[] = [];
  let bits = 0;
  let bitCount = 0;
  for (const c of run) {
    const v = BASE64_VALUE.get(c);
    if (v === undefined) return null;
    bits = ((bits << 6) | v) & 0xffff; // keep only what is not yet emitted
    bitCount += 6;
    if (bitCount >= 8) {
      bitCount -= 8;
      bytes.push((bits >> bitCount) & 0xff);
    }
  }
  // What remains must be fewer than 6 bits (else a whole character was wasted) and all zero.
  if (bitCount >= 6 || (bits & ((1 << bitCount) - 1)) !== 0) return null;
  if (bytes.length % 2 !== 0) return null;

  const units: number[] = [];
  for (let k = 0; k < bytes.length; k += 2) units.push((bytes[k]! << 8) | bytes[k + 1]!);
  return unitsToString(units);
}

function unitsToString(units: number[]): string | null {
  let out = '';
  for (let k = 0; k < units.length; k++) {
    const u = units[k]!;
    if (u >= 0xdc00 && u <= 0xdfff) return null;
    if (u >= 0xd800 && u <= 0xdbff) {
      const low = units[k + 1];
      if (low === undefined || low < 0xdc00 || low > 0xdfff) return null;
      out += String.fromCharCode(u, low);
      k++;
      continue;
    }
    if (u >= 0x20 && u <= 0x7e) return null;
    out += String.fromCharCode(u);
  }
  return out;
}
