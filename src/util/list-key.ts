import { createHash } from 'node:crypto';

/** Lists up to this long are their own key. */
const SHORT_LIST = 256;

/** Entries serialised at a time into a long list's digest. */
const CHUNK = 1024;

/**
 * A key for a list of strings or numbers that two lists share exactly when they are equal: the list's JSON while it is
 * short; once long, its length and a SHA-256 digest of its JSON, made a chunk at a time. compare numbers each distinct
 * sequence of commands by such a key, and a connection of 400,000 commands made a key of 12 MB, kept to the end.
 * (The chunks' texts, each whole JSON, joined in an order the length fixes, tell lists apart as the whole JSON does.)
 */
export function listKey(list: readonly (string | number)[]): string {
  if (list.length <= SHORT_LIST) return JSON.stringify(list);
  const hash = createHash('sha256');
  for (let i = 0; i < list.length; i += CHUNK) hash.update(JSON.stringify(list.slice(i, i + CHUNK)));
  return `#${list.length}:${hash.digest('base64')}`;
}
