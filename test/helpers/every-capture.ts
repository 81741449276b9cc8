import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KeyLog } from '../../src/tls/keylog.js';
import { CAPTURES, hasPublic, PUBLIC } from './env.js';

/**
 * Every recorded capture, then the public ones where they are here, each with a maker of its key log (NAME.keys
 * beside it), if it has one: a new KeyLog for each read, since a read may add secrets to it.
 */
export function everyCapture(): { path: string; keys: () => KeyLog | undefined }[] {
  const recorded = readdirSync(CAPTURES).filter((f) => /\.(pcap|pcapng)$/.test(f)).map((f) => join(CAPTURES, f));
  const publicOnes = hasPublic ? readdirSync(PUBLIC).filter((f) => /\.(pcap|pcapng|cap)$/.test(f)).map((f) => join(PUBLIC, f)) : [];
  return [...recorded, ...publicOnes].map((path) => {
    const keyFile = path.replace(/\.[a-z]+$/, '.keys');
    return { path, keys: () => (existsSync(keyFile) ? KeyLog.parse(readFileSync(keyFile, 'utf8')) : undefined) };
  });
}
