/** Encrypted connections are reported as TLS with the version, cipher and SNI tshark also sees; never parsed as IMAP. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { analyzeCapture } from '../src/analysis/analyzer.js';
import { cipherSuiteName, tlsVersionName } from '../src/tls/hello.js';
import { CAPTURES, NO_PUBLIC, NO_TSHARK, hasPublic, hasTshark, publicCapture, tshark, unavailable } from './helpers/env.js';

const files = [join(CAPTURES, 'imaps-tls13.pcap'), join(CAPTURES, 'starttls-tls12.pcap'),
  ...(hasPublic ? ['ndpi-imaps.pcap', 'zeek-telesec.pcap', 'zeek-imap-starttls.pcap', 'lekensteyn-imap-ssl.pcapng', 'chrissanders-mail_receiver_server_3.pcapng'].map(publicCapture) : [])];
unavailable(!hasPublic && NO_PUBLIC);

for (const path of files) {
  test(`TLS facts agree with tshark: ${path.split('/').pop()}`, { skip: unavailable(!hasTshark && NO_TSHARK) }, async () => {
    const a = await analyzeCapture(path, { keepExchanges: true });
    const hellos = new Map<number, { suite: string; version: string }>();
    for (const line of tshark(['-r', path, '-Y', 'tls.handshake.type == 2', '-T', 'fields', '-e', 'tcp.stream', '-e', 'tls.handshake.ciphersuite', '-e', 'tls.handshake.version', '-e', 'tls.handshake.extensions.supported_version']).split('\n').filter(Boolean)) {
      const [stream, suite, legacy, supported] = line.split('\t');
      if (!hellos.has(Number(stream))) hellos.set(Number(stream), { suite: suite!.split(',')[0]!, version: supported || legacy!.split(',')[0]! });
    }
    const snis = new Map<number, string>();
    for (const line of tshark(['-r', path, '-Y', 'tls.handshake.type == 1', '-T', 'fields', '-e', 'tcp.stream', '-e', 'tls.handshake.extensions_server_name']).split('\n').filter(Boolean)) {
      const [stream, sni] = line.split('\t');
      if (sni && !snis.has(Number(stream))) snis.set(Number(stream), sni);
    }
    assert.ok(hellos.size > 0, 'tshark saw a ServerHello');
    for (const [stream, h] of hellos) {
      const conn = a.connections.find((c) => c.conn.id === stream)!;
      assert.ok(conn.tls, `connection ${stream} is reported as TLS`);
      assert.equal(conn.tls.version, tlsVersionName(Number(h.version)));
      assert.equal(conn.tls.cipher, cipherSuiteName(Number(h.suite)) ?? h.suite);
      assert.equal(conn.tls.sni, snis.get(stream) ?? null);
      // Nothing after the switch was read as IMAP: every exchange began before the TLS frame.
      for (const ex of a.exchanges!.filter((e) => e.conn === stream)) assert.ok((ex.requestFrame ?? 0) < conn.tls.frame);
    }
  });
}
