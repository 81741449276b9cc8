/**
 * Hostile input end to end: real captures with random bytes changed, cut or repeated go through the whole
 * pipeline (reader, decoder, TCP, IMAP, TLS, fetch tracking). Nothing may throw; damage becomes warnings.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeWithFetches } from '../src/analysis/full.js';
import { KeyLog } from '../src/tls/keylog.js';
import { CAPTURES } from './helpers/env.js';

/** Small deterministic PRNG so a failure can be replayed. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    return x / 2 ** 32;
  };
}

function mutate(original: Buffer, random: () => number): Buffer {
  const b = Buffer.from(original);
  const kind = Math.floor(random() * 3);
  if (kind === 0) {
    for (let i = 0; i < 1 + random() * 20; i++) b[Math.floor(random() * b.length)] = Math.floor(random() * 256);
    return b;
  }
  if (kind === 1) return b.subarray(0, Math.floor(random() * b.length));
  const at = Math.floor(random() * b.length);
  const len = Math.floor(random() * 2000);
  return Buffer.concat([b.subarray(0, at), b.subarray(Math.max(0, at - len), at), b.subarray(at)]);
}

test('mutated real captures never make the pipeline throw', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'imapscope-fuzz-'));
  const keys = KeyLog.parse(readFileSync(join(CAPTURES, 'starttls-tls12.keys'), 'utf8'));
  try {
    const sources = ['seed-alice.pcap', 'mbsync.pcap', 'append-idle.pcap', 'starttls-tls12.pcap', 'offlineimap.pcapng'];
    let warned = 0;
    for (const [s, name] of sources.entries()) {
      const original = readFileSync(join(CAPTURES, name));
      const random = rng(1000 + s);
      for (let i = 0; i < 30; i++) {
        const path = join(dir, `${i}-${name}`);
        writeFileSync(path, mutate(original, random));
        try {
          const a = await analyzeWithFetches(path, { keys, keepExchanges: true });
          if (a.warnings.length > 0) warned++;
        } catch (err) {
          // Only "this is not a capture at all" may be refused, and as a CaptureError (one line, exit 2).
          assert.equal((err as Error).constructor.name, 'CaptureError', `${name} mutation ${i}: ${(err as Error).stack}`);
        }
      }
    }
    assert.ok(warned > 50, `damage was noticed and reported (${warned} of 150 runs warned)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
