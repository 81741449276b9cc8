import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Warning } from '../../src/capture/types.js';
import { warningLines } from '../../src/report/format.js';
import type { Side } from '../../src/tcp/types.js';
import { TlsDecryptor, type TlsDecryptorOutput } from '../../src/tls/decryptor.js';
import { looksLikeTls, parseClientHello, parseServerHello } from '../../src/tls/hello.js';
import { KeyLog } from '../../src/tls/keylog.js';
import { check, checkPrintable } from '../invariants.js';
import type { Layer } from '../layer.js';
import { decodeScript, encodeScript, type Step } from '../imap-script.js';
import { CAPTURES } from '../paths.js';
import { conversationsOf } from '../seeds.js';

const keyText = (name: string) => readFileSync(join(CAPTURES, name), 'utf8');

/** Every secret with one hex digit changed: the right client random, the wrong key. */
function wrong(text: string): string {
  return text.replace(/^(\S+ [0-9a-f]{64} )([0-9a-f])/gm, (_m, head: string, d: string) => `${head}${d === '0' ? '1' : '0'}`);
}

/** The key logs an input chooses from (its first byte): right, application secrets only, wrong, partial, none. */
const KEY_LOGS: KeyLog[] = (() => {
  const all = `${keyText('imaps-tls13.keys')}\n${keyText('starttls-tls12.keys')}`;
  return [
    KeyLog.parse(all),
    KeyLog.parse(keyText('imaps-tls13.app-secrets-only.keys')),
    KeyLog.parse(wrong(all)),
    KeyLog.parse(all.split('\n').filter((l) => !/CLIENT_TRAFFIC|CLIENT_RANDOM/.test(l)).join('\n')),
    KeyLog.parse(wrong(keyText('imaps-tls13.app-secrets-only.keys'))),
  ];
})();

/** The TLS part of the recorded TLS conversations (STARTTLS: from the first record on). */
function seeds(): Buffer[] {
  const out: Buffer[] = [];
  for (const name of ['imaps-tls13.pcap', 'starttls-tls12.pcap']) {
    for (const conv of conversationsOf(readFileSync(join(CAPTURES, name)))) {
      const started: Record<Side, boolean> = { client: false, server: false };
      const steps: Step[] = [];
      for (const ch of conv.chunks) {
        started[ch.side] ||= ch.bytes[0] === 0x16 && ch.bytes[1] === 3;
        if (started[ch.side]) steps.push(ch);
      }
      const script = encodeScript(steps);
      for (let k = 0; k < KEY_LOGS.length; k++) out.push(Buffer.concat([Buffer.from([k]), script]));
    }
  }
  return out;
}

/** What one run of a script said: plaintext and warnings in order, and how many bytes of each side's records it read. */
interface Decrypted {
  said: string[];
  warnings: Warning[];
  plain: Record<Side, number>;
  cipher: Record<Side, number>;
}

/**
 * The script through one decryptor. `resting`: after every step the decryptor is put to rest where it can rest, and
 * woken from it (as a quiet connection's is): what it says must not change.
 */
function decrypt(keys: KeyLog, script: Buffer, resting: boolean): Decrypted {
  const out: Decrypted = { said: [], warnings: [], plain: { client: 0, server: 0 }, cipher: { client: 0, server: 0 } };
  const output: TlsDecryptorOutput = {
    plaintext: (side, bytes) => {
      out.plain[side] += bytes.length;
      out.said.push(`${side} ${bytes.toString('hex')}`);
    },
    warn: (frame, message) => {
      out.warnings.push({ frame, message });
      out.said.push(`warning ${frame} ${message}`);
    },
  };
  let decryptor = new TlsDecryptor(keys, output);
  let frame = 0;
  for (const step of decodeScript(script)) {
    frame++;
    if ('gap' in step) decryptor.gap(step.side, step.gap, frame);
    else {
      out.cipher[step.side] += step.bytes.length;
      if (!resting) {
        looksLikeTls(step.bytes);
        parseClientHello(step.bytes);
        parseServerHello(step.bytes);
      }
      decryptor.push(step.side, step.bytes, frame);
    }
    const rested = resting ? decryptor.rest() : null;
    if (rested) decryptor = new TlsDecryptor(keys, output, rested);
  }
  decryptor.end(frame);
  out.said.push(`state ${JSON.stringify(decryptor.state)}`);
  return out;
}

/**
 * TLS records, handshake messages and decryption (1.3 and 1.2; AEAD and CBC) with right, wrong,
 * partial or application-only keys. Plaintext never exceeds the ciphertext it came from; warnings
 * print safely; hello parsing of any chunk never throws. A decryptor put to rest after every step it can rest at
 * says exactly what one never put to rest says.
 */
export const tlsLayer: Layer = {
  name: 'tls',
  about: 'TLS record and handshake parsing, hello sniffing, decryption with right, wrong, partial and app-only keys, rest',
  seeds,
  dictionary: [Buffer.from('160303', 'hex'), Buffer.from('170303', 'hex'), Buffer.from('140303', 'hex'), Buffer.from('150303', 'hex'), Buffer.from('160301', 'hex'), Buffer.from('0304', 'hex'), Buffer.from('002b', 'hex'), Buffer.from('1301', 'hex'), Buffer.from('c02f', 'hex')],
  run(input) {
    if (input.length === 0) return;
    const keys = KEY_LOGS[input[0]! % KEY_LOGS.length]!;
    const { said, warnings, plain, cipher } = decrypt(keys, input.subarray(1), false);
    for (const side of ['client', 'server'] as const) check(plain[side] <= cipher[side], `${side}: ${plain[side]} bytes of plaintext from ${cipher[side]} bytes of records`);
    for (const line of warningLines(warnings)) checkPrintable(line, 'warning');
    const rested = decrypt(keys, input.subarray(1), true).said;
    const differs = rested.findIndex((line, i) => line !== said[i]);
    check(differs < 0 && rested.length === said.length, `put to rest, it says otherwise at ${differs}: ${rested[differs]?.slice(0, 200)} (awake: ${said[differs]?.slice(0, 200)})`);
  },
};
