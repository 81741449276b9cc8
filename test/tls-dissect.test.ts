/**
 * IMAPS and STARTTLS decrypted with key logs and dissected like plaintext: on the project's own TLS
 * recordings the commands pair exactly as the client's own plaintext says; the public STARTTLS capture
 * with renegotiation shows the four commands tshark finds.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyzeCapture } from '../src/analysis/analyzer.js';
import { KeyLog } from '../src/tls/keylog.js';
import { CAPTURES, NO_PUBLIC, hasPublic, publicCapture, unavailable } from './helpers/env.js';
import { truthExchanges } from './helpers/ground-truth.js';

const keys = (file: string) => KeyLog.parse(readFileSync(file, 'utf8'));

function plainTruth(scenario: string) {
  const m = JSON.parse(readFileSync(join(CAPTURES, scenario, 'manifest.json'), 'utf8'));
  const c = m.connections[0];
  return truthExchanges({ clientPort: c.clientPort, user: c.user, toServer: readFileSync(join(CAPTURES, scenario, c.plainToServer)), toClient: readFileSync(join(CAPTURES, scenario, c.plainToClient)) });
}

const cases: [string, string, () => KeyLog | undefined][] = [
  ['imaps-tls13 with its key log', 'imaps-tls13.pcap', () => keys(join(CAPTURES, 'imaps-tls13.keys'))],
  ['imaps-tls13 with only the application traffic secrets', 'imaps-tls13.pcap', () => keys(join(CAPTURES, 'imaps-tls13.app-secrets-only.keys'))],
  ['imaps-tls13 with the secrets embedded in the pcapng', join('imaps-tls13', 'imaps-tls13.dsb.pcapng'), () => undefined],
  ['starttls-tls12 with its key log', 'starttls-tls12.pcap', () => keys(join(CAPTURES, 'starttls-tls12.keys'))],
  ['starttls-tls12 with the secrets embedded in the pcapng', join('starttls-tls12', 'starttls-tls12.dsb.pcapng'), () => undefined],
];

for (const [name, file, key] of cases) {
  test(`${name}: commands, statuses and untagged counts equal the client's plaintext`, async () => {
    const a = await analyzeCapture(join(CAPTURES, file), { keepExchanges: true, keys: key() });
    const scenario = file.startsWith('imaps') ? 'imaps-tls13' : 'starttls-tls12';
    const truth = plainTruth(scenario);
    const ours = a.exchanges!.filter((e) => e.status !== null);
    assert.deepEqual(ours.map((e) => ({ tag: e.tag, command: e.command, status: e.status, untagged: e.untagged })), truth.exchanges);
    const info = a.connections[0]!;
    assert.equal(info.tls?.decrypted, true);
    assert.equal(info.tls?.version, scenario === 'imaps-tls13' ? 'TLS 1.3' : 'TLS 1.2');
    assert.equal(info.user, 'alice');
    assert.equal(ours.reduce((n, e) => n + e.untagged, 0) + info.unsolicited + (info.greeting ? 1 : 0), truth.untagged);
    assert.deepEqual(a.warnings, []);
  });
}

test('wrong keys: a warning, nothing after the handshake parsed, and the reason is kept', async () => {
  const other = KeyLog.parse(readFileSync(join(CAPTURES, 'imaps-tls13.keys'), 'utf8'));
  const a = await analyzeCapture(join(CAPTURES, 'starttls-tls12.pcap'), { keepExchanges: true, keys: other });
  assert.deepEqual(a.exchanges!.map((e) => e.command), ['CAPABILITY', 'STARTTLS']);
  const tls = a.connections[0]!.tls!;
  assert.equal(tls.decrypted, false);
  assert.ok(tls.decryptionNote, 'why it was not decrypted');
  assert.ok(a.warnings.some((w) => /TLS/.test(w.message)), JSON.stringify(a.warnings));
});

test('lekensteyn-imap-ssl (STARTTLS, TLS 1.2, renegotiation): the four commands tshark finds, and no fewer', { skip: unavailable(!hasPublic && NO_PUBLIC) }, async () => {
  const a = await analyzeCapture(publicCapture('lekensteyn-imap-ssl.pcapng'), { keepExchanges: true, keys: keys(publicCapture('lekensteyn-imap-ssl.keys')) });
  assert.deepEqual(a.exchanges!.map((e) => [e.tag, e.command, e.status]), [['.', 'CAPABILITY', 'OK'], ['.', 'STARTTLS', 'OK'], ['a001', 'CAPABILITY', 'OK'], ['a002', 'CAPABILITY', 'OK']]);
  assert.equal(a.connections[0]!.tls?.decrypted, true);
});
