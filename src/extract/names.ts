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

/** Hands out names that differ (case-insensitively, for case-insensitive file systems) from all before. */
export class UniqueNames {
  private readonly used = new Set<string>();
  /** Per name asked for, the counter to try next: many parts of one name cost linear time, not quadratic. */
  private readonly nextCounter = new Map<string, number>();

  take(name: string): string {
    const dot = name.lastIndexOf('.');
    const stem = dot > 0 ? name.slice(0, dot) : name;
    const ext = dot > 0 ? name.slice(dot) : '';
    const key = name.toLowerCase();
    let candidate = name;
    for (let n = this.nextCounter.get(key) ?? 2; this.used.has(candidate.toLowerCase()); n++) {
      // The stem is cut to make room for the counter: a counter cut off would give the same name forever.
      const counter = `-${n}`;
      candidate = truncateBytes(stem, MAX_NAME_BYTES - Buffer.byteLength(ext) - counter.length) + counter + ext;
      this.nextCounter.set(key, n + 1);
    }
    this.used.add(candidate.toLowerCase());
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
