/** File names from untrusted text (mailbox names, attachment filenames): safe, short, unique within one directory. */

const MAX_NAME_BYTES = 120;
// Path separators, characters Windows forbids, C0/C1 controls, DEL and bidirectional overrides.
// eslint-disable-next-line no-control-regex
const UNSAFE = /[/\\:*?"<>|\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]+/g;

/** One path component that cannot climb out of its directory, hide itself, or carry control characters. */
export function safeComponent(text: string): string {
  let s = text.normalize('NFC').replace(UNSAFE, '_').replace(/\s+/g, ' ').trim();
  s = s.replace(/^[.\s]+/, '').replace(/[.\s]+$/, ''); // no "..", no hidden files, no trailing dots
  // Cutting to length can end the name in a dot or a space again.
  s = truncateBytes(s, MAX_NAME_BYTES).replace(/[.\s]+$/, '');
  return s === '' ? 'unnamed' : s;
}

/** Cut to at most `max` UTF-8 bytes, keeping a short extension and never splitting a character. */
export function truncateBytes(s: string, max: number): string {
  if (Buffer.byteLength(s) <= max) return s;
  const dot = s.lastIndexOf('.');
  const ext = dot > 0 && s.length - dot <= 10 ? s.slice(dot) : '';
  // One pass over the characters that fit (dropping one character at a time was quadratic: a name of
  // 16,000 characters from a hostile BODYSTRUCTURE took seconds).
  const room = max - Buffer.byteLength(ext);
  let stem = '';
  let used = 0;
  for (const ch of s.slice(0, s.length - ext.length)) {
    used += Buffer.byteLength(ch);
    if (used > room) break;
    stem += ch;
  }
  return stem + ext;
}

/**
 * A set of strings kept as 64-bit fingerprints (two 32-bit multiplicative hashes of the UTF-16 units) in an
 * open-addressed table: at most 16 bytes a string, where a Set of the strings took about 100 (a 1 GiB folder sync
 * extracts 1.7 million files: their names took 170 MiB). A string that was never added is reported present only when
 * its fingerprint equals one added (about one chance in ten million over 1.7 million names).
 */
export class FingerprintSet {
  /** Pairs (a, b) of fingerprints; b is odd, so a pair with b = 0 is an empty place. */
  private table = new Uint32Array(2 * 1024);
  private count = 0;

  get size(): number {
    return this.count;
  }

  has(s: string): boolean {
    const [a, b] = fingerprint(s);
    return this.table[2 * this.place(a, b) + 1] !== 0;
  }

  /** Add `s`; false when it was present (one fingerprint and one probe, for a caller that would ask has() first). */
  add(s: string): boolean {
    const [a, b] = fingerprint(s);
    const at = this.place(a, b);
    if (this.table[2 * at + 1] !== 0) return false;
    this.table[2 * at] = a;
    this.table[2 * at + 1] = b;
    // At half full the table doubles: probes stay short.
    if (++this.count * 4 > this.table.length) this.grow();
    return true;
  }

  /** Where (a, b) is, or the empty place where it would go (linear probing). */
  private place(a: number, b: number): number {
    const mask = this.table.length / 2 - 1;
    let i = a & mask;
    for (;;) {
      const bi = this.table[2 * i + 1]!;
      if (bi === 0 || (bi === b && this.table[2 * i] === a)) return i;
      i = (i + 1) & mask;
    }
  }

  private grow(): void {
    const old = this.table;
    this.table = new Uint32Array(2 * old.length);
    for (let i = 0; i < old.length; i += 2) {
      if (old[i + 1] === 0) continue;
      const at = this.place(old[i]!, old[i + 1]!);
      this.table[2 * at] = old[i]!;
      this.table[2 * at + 1] = old[i + 1]!;
    }
  }
}

/** Two independent 32-bit hashes of the string's UTF-16 units (FNV-1a, and one with another multiplier and a shift); the second odd. */
function fingerprint(s: string): [number, number] {
  let a = 0x811c9dc5;
  let b = 0x9747b28c;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 15;
  }
  return [a >>> 0, (b | 1) >>> 0];
}

/** Hands out names that differ (case-insensitively, for case-insensitive file systems) from all before. */
export class UniqueNames {
  /** The names handed out, in lower case, as fingerprints (FingerprintSet). */
  private readonly used = new FingerprintSet();
  /** Per name asked for, the counter to try next: many parts of one name cost linear time, not quadratic. */
  private readonly nextCounter = new Map<string, number>();

  take(name: string): string {
    const dot = name.lastIndexOf('.');
    const stem = dot > 0 ? name.slice(0, dot) : name;
    const ext = dot > 0 ? name.slice(dot) : '';
    const key = name.toLowerCase();
    let candidate = name;
    // Each candidate is taken when it is new (add() says so): the name, then with a counter.
    for (let n = this.nextCounter.get(key) ?? 2, lower = key; !this.used.add(lower); n++) {
      // The stem is cut to make room for the counter: a counter cut off would give the same name forever.
      const counter = `-${n}`;
      candidate = truncateBytes(stem, MAX_NAME_BYTES - Buffer.byteLength(ext) - counter.length) + counter + ext;
      lower = candidate.toLowerCase();
      this.nextCounter.set(key, n + 1);
    }
    return candidate;
  }
}

const EXTENSIONS: Record<string, string> = {
  'text/plain': '.txt', 'text/html': '.html', 'text/calendar': '.ics', 'text/csv': '.csv', 'image/png': '.png',
  'image/jpeg': '.jpg', 'image/gif': '.gif', 'application/pdf': '.pdf', 'application/zip': '.zip',
  'message/rfc822': '.eml', 'application/json': '.json',
};

/** A file extension for a MIME type when the part has no file name of its own. */
export function extensionFor(type: string | null | undefined): string {
  return (type && EXTENSIONS[type]) ?? '.bin';
}
