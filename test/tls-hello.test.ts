/**
 * TLS hello sniffing, checked against real handshakes: node:tls talks to itself on 127.0.0.1 through a
 * recording TCP proxy, and what Node reports (SNI, protocol, cipher, client random via keylog) must match
 * what the parser reads from the recorded bytes. Then the same bytes cut, refragmented and mutated.
 */
import { NO_OPENSSL, unavailable } from './helpers/env.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import net from 'node:net';
import tls from 'node:tls';
import { once } from 'node:events';
import {
  cipherSuiteName,
  helloStillPossible,
  isGrease,
  looksLikeTls,
  parseClientHello,
  parseServerHello,
  tlsVersionName,
} from '../src/tls/hello.js';

// A throwaway self-signed P-256 pair for CN=imap.example.test; the client does not verify it.
const KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgNGblW1S+IE2YhtJJ
JgD4IDyKu8D7oeg1Dh0ZSJy+rZChRANCAARWKKzF3Cwqawi+giog+nwKPIkhW7v9
S4Jb423ctKSZff+KqXuHnlURfGpYCBeuEjW5fSbVsp+jILYgLSRjCkbA
-----END PRIVATE KEY-----
`;
const CERT = `-----BEGIN CERTIFICATE-----
MIIBkDCCATWgAwIBAgIUEmAClCEkV70mSvb8UIs3Q63P/6QwCgYIKoZIzj0EAwIw
HDEaMBgGA1UEAwwRaW1hcC5leGFtcGxlLnRlc3QwIBcNMjYxMTI4MDUwMTEwWhgP
MjEyNjExMDQwNTAxMTBaMBwxGjAYBgNVBAMMEWltYXAuZXhhbXBsZS50ZXN0MFkw
EwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEViisxdwsKmsIvoIqIPp8CjyJIVu7/UuC
W+Nt3LSkmX3/iql7h55VEXxqWAgXrhI1uX0m1bKfoyC2IC0kYwpGwKNTMFEwHQYD
VR0OBBYEFC1C0/6BH9KUgUjRzN7FuiCiBoBrMB8GA1UdIwQYMBaAFC1C0/6BH9KU
gUjRzN7FuiCiBoBrMA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZIzj0EAwIDSQAwRgIh
AOfnuGkzCqxw3McZtBpskPKoGGA3ASAnBDunVMWIPz4lAiEAncFlUspMUAIUJEiS
II44ZFC91F618NV41wrXD+LQnJU=
-----END CERTIFICATE-----
`;

const SNI = 'imap.example.test';

interface Recorded {
  clientToServer: Buffer;
  serverToClient: Buffer;
  protocol: string | null;
  cipher: tls.CipherNameAndProtocol;
  alpn: string | false | null;
  serverSawName: string | false | null;
  clientRandom: Buffer;
}

type ClientOptions = Pick<tls.ConnectionOptions, 'minVersion' | 'maxVersion' | 'ciphers' | 'ALPNProtocols'>;

/** One real handshake through a proxy that records both directions. */
async function handshake(options: ClientOptions): Promise<Recorded> {
  let serverSawName: string | false | null = null;
  const server = tls.createServer({ key: KEY, cert: CERT, ALPNProtocols: ['imap'] }, (s) => {
    serverSawName = s.servername;
    s.on('error', () => {}).end();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');

  const c2s: Buffer[] = [];
  const s2c: Buffer[] = [];
  const proxy = net.createServer((down) => {
    const up = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
    down.on('data', (d: Buffer) => { c2s.push(d); up.write(d); });
    up.on('data', (d: Buffer) => { s2c.push(d); down.write(d); });
    down.on('error', () => up.destroy()).on('close', () => up.destroy());
    up.on('error', () => down.destroy()).on('close', () => down.destroy());
  });
  proxy.listen(0, '127.0.0.1');
  await once(proxy, 'listening');

  let clientRandom = Buffer.alloc(0);
  const client = tls.connect({
    port: (proxy.address() as net.AddressInfo).port,
    host: '127.0.0.1',
    servername: SNI,
    rejectUnauthorized: false,
    ...options,
  });
  // NSS key log lines name the client random, the one value Node exposes that the hello carries.
  client.on('keylog', (line: Buffer) => {
    clientRandom = Buffer.from(line.toString('latin1').split(' ')[1]!, 'hex');
  });
  await once(client, 'secureConnect');
  const recorded = {
    protocol: client.getProtocol(),
    cipher: client.getCipher(),
    alpn: client.alpnProtocol,
  };
  client.destroy();
  await once(client, 'close');
  proxy.close();
  server.close();
  await Promise.all([once(proxy, 'close'), once(server, 'close')]);
  return {
    ...recorded,
    clientToServer: Buffer.concat(c2s),
    serverToClient: Buffer.concat(s2c),
    serverSawName,
    clientRandom,
  };
}

/** Deterministic PRNG (mulberry32) so fuzz failures reproduce. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Length of the first record, header included. */
function firstRecordLength(b: Buffer): number {
  return 5 + b.readUInt16BE(3);
}

/** Re-split the handshake bytes of b's first record into records of at most `size` bytes. */
function refragment(b: Buffer, size: number): Buffer {
  const payload = b.subarray(5, firstRecordLength(b));
  const records: Buffer[] = [];
  for (let at = 0; at < payload.length; at += size) {
    const part = payload.subarray(at, at + size);
    const header = Buffer.from([0x16, 0x03, 0x03, 0, 0]);
    header.writeUInt16BE(part.length, 3);
    records.push(header, part);
  }
  return Buffer.concat(records);
}

const tls12 = await handshake({ minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2', ALPNProtocols: ['imap'] });
const tls13 = await handshake({ minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3', ALPNProtocols: ['imap', 'x-other'] });
const chacha = await handshake({ maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-CHACHA20-POLY1305' });

test('the recorded handshakes are what was asked for', () => {
  assert.equal(tls12.protocol, 'TLSv1.2');
  assert.equal(tls13.protocol, 'TLSv1.3');
  assert.equal(chacha.protocol, 'TLSv1.2');
  assert.equal(tls12.serverSawName, SNI);
  assert.equal(tls13.alpn, 'imap');
});

test('TLS 1.2 ClientHello and ServerHello', () => {
  const ch = parseClientHello(tls12.clientToServer);
  assert.ok(ch);
  assert.equal(ch.legacyVersion, 'TLS 1.2');
  // OpenSSL omits supported_versions when it cannot offer TLS 1.3.
  assert.deepEqual(ch.supportedVersions, []);
  assert.equal(ch.sni, SNI);
  assert.deepEqual(ch.alpn, ['imap']);
  assert.equal(ch.random.length, 32);
  assert.deepEqual(ch.random, tls12.clientRandom);
  assert.ok(ch.cipherSuites.includes(0xc02b), 'offers ECDHE-ECDSA-AES128-GCM-SHA256');

  const sh = parseServerHello(tls12.serverToClient);
  assert.ok(sh);
  assert.equal(sh.version, 'TLS 1.2');
  assert.equal(sh.cipherName, tls12.cipher.standardName);
  assert.equal(sh.random.length, 32);
  assert.ok(ch.cipherSuites.includes(sh.cipherSuite));
});

test('TLS 1.3 hellos: version from supported_versions, not the frozen legacy field', () => {
  const ch = parseClientHello(tls13.clientToServer);
  assert.ok(ch);
  assert.equal(ch.legacyVersion, 'TLS 1.2');
  assert.deepEqual(ch.supportedVersions, ['TLS 1.3', 'TLS 1.2']);
  assert.equal(ch.sni, SNI);
  assert.deepEqual(ch.alpn, ['imap', 'x-other']);
  assert.deepEqual(ch.random, tls13.clientRandom);
  assert.ok(ch.cipherSuites.includes(0x1301));

  const sh = parseServerHello(tls13.serverToClient);
  assert.ok(sh);
  assert.equal(sh.version, 'TLS 1.3');
  assert.equal(sh.cipherName, tls13.cipher.standardName);
  assert.match(sh.cipherName ?? '', /^TLS_(AES|CHACHA20)_/);
});

test('a restricted cipher list is reported as offered and chosen', () => {
  const ch = parseClientHello(chacha.clientToServer);
  assert.ok(ch);
  // The one real suite plus the renegotiation SCSV OpenSSL always adds.
  assert.deepEqual(ch.cipherSuites.filter((s) => s !== 0x00ff), [0xcca9]);
  const sh = parseServerHello(chacha.serverToClient);
  assert.equal(sh?.cipherSuite, 0xcca9);
  assert.equal(sh?.cipherName, 'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256');
  assert.equal(sh?.cipherName, chacha.cipher.standardName);
});

test('hellos parse from the wrong direction as null', () => {
  assert.equal(parseClientHello(tls13.serverToClient), null);
  assert.equal(parseServerHello(tls13.clientToServer), null);
});

test('a hello fragmented over several records is reassembled', () => {
  for (const rec of [tls12, tls13]) {
    const whole = parseClientHello(rec.clientToServer);
    for (const size of [1, 3, 4, 5, 37, 100]) {
      const split = refragment(rec.clientToServer, size);
      assert.deepEqual(parseClientHello(split), whole, `fragments of ${size}`);
      // Followed by a ChangeCipherSpec and junk: only the hello's records are read.
      const trailed = Buffer.concat([split, Buffer.from([0x14, 3, 3, 0, 1, 1]), Buffer.from('junk')]);
      assert.deepEqual(parseClientHello(trailed), whole);
      assert.equal(parseClientHello(split.subarray(0, split.length - 1)), null);
    }
    assert.deepEqual(parseServerHello(refragment(rec.serverToClient, 7)), parseServerHello(rec.serverToClient));
  }
});

test('a non-handshake record before the hello ends the search', () => {
  const ccs = Buffer.from([0x14, 3, 3, 0, 1, 1]);
  assert.equal(parseClientHello(Buffer.concat([ccs, tls13.clientToServer])), null);
  // A handshake split by an alert cannot be completed.
  const split = refragment(tls13.clientToServer, 50);
  const alert = Buffer.from([0x15, 3, 3, 0, 2, 2, 40]);
  assert.equal(parseClientHello(Buffer.concat([split.subarray(0, 55), alert, split.subarray(55)])), null);
});

test('every proper prefix of a hello is incomplete: null, no throw', () => {
  for (const [bytes, parse] of [
    [tls12.clientToServer, parseClientHello],
    [tls13.clientToServer, parseClientHello],
    [tls12.serverToClient, parseServerHello],
    [tls13.serverToClient, parseServerHello],
  ] as const) {
    const full = firstRecordLength(bytes);
    assert.notEqual(parse(bytes.subarray(0, full)), null);
    for (let n = 0; n < full; n++) assert.equal(parse(bytes.subarray(0, n)), null, `prefix ${n}`);
  }
});

test('random buffers and mutated hellos never throw', () => {
  const rand = prng(0x1a2b3c);
  const byte = (): number => Math.floor(rand() * 256);
  for (let i = 0; i < 3000; i++) {
    const b = Buffer.from(Array.from({ length: Math.floor(rand() * 200) }, byte));
    // Half of them get a plausible handshake record header so the parsers go deeper.
    if (i % 2 === 0 && b.length >= 9) {
      b.set([0x16, 0x03, 0x01]);
      b.writeUInt16BE(b.length - 5, 3);
      b[5] = 1 + (i % 4 === 0 ? 1 : 0);
    }
    looksLikeTls(b);
    parseClientHello(b);
    parseServerHello(b);
  }
  for (const original of [tls12.clientToServer, tls13.clientToServer, tls13.serverToClient]) {
    const hello = original.subarray(0, firstRecordLength(original));
    for (let i = 0; i < 3000; i++) {
      const b = Buffer.from(hello);
      for (let flips = 1 + Math.floor(rand() * 4); flips > 0; flips--) {
        b[Math.floor(rand() * b.length)] = i % 3 === 0 ? 0xff : byte();
      }
      parseClientHello(b);
      parseServerHello(b);
    }
  }
});

test('hostile inner lengths inside a complete message give null', () => {
  const ch = tls13.clientToServer.subarray(0, firstRecordLength(tls13.clientToServer));
  const sessionIdLengthAt = 5 + 4 + 2 + 32;
  const bad = Buffer.from(ch);
  bad[sessionIdLengthAt] = 0xff;
  assert.equal(parseClientHello(bad), null);
  // A handshake length claiming 16 MB: incomplete, not an allocation.
  const huge = Buffer.from(ch);
  huge.set([0xff, 0xff, 0xff], 6);
  assert.equal(parseClientHello(huge), null);
});

test('looksLikeTls', () => {
  assert.ok(looksLikeTls(tls12.clientToServer));
  assert.ok(looksLikeTls(tls13.serverToClient));
  assert.ok(looksLikeTls(Buffer.from([0x16, 0x03, 0x01])));
  assert.ok(looksLikeTls(Buffer.from([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x46])));
  assert.ok(looksLikeTls(Buffer.from([0x17, 0x03, 0x03, 0x00, 0x20])));
  assert.ok(!looksLikeTls(Buffer.from('* OK [CAPABILITY IMAP4rev1 STARTTLS] ready\r\n')));
  assert.ok(!looksLikeTls(Buffer.from('a001 STARTTLS\r\n')));
  assert.ok(!looksLikeTls(Buffer.alloc(0)));
  assert.ok(!looksLikeTls(Buffer.from([0x16, 0x03])));
  assert.ok(!looksLikeTls(Buffer.from([0x16, 0x03, 0x05, 0x00, 0x10])), 'minor version 5');
  assert.ok(!looksLikeTls(Buffer.from([0x16, 0x02, 0x01, 0x00, 0x10])), 'major version 2');
  assert.ok(!looksLikeTls(Buffer.from([0x16, 0x03, 0x01, 0x00, 0x00])), 'empty record');
  assert.ok(!looksLikeTls(Buffer.from([0x16, 0x03, 0x01, 0xff, 0xff])), 'oversized record');
  assert.ok(!looksLikeTls(Buffer.from([0x14, 0x03, 0x03, 0x00, 0x01, 0x01])), 'ChangeCipherSpec first');
});

test('SSLv2-compatible ClientHello', () => {
  const challenge = Buffer.alloc(16, 0xab);
  const specs = Buffer.from([0x01, 0x00, 0x80, 0x00, 0x00, 0x2f, 0x00, 0xc0, 0x14]);
  const body = Buffer.concat([
    Buffer.from([0x01, 0x03, 0x01, 0x00, specs.length, 0x00, 0x00, 0x00, challenge.length]),
    specs,
    challenge,
  ]);
  const hello = Buffer.concat([Buffer.from([0x80, body.length]), body]);
  assert.ok(looksLikeTls(hello));
  const ch = parseClientHello(hello);
  assert.ok(ch);
  assert.equal(ch.legacyVersion, 'TLS 1.0');
  assert.deepEqual(ch.cipherSuites, [0x002f, 0xc014]);
  assert.deepEqual(ch.random, Buffer.concat([Buffer.alloc(16), challenge]));
  assert.equal(ch.sni, null);
  assert.equal(parseServerHello(hello), null);
  for (let n = 0; n < hello.length; n++) assert.equal(parseClientHello(hello.subarray(0, n)), null);
});

test('tlsVersionName and isGrease', () => {
  assert.equal(tlsVersionName(0x0300), 'SSL 3.0');
  assert.equal(tlsVersionName(0x0301), 'TLS 1.0');
  assert.equal(tlsVersionName(0x0302), 'TLS 1.1');
  assert.equal(tlsVersionName(0x0303), 'TLS 1.2');
  assert.equal(tlsVersionName(0x0304), 'TLS 1.3');
  assert.equal(tlsVersionName(0x7f17), 'TLS 1.3 draft 23');
  assert.equal(tlsVersionName(0x0a0a), '0x0a0a');
  assert.equal(tlsVersionName(0xfefd), '0xfefd');
  assert.ok(isGrease(0x0a0a) && isGrease(0xfafa) && isGrease(0x3a3a));
  assert.ok(!isGrease(0x0a1a) && !isGrease(0x0303) && !isGrease(0x1301));
});

const opensslNames = spawnSync('openssl', ['ciphers', '-V', '-stdname', 'ALL:COMPLEMENTOFALL'], {
  encoding: 'utf8',
});
test('cipher names agree with openssl where it knows the suite', { skip: unavailable(opensslNames.status !== 0 && NO_OPENSSL) }, () => {
  let checked = 0;
  for (const line of opensslNames.stdout.split('\n')) {
    const m = /0x([0-9A-F]{2}),0x([0-9A-F]{2}) - (\S+)/.exec(line);
    if (!m) continue;
    const ours = cipherSuiteName(parseInt(m[1]! + m[2]!, 16));
    if (ours !== null) {
      assert.equal(ours, m[3]);
      checked++;
    }
  }
  assert.ok(checked >= 10, `only ${checked} suites cross-checked`);
});

test('helloStillPossible: a direction that begins with its hello, or may still; not one that begins with anything else', () => {
  // Every prefix of the real hellos may still become them.
  for (let n = 0; n <= 40; n++) {
    assert.equal(helloStillPossible(tls12.clientToServer.subarray(0, n), 'client'), true, `ClientHello, ${n} bytes`);
    assert.equal(helloStillPossible(tls12.serverToClient.subarray(0, n), 'server'), true, `ServerHello, ${n} bytes`);
  }
  // A ClientHello is no server's hello, nor a ServerHello a client's.
  assert.equal(helloStillPossible(tls12.clientToServer.subarray(0, 6), 'server'), false);
  assert.equal(helloStillPossible(tls12.serverToClient.subarray(0, 6), 'client'), false);
  // Application data or an alert first: a capture that began mid-connection.
  assert.equal(helloStillPossible(Buffer.from([23, 3, 3, 0, 40]), 'client'), false);
  assert.equal(helloStillPossible(Buffer.from([21, 3, 3, 0, 2]), 'server'), false);
  // An SSLv2-compatible ClientHello begins with the high bit set: the client's only.
  assert.equal(helloStillPossible(Buffer.from([0x80, 0x2e, 0x01]), 'client'), true);
  assert.equal(helloStillPossible(Buffer.from([0x80, 0x2e, 0x01]), 'server'), false);
});
