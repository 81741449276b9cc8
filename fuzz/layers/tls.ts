import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Warning } from '../../src/capture/types.js';
import { warningLines } from '../../src/report/format.js';
import type { Side } from '../../src/tcp/types.js';
import { TlsDecryptor } from '../../src/tls/decryptor.js';
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

/**
 * TLS records, handshake messages and decryption (1.3 and 1.2; AEAD and CBC) with right, wrong,
 * partial or application-only keys. Plaintext never exceeds the ciphertext it came from; warnings
 * print safely; hello parsing of any chunk never throws.
 */
export const tlsLayer: Layer = {
  name: 'tls',
  about: 'TLS record and handshake parsing, hello sniffing, decryption with right, wrong, partial and app-only keys',
  seeds,
  dictionary: [Buffer.from('160303', 'hex'), Buffer.from('170303', 'hex'), Buffer.from('140303', 'hex'), Buffer.from('150303', 'hex'), Buffer.from('160301', 'hex'), Buffer.from('0304', 'hex'), Buffer.from('002b', 'hex'), Buffer.from('1301', 'hex'), Buffer.from('c02f', 'hex')],
  run(input) {
    if (input.length === 0) return;
    const keys = KEY_LOGS[input[0]! % KEY_LOGS.length]!;
    const warnings: Warning[] = [];
    const plain: Record<Side, number> = { client: 0, server: 0 };
    const cipher: Record<Side, number> = { client: 0, server: 0 };
    const decryptor = new TlsDecryptor(keys, {
      plaintext: (side, bytes) => { plain[side] += bytes.length; },
      warn: (frame, message) => warnings.push({ frame, message }),
    });
    let frame = 0;
    for (const step of decodeScript(input.subarray(1))) {
      frame++;
      if ('gap' in step) {
        decryptor.gap(step.side, step.gap, frame);
        continue;
      }
      cipher[step.side] += step.bytes.length;
      looksLikeTls(step.bytes);
      parseClientHello(step.bytes);
      parseServerHello(step.bytes);
      decryptor.push(step.side, step.bytes, frame);
    }
    decryptor.end(frame);
    for (const side of ['client', 'server'] as const) check(plain[side] <= cipher[side], `${side}: ${plain[side]} bytes of plaintext from ${cipher[side]} bytes of records`);
    for (const line of warningLines(warnings)) checkPrintable(line, 'warning');
  },
};
