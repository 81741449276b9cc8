/**
 * TLS decryption with key logs, checked against plaintext nobody computed with this code: Dovecot's
 * rawlog of the recorded IMAPS/STARTTLS captures, tshark on the public renegotiation capture, and what
 * Node / OpenSSL endpoints actually sent in live handshakes. Then the failure cases: wrong keys,
 * corrupt and truncated records, gaps — warnings, never an exception, never garbage handed on.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import crypto from 'node:crypto';
import tls from 'node:tls';
import { streamCapture } from '../src/pipeline.js';
import { runSession } from './helpers/imap.js';
import { cliJson } from './helpers/cli.js';
import type { Side } from '../src/tcp/types.js';
import { TlsDecryptor, type TlsDecryptorOutput, type TlsDecryptorState } from '../src/tls/decryptor.js';
import { HandshakeReader, serverHelloOf } from '../src/tls/handshake-reader.js';
import { DSB_TLS_KEY_LOG, KeyLog, keyLogFromDsb } from '../src/tls/keylog.js';
import { readKeyLogFile } from '../src/tls/keylog-file.js';
import { hkdfExpandLabel, tls12Prf } from '../src/tls/primitives.js';
import { tls13Suite } from '../src/tls/suites.js';
import { Tls13Protection } from '../src/tls/tls13.js';
import { keyBytes, keyText } from '../src/util/bytes.js';
import type { TlsRecord } from '../src/tls/record-reader.js';
import { withScaleCapture } from './helpers/scale.js';
import { collectGarbage } from './helpers/gc.js';
import { CAPTURES, NO_PUBLIC, NO_TSHARK, hasPublic, hasTshark, publicCapture, tshark, unavailable, hasOpenssl, NO_OPENSSL, skipIfMissing } from './helpers/env.js';

// ---------------------------------------------------------------- helpers

interface Chunk {
  side: Side;
  bytes: Buffer;
  frame: number;
}

interface Result {
  client: Buffer;
  server: Buffer;
  warnings: string[];
  /** Plaintext and warnings in the order they came out, to check nothing follows a failure. */
  log: Array<{ kind: 'plain' | 'warn'; text: string; side?: Side }>;
  state: TlsDecryptorState;
}

/**
 * Feed chunks to a fresh decryptor through one scratch buffer that is overwritten after every call,
 * so a decryptor that kept a reference instead of a copy would decrypt garbage. Then the same with the decryptor put
 * to rest and woken after every chunk where it can rest (as a quiet connection's is): the two must say the same.
 */
function decrypt(keys: KeyLog, chunks: Chunk[], end = true): Result {
  const { rests: _never, ...awake } = decryptOnce(keys, chunks, end, false);
  const { rests, ...rested } = decryptOnce(keys, chunks, end, true);
  assert.deepEqual(rested, awake, `the same with the decryptor put to rest and woken (${rests} times)`);
  return awake;
}

function decryptOnce(keys: KeyLog, chunks: Chunk[], end: boolean, resting: boolean): Result & { rests: number } {
  const out: Record<Side, Buffer[]> = { client: [], server: [] };
  const warnings: string[] = [];
  const log: Result['log'] = [];
  const output: TlsDecryptorOutput = {
    plaintext: (side, bytes) => { out[side].push(Buffer.from(bytes)); log.push({ kind: 'plain', text: bytes.toString('latin1'), side }); },
    warn: (_frame, message) => { warnings.push(message); log.push({ kind: 'warn', text: message }); },
  };
  let d = new TlsDecryptor(keys, output);
  let rests = 0;
  const scratch = Buffer.alloc(64 * 1024);
  for (const c of chunks) {
    const view = c.bytes.length <= scratch.length ? scratch.subarray(0, c.bytes.length) : Buffer.alloc(c.bytes.length);
    c.bytes.copy(view);
    d.push(c.side, view, c.frame);
    view.fill(0xa5);
    if (resting && d.rest() !== null) {
      d = restAndWake(d, keys, output);
      rests++;
    }
  }
  if (end) d.end(chunks.at(-1)?.frame ?? 0);
  return { client: Buffer.concat(out.client), server: Buffer.concat(out.server), warnings, log, state: { ...d.state }, rests };
}

/** `d` put to rest, and the decryptor woken from it; which rests as `d` did. */
function restAndWake(d: TlsDecryptor, keys: KeyLog, output: TlsDecryptorOutput): TlsDecryptor {
  const resting = d.rest()!;
  const woken = new TlsDecryptor(keys, output, resting);
  assert.deepEqual(woken.rest(), resting, 'woken, it rests as it did');
  return woken;
}

/** Split every chunk into pieces whose sizes cycle through `sizes`, keeping the order. */
function rechunk(chunks: Chunk[], sizes: number[]): Chunk[] {
  const out: Chunk[] = [];
  let k = 0;
  for (const c of chunks) {
    for (let at = 0; at < c.bytes.length;) {
      const n = sizes[k++ % sizes.length]!;
      out.push({ side: c.side, bytes: c.bytes.subarray(at, at + n), frame: c.frame });
      at += n;
    }
  }
  return out;
}

/** Every byte of one side before every byte of the other: the decryptor must hold records back. */
function sideFirst(chunks: Chunk[], first: Side): Chunk[] {
  return [...chunks.filter((c) => c.side === first), ...chunks.filter((c) => c.side !== first)];
}

/**
 * Where TLS starts in each direction: right after the STARTTLS command line (client) and after the
 * tagged OK line answering it (server); 0 for implicit TLS.
 */
function tlsStart(c2s: Buffer, s2c: Buffer): Record<Side, number> {
  const client = c2s.toString('latin1');
  const m = /^(\S+) STARTTLS\r?\n/im.exec(client);
  if (!m) return { client: 0, server: 0 };
  // Tags may repeat (the public capture uses "." for all): the k-th command with this tag gets the
  // k-th tagged response with it.
  const tag = m[1]!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const k = client.slice(0, m.index + m[0].length).match(new RegExp(`^${tag} `, 'gm'))!.length;
  const responses = [...s2c.toString('latin1').matchAll(new RegExp(`^${tag} (OK|NO|BAD)[^\\n]*\\n`, 'gm'))];
  const ok = responses[k - 1];
  assert.ok(ok && ok[1] === 'OK', 'the server answered STARTTLS with OK');
  return { client: m.index + m[0].length, server: ok.index! + ok[0].length };
}

/** Drop the first `skip[side]` bytes of each side from a chunk list. */
function afterPrefix(chunks: Chunk[], skip: Record<Side, number>): Chunk[] {
  const left = { ...skip };
  const out: Chunk[] = [];
  for (const c of chunks) {
    const cut = Math.min(left[c.side], c.bytes.length);
    left[c.side] -= cut;
    if (cut < c.bytes.length) out.push({ ...c, bytes: c.bytes.subarray(cut) });
  }
  return out;
}

/** The TCP payload of the capture's one IMAP connection, per segment in capture order, and its DSB secrets. */
async function captureChunks(path: string): Promise<{ chunks: Chunk[]; secrets: Array<{ type: number; data: Buffer }> }> {
  const chunks: Chunk[] = [];
  const conns = new Set<number>();
  const result = await streamCapture(path, {
    open: (c) => { conns.add(c.id); },
    data: (_c, side, bytes, frame) => { chunks.push({ side, bytes: Buffer.from(bytes), frame }); },
    gap: () => assert.fail('no gaps expected'),
    close: () => {},
  }, () => {});
  assert.equal(conns.size, 1, 'one IMAP connection');
  return { chunks, secrets: result.secrets };
}

function joined(chunks: Chunk[], side: Side): Buffer {
  return Buffer.concat(chunks.filter((c) => c.side === side).map((c) => c.bytes));
}

function whole(c2s: Buffer, s2c: Buffer): Chunk[] {
  return [{ side: 'client', bytes: c2s, frame: 1 }, { side: 'server', bytes: s2c, frame: 2 }];
}

/** Record boundaries of a TLS byte stream: [start, end) of each record, header included. */
function records(stream: Buffer): Array<{ type: number; start: number; end: number }> {
  const out = [];
  for (let at = 0; at + 5 <= stream.length;) {
    const end = at + 5 + stream.readUInt16BE(at + 3);
    out.push({ type: stream[at]!, start: at, end });
    at = end;
  }
  return out;
}

const CHUNKINGS: Array<{ name: string; sizes: number[] }> = [
  { name: 'as captured', sizes: [Infinity] },
  { name: '1-byte pieces', sizes: [1] },
  { name: '7-byte pieces', sizes: [7] },
  { name: '1448-byte pieces', sizes: [1448] },
  { name: 'mixed 1/7/1448/whole', sizes: [1, 7, 1448, 3, Infinity, 5] },
];

// ---------------------------------------------------------------- recorded captures (Dovecot rawlog truth)

interface Scenario {
  name: string;
  version: string;
  cipher: string;
  c2s: Buffer;
  s2c: Buffer;
  start: Record<Side, number>;
  /** Plaintext after the TLS start: the client's commands and the server's responses. */
  plain: Record<Side, Buffer>;
  /** Dovecot's post-login rawlog: must be the tail of what was decrypted. */
  post: Record<Side, Buffer>;
  pcap: string;
  pcapng: string;
  keyLogs: Array<{ name: string; text: string }>;
}

function scenario(name: string, version: string, cipher: string): Scenario {
  const dir = join(CAPTURES, name);
  const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as {
    capture: string; keyLog: string; keyLogAppSecretsOnly?: string; pcapngWithSecrets: string;
    connections: Array<{ toServer: string; toClient: string; plainToServer: string; plainToClient: string; postLoginPlainToServer: string; postLoginPlainToClient: string }>;
  };
  const c = m.connections[0]!;
  const file = (f: string) => readFileSync(join(dir, f));
  const c2s = file(c.toServer);
  const s2c = file(c.toClient);
  const start = tlsStart(c2s, s2c);
  const plainC = file(c.plainToServer);
  const plainS = file(c.plainToClient);
  // The plaintext files hold the STARTTLS prefix too, exactly as on the wire.
  assert.ok(plainC.subarray(0, start.client).equals(c2s.subarray(0, start.client)));
  assert.ok(plainS.subarray(0, start.server).equals(s2c.subarray(0, start.server)));
  const keyLogs = [{ name: 'full key log', text: file(m.keyLog).toString('utf8') }];
  if (m.keyLogAppSecretsOnly) keyLogs.push({ name: 'application secrets only', text: file(m.keyLogAppSecretsOnly).toString('utf8') });
  return {
    name, version, cipher, c2s, s2c, start,
    plain: { client: plainC.subarray(start.client), server: plainS.subarray(start.server) },
    post: { client: file(c.postLoginPlainToServer), server: file(c.postLoginPlainToClient) },
    pcap: join(CAPTURES, m.capture),
    pcapng: join(dir, m.pcapngWithSecrets),
    keyLogs,
  };
}

const tls13 = scenario('imaps-tls13', 'TLS 1.3', 'TLS_AES_256_GCM_SHA384');
const tls12 = scenario('starttls-tls12', 'TLS 1.2', 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256');

function assertDecrypted(r: Result, s: Scenario, what: string): void {
  assert.deepEqual(r.warnings, [], `${what}: no warnings`);
  assert.ok(r.client.equals(s.plain.client), `${what}: client→server plaintext equals the rawlog (${r.client.length} vs ${s.plain.client.length} bytes)`);
  assert.ok(r.server.equals(s.plain.server), `${what}: server→client plaintext equals the rawlog (${r.server.length} vs ${s.plain.server.length} bytes)`);
  assert.ok(r.client.subarray(r.client.length - s.post.client.length).equals(s.post.client), `${what}: ends with the post-login rawlog (client)`);
  assert.ok(r.server.subarray(r.server.length - s.post.server.length).equals(s.post.server), `${what}: ends with the post-login rawlog (server)`);
  assert.equal(r.state.version, s.version);
  assert.equal(r.state.cipher, s.cipher);
  assert.equal(r.state.decrypting, true);
  assert.equal(r.state.reason, null);
}

for (const s of [tls13, tls12]) {
  test(`${s.name}: the pcap's segments are the manifest's wire streams`, async () => {
    const { chunks } = await captureChunks(s.pcap);
    assert.ok(joined(chunks, 'client').equals(s.c2s));
    assert.ok(joined(chunks, 'server').equals(s.s2c));
  });

  for (const keyLog of s.keyLogs) {
    test(`${s.name}, ${keyLog.name}: decrypted plaintext equals Dovecot's rawlog, for every chunking and feeding order`, async () => {
      const keys = KeyLog.parse(keyLog.text, (line, msg) => assert.fail(`key log line ${line}: ${msg}`));
      const segments = afterPrefix((await captureChunks(s.pcap)).chunks, s.start);
      for (const { name, sizes } of CHUNKINGS) assertDecrypted(decrypt(keys, rechunk(segments, sizes)), s, name);
      // One direction entirely before the other: records must wait for the other side's hello.
      assertDecrypted(decrypt(keys, rechunk(sideFirst(segments, 'server'), [1448])), s, 'server side first');
      assertDecrypted(decrypt(keys, rechunk(sideFirst(segments, 'client'), [7])), s, 'client side first');
      const r = decrypt(keys, segments);
      assert.equal(r.state.clientRandom, keyLog.text.split(/\s+/).find((w) => /^[0-9a-f]{64}$/.test(w)));
    });
  }

  test(`${s.name}: key log from the pcapng's Decryption Secrets Block decrypts the pcapng`, async () => {
    const { chunks, secrets } = await captureChunks(s.pcapng);
    const tlsk = secrets.filter((x) => x.type === DSB_TLS_KEY_LOG);
    assert.equal(tlsk.length, 1, 'one TLSK block');
    const fromDsb = KeyLog.parse(keyLogFromDsb(tlsk[0]!.data), (line, msg) => assert.fail(`DSB line ${line}: ${msg}`));
    const fromFile = KeyLog.parse(s.keyLogs[0]!.text);
    assert.equal(fromDsb.size, 1);
    const random = Buffer.from(s.keyLogs[0]!.text.split(/\s+/).find((w) => /^[0-9a-f]{64}$/.test(w))!, 'hex');
    assert.deepEqual(fromDsb.secretsFor(random), fromFile.secretsFor(random));
    assertDecrypted(decrypt(fromDsb, rechunk(afterPrefix(chunks, s.start), [1, 7, 1448, Infinity])), s, 'DSB');
  });
}

// ---------------------------------------------------------------- public capture: STARTTLS, TLS 1.2, renegotiation

const LEKENSTEYN = publicCapture('lekensteyn-imap-ssl.pcapng');

test('lekensteyn-imap-ssl: STARTTLS with a renegotiation decrypts to a001/a002 CAPABILITY, as tshark reads it', { skip: unavailable(!hasPublic && NO_PUBLIC) }, async (t) => {
  const keys = KeyLog.parse(readFileSync(publicCapture('lekensteyn-imap-ssl.keys'), 'utf8'), (l, m) => assert.fail(`line ${l}: ${m}`));
  assert.equal(keys.size, 2);
  const { chunks } = await captureChunks(LEKENSTEYN);
  const segments = afterPrefix(chunks, tlsStart(joined(chunks, 'client'), joined(chunks, 'server')));
  const results = [decrypt(keys, segments), decrypt(keys, rechunk(segments, [1])), decrypt(keys, rechunk(segments, [7, 1448]))];
  for (const r of results) {
    assert.deepEqual(r.warnings, []);
    assert.deepEqual(r.client.toString('latin1').split(/\r?\n/).filter(Boolean), ['a001 CAPABILITY', 'a002 CAPABILITY']);
    assert.match(r.server.toString('latin1'), /^\* CAPABILITY .*\r\na001 OK .*\r\n\* CAPABILITY .*\r\na002 OK .*\r\n$/);
    assert.equal(r.state.version, 'TLS 1.2');
    assert.equal(r.state.cipher, 'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384');
    // The renegotiation's ClientHello travelled encrypted; its random is the one now in use.
    assert.equal(r.state.clientRandom, '5d81a3e35850d9f9d15ae8ea78009c1088082dd59f2c1a2dcec36f3a1ac50bb9');
    assert.equal(r.state.decrypting, true);
  }
  if (skipIfMissing(t, !hasTshark && NO_TSHARK)) return;
  const keyOpt = ['-o', `tls.keylog_file:${publicCapture('lekensteyn-imap-ssl.keys')}`];
  const requests = tshark(['-r', LEKENSTEYN, ...keyOpt, '-Y', 'imap.request and tls', '-T', 'fields', '-e', 'imap.request']).split('\n').filter(Boolean);
  assert.deepEqual(requests, ['a001 CAPABILITY', 'a002 CAPABILITY']);
  // Byte for byte: tshark's decrypted TLS stream, both directions.
  const follow = tshark(['-r', LEKENSTEYN, ...keyOpt, '-q', '-z', 'follow,tls,raw,0']);
  const fromClient: Buffer[] = [];
  const fromServer: Buffer[] = [];
  for (const line of follow.split('\n')) {
    if (/^\t[0-9a-f]+$/.test(line)) fromServer.push(Buffer.from(line.trim(), 'hex'));
    else if (/^[0-9a-f]+$/.test(line)) fromClient.push(Buffer.from(line, 'hex'));
  }
  assert.ok(/Node 0: 127\.0\.0\.1:53477/.test(follow), 'node 0 is the client');
  assert.ok(Buffer.concat(fromClient).equals(results[0]!.client), 'client plaintext equals tshark');
  assert.ok(Buffer.concat(fromServer).equals(results[0]!.server), 'server plaintext equals tshark');
});

// ---------------------------------------------------------------- live handshakes: Node and OpenSSL endpoints

// A throwaway self-signed P-256 pair for CN=imap.example.test; the client does not verify it.
const KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQglce/E7vLoaBVDlI1
ndLBX69c7Wv9vNKP0A9hdejxsmWhRANCAATM5R77N6KTnEPT2e83LM9nj+UdxlCc
jAMm9KwxFwi9NuyYhbyOPleGNcJ3zVvJYAcp6Xw8ODEeQcKW5HWkqAJy
-----END PRIVATE KEY-----
`;
const CERT = `-----BEGIN CERTIFICATE-----
MIIBjzCCATWgAwIBAgIUe9V87/Gvch5l5bybRh2r3HldE0cwCgYIKoZIzj0EAwIw
HDEaMBgGA1UEAwwRaW1hcC5leGFtcGxlLnRlc3QwIBcNMjYxMTI4MDUyOTI1WhgP
MjEyNjExMDQwNTI5MjVaMBwxGjAYBgNVBAMMEWltYXAuZXhhbXBsZS50ZXN0MFkw
EwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEzOUe+zeik5xD09nvNyzPZ4/lHcZQnIwD
JvSsMRcIvTbsmIW8jj5XhjXCd81byWAHKel8PDgxHkHCluR1pKgCcqNTMFEwHQYD
VR0OBBYEFMW01CR8/mswRK3WHq/9IbbIxCIjMB8GA1UdIwQYMBaAFMW01CR8/msw
RK3WHq/9IbbIxCIjMA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZIzj0EAwIDSAAwRQIh
ANGWmeapCVM5nvApJAMH01kLD+gE17Q/N9BymdTYhJrJAiBswC9e4RUdfV2KCA1r
+FYLjEoBuX2WrNAJqPM7ZDVo/g==
-----END CERTIFICATE-----
`;

interface Live {
  /** What the proxy forwarded, in the order it arrived: a causal order of the two directions. */
  chunks: Chunk[];
  keyLog: string;
  /** What the server's application read, and what the client's application read. */
  serverRead: Buffer;
  clientRead: Buffer;
}

/** Poll until `done()`; a stuck conversation fails the test instead of hanging it. */
async function until(done: () => boolean, what: string): Promise<void> {
  for (const started = Date.now(); !done();) {
    if (Date.now() - started > 10_000) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/**
 * A TLS server that answers each line with "* " + the line, reached through a recording proxy.
 * `connect` starts a client at the given port and resolves when the conversation is over.
 */
async function liveSession<T extends { keyLog: string; clientRead: Buffer }>(serverOptions: tls.TlsOptions, connect: (port: number) => Promise<T>): Promise<Live & T> {
  const serverRead: Buffer[] = [];
  const server = tls.createServer({ key: KEY, cert: CERT, ...serverOptions }, (s) => {
    let line = '';
    s.on('data', (d: Buffer) => {
      serverRead.push(d);
      line += d.toString('latin1');
      for (let lf = line.indexOf('\n'); lf >= 0; lf = line.indexOf('\n')) {
        s.write(Buffer.from(`* ${line.slice(0, lf + 1)}`, 'latin1'));
        line = line.slice(lf + 1);
      }
    });
    s.on('error', () => {});
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const chunks: Chunk[] = [];
  const proxy = net.createServer((down) => {
    const up = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
    down.on('data', (d: Buffer) => { chunks.push({ side: 'client', bytes: d, frame: chunks.length + 1 }); up.write(d); });
    up.on('data', (d: Buffer) => { chunks.push({ side: 'server', bytes: d, frame: chunks.length + 1 }); down.write(d); });
    down.on('error', () => up.destroy()).on('close', () => up.destroy());
    up.on('error', () => down.destroy()).on('close', () => down.destroy());
  });
  proxy.listen(0, '127.0.0.1');
  await once(proxy, 'listening');
  try {
    const client = await connect((proxy.address() as net.AddressInfo).port);
    return { ...client, chunks, serverRead: Buffer.concat(serverRead) };
  } finally {
    proxy.close();
    server.close();
  }
}

/** A node:tls client that sends each line, waits for its echo, and runs `between` after the first. */
function nodeClient(options: tls.ConnectionOptions, between?: (c: tls.TLSSocket, say: (line: string) => Promise<void>) => Promise<void>) {
  return async (port: number) => {
    let keyLog = '';
    let session: Buffer | null = null;
    const read: Buffer[] = [];
    const client = tls.connect({ port, host: '127.0.0.1', servername: 'imap.example.test', rejectUnauthorized: false, ...options });
    client.on('keylog', (line: Buffer) => { keyLog += line.toString('latin1'); });
    client.on('session', (ticket: Buffer) => { session = ticket; });
    client.on('data', (d: Buffer) => read.push(d));
    await once(client, 'secureConnect');
    const say = async (text: string): Promise<void> => {
      client.write(text);
      const echo = text.replace(/^(?=.)/gm, '* ');
      await until(() => Buffer.concat(read).toString('latin1').endsWith(echo), `the echo of ${JSON.stringify(text.slice(0, 20))}`);
    };
    await say('a1 CAPABILITY\r\n');
    if (between) await between(client, say);
    await say(`a9 FETCH 1 BODY[]\r\n${'x'.repeat(40000)}\r\n`); // several full-size records
    const reused = client.isSessionReused();
    client.end();
    await once(client, 'close');
    return { keyLog, clientRead: Buffer.concat(read), session: session as Buffer | null, reused };
  };
}

function assertLive(live: Live, keyLog: string, what: string): Result {
  const keys = KeyLog.parse(keyLog, (l, m) => assert.fail(`${what}: key log line ${l}: ${m}`));
  let first: Result | null = null;
  for (const { name, sizes } of [CHUNKINGS[0]!, CHUNKINGS[2]!, CHUNKINGS[4]!]) {
    const r = decrypt(keys, rechunk(live.chunks, sizes));
    assert.deepEqual(r.warnings, [], `${what}, ${name}: no warnings`);
    assert.ok(r.client.equals(live.serverRead), `${what}, ${name}: client plaintext is what the server read`);
    assert.ok(r.server.equals(live.clientRead), `${what}, ${name}: server plaintext is what the client read`);
    assert.equal(r.state.decrypting, true);
    first ??= r;
  }
  return first!;
}

const appSecretsOnly = (keyLog: string) => keyLog.split('\n').filter((l) => /^(CLIENT|SERVER)_TRAFFIC_SECRET_0 /.test(l)).join('\n');

/** The first ServerHello (or HelloRetryRequest) the server sent, as the decryptor reads it. */
function firstServerHello(live: Live) {
  const bytes = Buffer.concat(live.chunks.filter((x) => x.side === 'server').map((x) => x.bytes));
  return serverHelloOf(new HandshakeReader().push(bytes.subarray(5, 5 + bytes.readUInt16BE(3)))[0]!);
}

const NO_ETM = crypto.constants.SSL_OP_NO_ENCRYPT_THEN_MAC;
const LIVE: Array<{ name: string; version: string; cipher: string; client: tls.ConnectionOptions; server?: tls.TlsOptions; etm?: boolean }> = [
  { name: 'TLS 1.3 AES-128-GCM', version: 'TLS 1.3', cipher: 'TLS_AES_128_GCM_SHA256', client: { ciphers: 'TLS_AES_128_GCM_SHA256' } },
  { name: 'TLS 1.3 AES-256-GCM', version: 'TLS 1.3', cipher: 'TLS_AES_256_GCM_SHA384', client: { ciphers: 'TLS_AES_256_GCM_SHA384' } },
  { name: 'TLS 1.3 ChaCha20-Poly1305', version: 'TLS 1.3', cipher: 'TLS_CHACHA20_POLY1305_SHA256', client: { ciphers: 'TLS_CHACHA20_POLY1305_SHA256' } },
  { name: 'TLS 1.3 AES-128-CCM', version: 'TLS 1.3', cipher: 'TLS_AES_128_CCM_SHA256', client: { ciphers: 'TLS_AES_128_CCM_SHA256' }, server: { ciphers: 'TLS_AES_128_CCM_SHA256' } },
  { name: 'TLS 1.3 AES-128-CCM-8', version: 'TLS 1.3', cipher: 'TLS_AES_128_CCM_8_SHA256', client: { ciphers: 'TLS_AES_128_CCM_8_SHA256' }, server: { ciphers: 'TLS_AES_128_CCM_8_SHA256' } },
  { name: 'TLS 1.2 ECDHE AES-128-GCM', version: 'TLS 1.2', cipher: 'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256', client: { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256' } },
  { name: 'TLS 1.2 ECDHE AES-256-GCM (SHA-384 PRF)', version: 'TLS 1.2', cipher: 'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384', client: { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES256-GCM-SHA384' } },
  { name: 'TLS 1.2 ECDHE ChaCha20-Poly1305', version: 'TLS 1.2', cipher: 'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256', client: { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-CHACHA20-POLY1305' } },
  { name: 'TLS 1.2 AES-128-CBC-SHA, encrypt-then-MAC', version: 'TLS 1.2', cipher: 'TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA', client: { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-SHA' }, etm: true },
  { name: 'TLS 1.2 AES-128-CBC-SHA, MAC-then-encrypt', version: 'TLS 1.2', cipher: 'TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA', client: { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-SHA', secureOptions: NO_ETM }, etm: false },
  { name: 'TLS 1.2 AES-256-CBC-SHA384, MAC-then-encrypt', version: 'TLS 1.2', cipher: 'TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384', client: { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES256-SHA384', secureOptions: NO_ETM }, etm: false },
];

for (const c of LIVE) {
  test(`live ${c.name}: plaintext equals what each endpoint read`, async () => {
    const live = await liveSession(c.server ?? {}, nodeClient(c.client));
    const r = assertLive(live, live.keyLog, c.name);
    assert.equal(r.state.version, c.version);
    assert.equal(r.state.cipher, c.cipher);
    assert.equal(r.state.sni, 'imap.example.test');
    if (c.version === 'TLS 1.3') assertLive(live, appSecretsOnly(live.keyLog), `${c.name}, application secrets only`);
    if (c.etm !== undefined) {
      // The two CBC variants must really differ on the wire: the ServerHello says which one.
      assert.equal(firstServerHello(live)?.encryptThenMac, c.etm);
      // CBC has no AEAD tag: padding and HMAC checks alone must keep corrupt records out.
      const streams = { client: joined(live.chunks, 'client'), server: joined(live.chunks, 'server') };
      fuzz(KeyLog.parse(live.keyLog), streams, { client: live.serverRead, server: live.clientRead }, 5, 100);
    }
  });
}

test('live TLS 1.3 after a HelloRetryRequest (the server wants another key share)', async () => {
  const live = await liveSession({ ecdhCurve: 'P-256' }, nodeClient({ ecdhCurve: 'X25519:P-256' }));
  assert.equal(firstServerHello(live)?.helloRetry, true, 'the server did send a HelloRetryRequest');
  const r = assertLive(live, live.keyLog, 'HRR');
  assert.equal(r.state.version, 'TLS 1.3');
  assertLive(live, appSecretsOnly(live.keyLog), 'HRR, application secrets only');
});

for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
  test(`live ${version} session resumption: the resumed connection decrypts with its own key log lines`, async () => {
    // Both servers share ticket keys, so the second accepts the first one's ticket.
    const server = { ticketKeys: Buffer.alloc(48, 7) };
    const first = await liveSession(server, nodeClient({ maxVersion: version }));
    assert.ok(first.session, 'got a session to resume');
    const resumed = await liveSession(server, nodeClient({ maxVersion: version, session: first.session }));
    assert.equal(resumed.reused, true, 'the second connection resumed the first session');
    assertLive(resumed, resumed.keyLog, `resumed ${version}`);
    // The first connection's secrets do not open the resumed one: it has its own client random.
    const r = decrypt(KeyLog.parse(first.keyLog), resumed.chunks);
    assert.equal(r.client.length + r.server.length, 0);
    assert.match(r.warnings.join('\n'), /no (CLIENT_RANDOM secret|TLS 1\.3 traffic secrets) for client random/);
  });
}

test('live TLS 1.2 renegotiation: new randoms and keys after the second ChangeCipherSpec', async () => {
  const live = await liveSession({}, nodeClient({ maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256' }, async (client, say) => {
    await new Promise<void>((resolve, reject) => client.renegotiate({ rejectUnauthorized: false }, (e) => (e ? reject(e) : resolve())));
    await say('a2 NOOP\r\n');
  }));
  const randoms = live.keyLog.split('\n').filter((l) => l.startsWith('CLIENT_RANDOM ')).map((l) => l.split(' ')[1]);
  assert.equal(randoms.length, 2, 'two handshakes');
  const r = assertLive(live, live.keyLog, 'renegotiation');
  assert.equal(r.state.clientRandom, randoms[1]);
  assert.match(r.client.toString('latin1'), /^a1 CAPABILITY\r\na2 NOOP\r\na9 FETCH/);
  // Only the first handshake's secret: everything before the renegotiation's ChangeCipherSpec decrypts.
  const partial = decrypt(KeyLog.parse(live.keyLog.split('\n')[0]!), live.chunks);
  assert.equal(partial.client.toString('latin1'), 'a1 CAPABILITY\r\n');
  assert.equal(partial.server.toString('latin1'), '* a1 CAPABILITY\r\n');
  assert.match(partial.warnings.join('\n'), /no CLIENT_RANDOM secret/);
  assert.equal(partial.state.decrypting, false);
});


test('live TLS 1.3 KeyUpdate both ways (openssl s_client "K" and "k" commands)', { skip: unavailable(!hasOpenssl && NO_OPENSSL) }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'imapscope-keyupdate-'));
  try {
    let stderr = '';
    const live = await liveSession({}, async (port) => {
      const keyFile = join(dir, 'keys');
      const p = spawn('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-tls1_3', '-crlf', '-keylogfile', keyFile, '-servername', 'imap.example.test'], { stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      p.stdout.on('data', (d: Buffer) => { stdout += d.toString('latin1'); });
      p.stderr.on('data', (d: Buffer) => { stderr += d.toString('latin1'); });
      const waitFor = (s: string) => until(() => stdout.includes(s), `s_client to print ${JSON.stringify(s)}`);
      await waitFor('\n---\n');
      // "K": KeyUpdate requesting one back (the server answers with its own); "k": client only.
      for (const line of ['a1 NOOP', 'K', 'a2 NOOP', 'k', 'a3 NOOP', 'K', 'a4 LOGOUT']) {
        p.stdin.write(`${line}\n`);
        if (line.length > 1) await waitFor(`* ${line}`);
        else await new Promise((r) => setTimeout(r, 30));
      }
      p.stdin.end();
      await once(p, 'close');
      return { keyLog: readFileSync(keyFile, 'latin1'), clientRead: Buffer.from(stdout.slice(stdout.indexOf('* a1 NOOP')), 'latin1') };
    });
    assert.equal(stderr.match(/KEYUPDATE/g)?.length, 3, 's_client sent three KeyUpdates');
    // s_client prints more than the server sent (session details), so compare the server side by lines.
    for (const keyLog of [live.keyLog, appSecretsOnly(live.keyLog)]) {
      const r = decrypt(KeyLog.parse(keyLog), rechunk(live.chunks, [1, 7, 1448, Infinity]));
      assert.deepEqual(r.warnings, []);
      assert.ok(r.client.equals(live.serverRead), 'client plaintext is what the server read');
      assert.equal(r.client.toString('latin1'), 'a1 NOOP\r\na2 NOOP\r\na3 NOOP\r\na4 LOGOUT\r\n');
      assert.equal(r.server.toString('latin1'), '* a1 NOOP\r\n* a2 NOOP\r\n* a3 NOOP\r\n* a4 LOGOUT\r\n');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// ---------------------------------------------------------------- failures: warnings, no throw, no garbage

/** Plaintext is a prefix of the truth, and nothing of a side came out after that side's warning. */
function assertNoGarbage(r: Result, truth: Record<Side, Buffer>, what: string): void {
  for (const side of ['client', 'server'] as const) {
    const got = side === 'client' ? r.client : r.server;
    assert.ok(truth[side].subarray(0, got.length).equals(got), `${what}: ${side} plaintext is a prefix of the truth`);
    const label = side === 'client' ? 'client→server' : 'server→client';
    const warnedAt = r.log.findIndex((e) => e.kind === 'warn' && e.text.includes(label));
    if (warnedAt >= 0) assert.ok(!r.log.slice(warnedAt).some((e) => e.kind === 'plain' && e.side === side), `${what}: no ${side} plaintext after its warning`);
    assert.ok(r.warnings.filter((w) => w.includes(label)).length <= 1, `${what}: at most one warning for ${label}`);
  }
}

/**
 * Flip, cut, drop or insert bytes at random places of one direction, feed in random chunk sizes: the
 * decryptor must not throw, and what it hands on must be a prefix of the truth.
 */
function fuzz(keys: KeyLog, streams: Record<Side, Buffer>, truth: Record<Side, Buffer>, seed: number, rounds: number): void {
  const rand = () => {
    seed = (seed + 0x6d2b79f5) | 0; // mulberry32, so a failure reproduces
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  for (let i = 0; i < rounds; i++) {
    const m = { client: Buffer.from(streams.client), server: Buffer.from(streams.server) };
    const side = rand() < 0.5 ? 'client' : 'server';
    const at = Math.floor(rand() * m[side].length);
    const kind = Math.floor(rand() * 4);
    if (kind === 0) m[side][at]! ^= 1 << Math.floor(rand() * 8);
    else if (kind === 1) m[side] = m[side].subarray(0, at);
    else if (kind === 2) m[side] = Buffer.concat([m[side].subarray(0, at), m[side].subarray(at + 1 + Math.floor(rand() * 40))]);
    else m[side] = Buffer.concat([m[side].subarray(0, at), Buffer.from([Math.floor(rand() * 256)]), m[side].subarray(at)]);
    const sizes = [1 + Math.floor(rand() * 2000), 1 + Math.floor(rand() * 10)];
    const r = decrypt(keys, rechunk(whole(m.client, m.server), sizes));
    assertNoGarbage(r, truth, `mutation ${i} (kind ${kind} at ${side} ${at})`);
  }
}

for (const s of [tls13, tls12]) {
  const c2s = s.c2s.subarray(s.start.client);
  const s2c = s.s2c.subarray(s.start.server);
  const keys = KeyLog.parse(s.keyLogs[0]!.text);

  test(`${s.name}: a key log for other connections decrypts nothing and says why`, () => {
    const other = KeyLog.parse((s === tls13 ? tls12 : tls13).keyLogs[0]!.text);
    const r = decrypt(other, whole(c2s, s2c));
    assert.equal(r.client.length + r.server.length, 0);
    assert.equal(r.warnings.length, 1, r.warnings.join('\n'));
    assert.match(r.warnings[0]!, s === tls13 ? /no TLS 1\.3 traffic secrets for client random [0-9a-f]{64}/ : /no CLIENT_RANDOM secret for client random [0-9a-f]{64}/);
    assert.equal(r.state.decrypting, false);
    assert.match(r.state.reason ?? '', /client random/);
    assert.equal(r.state.version, s.version, 'the hellos are still read');
  });

  test(`${s.name}: secrets of one direction only: that direction decrypts, the other says what is missing`, () => {
    const serverOnly = s.keyLogs[0]!.text.split('\n').filter((l) => /^(SERVER_|CLIENT_RANDOM )/.test(l)).join('\n');
    const r = decrypt(KeyLog.parse(serverOnly), rechunk(whole(c2s, s2c), [1448]));
    if (s === tls12) {
      assert.deepEqual(r.warnings, [], 'TLS 1.2 has one secret for both directions');
      return;
    }
    assert.ok(r.server.equals(s.plain.server));
    assert.equal(r.client.length, 0);
    assert.deepEqual(r.warnings, ['TLS client→server: no CLIENT_*_TRAFFIC_SECRET in the key log; decryption of this direction stops']);
    assert.equal(r.state.decrypting, true);
    assert.match(r.state.reason ?? '', /no CLIENT_\*_TRAFFIC_SECRET/);
  });

  test(`${s.name}: the right random with a wrong secret is a MAC failure in each direction`, () => {
    const wrong = s.keyLogs[0]!.text.replace(/^(\S+ \S+ )(\S)/gm, (_m, head: string, c: string) => head + (c === '0' ? '1' : '0'));
    const r = decrypt(KeyLog.parse(wrong), rechunk(whole(c2s, s2c), [1448]));
    assert.equal(r.client.length + r.server.length, 0);
    assert.equal(r.warnings.length, 2, r.warnings.join('\n'));
    assert.ok(r.warnings.some((w) => /client→server.*MAC failure.*wrong key/.test(w)));
    assert.ok(r.warnings.some((w) => /server→client.*MAC failure.*wrong key/.test(w)));
    assert.equal(r.state.decrypting, false);
  });

  for (const side of ['client', 'server'] as const) {
    test(`${s.name}: a flipped byte in a ${side} application record stops that direction only`, () => {
      const stream = side === 'client' ? c2s : s2c;
      const app = records(stream).filter((x) => x.type === 23);
      const target = app[Math.floor(app.length / 2) + 1]!;
      const bad = Buffer.from(stream);
      bad[target.start + 5 + 10]! ^= 0x40;
      const chunks = rechunk(side === 'client' ? whole(bad, s2c) : whole(c2s, bad), [7, 1448]);
      const r = decrypt(keys, chunks);
      assertNoGarbage(r, s.plain, 'flipped byte');
      const other = side === 'client' ? 'server' : 'client';
      assert.ok((side === 'client' ? r.server : r.client).equals(s.plain[other]), `${other} plaintext is complete`);
      const got = side === 'client' ? r.client : r.server;
      assert.ok(got.length > 0 && got.length < s.plain[side].length, `${side} plaintext stops before the corrupt record (${got.length} of ${s.plain[side].length})`);
      assert.equal(r.warnings.length, 1);
      assert.match(r.warnings[0]!, /does not decrypt \(MAC failure\): corrupt record/);
      assert.match(r.state.reason ?? '', /MAC failure/);
      assert.equal(r.state.decrypting, true, 'the other direction still decrypts');
    });
  }

  test(`${s.name}: a record cut short at the end is reported at end(), and only then`, () => {
    const last = records(s2c).filter((x) => x.type === 23).at(-2)!;
    const cut = s2c.subarray(0, last.start + 20);
    const open = decrypt(keys, whole(c2s, cut), false);
    assert.deepEqual(open.warnings, [], 'more bytes could still come');
    const r = decrypt(keys, whole(c2s, cut));
    assertNoGarbage(r, s.plain, 'truncated');
    assert.equal(r.warnings.length, 1);
    assert.match(r.warnings[0]!, /server→client: truncated record at the end \(20 bytes/);
    assert.ok(r.client.equals(s.plain.client));
  });

  test(`${s.name}: a gap stops its direction with one warning; the other goes on`, () => {
    const warnings: string[] = [];
    const out: Record<Side, Buffer[]> = { client: [], server: [] };
    const d = new TlsDecryptor(keys, { plaintext: (side, b) => out[side].push(b), warn: (_f, m) => warnings.push(m) });
    const half = records(s2c)[Math.floor(records(s2c).length / 2)]!.start;
    d.push('client', c2s.subarray(0, records(c2s)[0]!.end), 1);
    d.push('server', s2c.subarray(0, half), 2);
    const before = Buffer.concat(out.server).length;
    d.gap('server', 1200, 3);
    d.push('server', s2c.subarray(half), 4);
    d.gap('server', 10, 5);
    d.push('client', c2s.subarray(records(c2s)[0]!.end), 6);
    d.end(7);
    // Put to rest with one direction stopped and the other going on, it goes on as it was.
    const restedWarnings: string[] = [];
    const restedOut: Record<Side, Buffer[]> = { client: [], server: [] };
    const output: TlsDecryptorOutput = { plaintext: (side, b) => restedOut[side].push(b), warn: (_f, m) => restedWarnings.push(m) };
    let r = new TlsDecryptor(keys, output);
    const clientHalf = records(c2s)[Math.floor(records(c2s).length / 2)]!.start;
    r.push('client', c2s.subarray(0, clientHalf), 1);
    r.push('server', s2c.subarray(0, half), 2);
    r.gap('server', 1200, 3);
    r = restAndWake(r, keys, output);
    r.push('server', s2c.subarray(half), 4);
    r.push('client', c2s.subarray(clientHalf), 6);
    r.end(7);
    assert.deepEqual(restedWarnings, warnings, 'the stopped direction warns no more');
    assert.ok(Buffer.concat(restedOut.client).equals(s.plain.client), 'the client side goes on');
    assert.equal(Buffer.concat(restedOut.server).length, before);
    assert.equal(warnings.length, 1, warnings.join('\n'));
    assert.match(warnings[0]!, /server→client: 1200 bytes missing/);
    assert.equal(Buffer.concat(out.server).length, before, 'nothing after the gap');
    assert.ok(Buffer.concat(out.client).equals(s.plain.client));
    assert.match(d.state.reason ?? '', /missing/);
  });

  test(`${s.name}: in a session, a gap in the TLS stream goes to the decryptor, which stops that direction and says so`, () => {
    const half = records(s2c)[Math.floor(records(s2c).length / 2)]!.start;
    const steps: [Side, Buffer | number][] = [
      // STARTTLS (TLS 1.2 scenario) in the clear first: the command, then the greeting and the OK. TLS from the first
      // byte has no such prefix.
      ['client', s.c2s.subarray(0, s.start.client)],
      ['server', s.s2c.subarray(0, s.start.server)],
      ['client', c2s],
      ['server', s2c.subarray(0, half)],
      ['server', 1200],
      ['server', s2c.subarray(half + 1200)],
    ];
    const { warnings, markers, info } = runSession(steps.filter(([, data]) => typeof data === 'number' || data.length > 0), true, keys);
    assert.ok(markers.includes('1200 bytes missing from the capture'), markers.join('\n'));
    const messages = warnings.map((w) => w.message);
    assert.ok(messages.some((m) => /server→client: 1200 bytes missing/.test(m)), messages.join('\n'));
    assert.equal(info.tls?.decrypted, true, 'the records before the gap were decrypted');
  });

  test(`${s.name}: a ClientHello in two records decrypts as in one (the decryptor does not rest between them)`, () => {
    const hello = records(c2s)[0]!;
    const body = c2s.subarray(hello.start + 5, hello.end);
    const half = Math.floor(body.length / 2);
    const record = (fragment: Buffer) => Buffer.concat([c2s.subarray(hello.start, hello.start + 3), Buffer.from([fragment.length >> 8, fragment.length & 255]), fragment]);
    const split = Buffer.concat([record(body.subarray(0, half)), record(body.subarray(half)), c2s.subarray(hello.end)]);
    for (const sizes of [[Infinity], [7]]) assertDecrypted(decrypt(keys, rechunk(sideFirst(whole(split, s2c), 'client'), sizes)), s, `${sizes}`);
  });

  test(`${s.name}: random corruption, truncation and chunking never throw and never yield garbage`, () => {
    fuzz(keys, { client: c2s, server: s2c }, s.plain, s === tls13 ? 13 : 12, 300);
  });
}

test('a cipher suite we do not decrypt is named in the reason', () => {
  const s2c = Buffer.from(tls12.s2c.subarray(tls12.start.server));
  // ServerHello: record header 5, handshake header 4, version 2, random 32, session id 1 + n, suite.
  const suiteAt = 5 + 4 + 2 + 32 + 1 + s2c[5 + 4 + 2 + 32]!;
  assert.equal(s2c.readUInt16BE(suiteAt), 0xc02f);
  s2c.writeUInt16BE(0x000a, suiteAt); // TLS_RSA_WITH_3DES_EDE_CBC_SHA
  const r = decrypt(KeyLog.parse(tls12.keyLogs[0]!.text), whole(tls12.c2s.subarray(tls12.start.client), s2c));
  assert.equal(r.client.length + r.server.length, 0);
  assert.equal(r.state.cipher, 'TLS_RSA_WITH_3DES_EDE_CBC_SHA');
  assert.match(r.state.reason ?? '', /cipher suite TLS_RSA_WITH_3DES_EDE_CBC_SHA is not decrypted/);
  assert.equal(r.warnings.length, 1, r.warnings.join('\n'));
});

test('bytes that are not TLS records: one warning, no throw', () => {
  const r = decrypt(new KeyLog(), [{ side: 'client', bytes: Buffer.from('a1 LOGIN alice secret\r\n'), frame: 4 }]);
  assert.equal(r.warnings.length, 1);
  assert.match(r.warnings[0]!, /client→server: not a TLS record header/);
  assert.equal(r.state.decrypting, false);
});

test('a side whose first record is not its hello was joined midway: one warning at that record, both sides stop, nothing held', () => {
  const c2s = tls13.c2s;
  const s2c = tls13.s2c;
  const keys = KeyLog.parse(tls13.keyLogs[0]!.text);
  for (const [side, stream, from] of [['client', c2s, records(c2s)[1]!.start], ['server', s2c, records(s2c)[1]!.start]] as const) {
    // Everything after the side's hello; the other side whole.
    const chunks: Chunk[] = [{ side, bytes: stream.subarray(from), frame: 9 }, { side: side === 'client' ? 'server' : 'client', bytes: side === 'client' ? s2c : c2s, frame: 10 }];
    const r = decrypt(keys, chunks);
    assert.equal(r.client.length + r.server.length, 0, `${side}: nothing decrypted`);
    assert.deepEqual(r.warnings, [`TLS not decrypted: the capture began after the handshake (the ${side}'s first record is not its hello)`], side);
    assert.equal(r.state.reason, `the capture began after the handshake (the ${side}'s first record is not its hello)`);
    assert.equal(r.state.decrypting, false);
  }
});

// ---------------------------------------------------------------- key log parsing

/** A secret the key log keeps as text, in hex. */
const hexOf = (text: string | undefined) => text === undefined ? undefined : keyBytes(text).toString('hex');

test('KeyLog.parse: labels, comments, blank lines, CRLF, upper-case hex; malformed lines warned by number', () => {
  const r1 = 'ab'.repeat(32);
  const r2 = 'CD'.repeat(32);
  const text = [
    '# a comment',
    '',
    `CLIENT_RANDOM ${r1} ${'11'.repeat(48)}\r`,
    `  CLIENT_HANDSHAKE_TRAFFIC_SECRET ${r2} ${'22'.repeat(32)}  \r`,
    `SERVER_HANDSHAKE_TRAFFIC_SECRET ${r2} ${'33'.repeat(32)}`,
    `CLIENT_TRAFFIC_SECRET_0 ${r2} ${'44'.repeat(48)}`,
    `SERVER_TRAFFIC_SECRET_0 ${r2} ${'55'.repeat(48)}`,
    `EXPORTER_SECRET ${r2} ${'66'.repeat(48)}`, // a label decryption does not use: not kept
    `ECH_SECRET ${r2} ${'77'.repeat(32)}`, // a label we do not use: skipped quietly
    `CLIENT_RANDOM ${r1.slice(2)} ${'11'.repeat(48)}`, // 10: short random
    `CLIENT_RANDOM ${r1} ${'11'.repeat(47)}`, // 11: short master secret
    `CLIENT_RANDOM ${r1}`, // 12: missing secret
    `CLIENT_TRAFFIC_SECRET_0 ${r2} zz${'44'.repeat(47)}`, // 13: not hex
    'hello world', // 14: not a key log line
  ].join('\n');
  const warned: Array<[number, string]> = [];
  const log = KeyLog.parse(text, (line, msg) => warned.push([line, msg]));
  assert.deepEqual(warned.map(([l]) => l), [10, 11, 12, 13, 14]);
  assert.match(warned[0]![1], /client random is not 64 hex digits/);
  assert.match(warned[1]![1], /secret of 47 bytes/);
  assert.equal(log.size, 2);
  const a = log.secretsFor(Buffer.from(r1, 'hex'))!;
  assert.equal(hexOf(a.masterSecret), '11'.repeat(48));
  const b = log.secretsFor(Buffer.from(r2, 'hex'))!;
  assert.equal(hexOf(b.clientHandshakeTrafficSecret), '22'.repeat(32));
  assert.equal(hexOf(b.serverHandshakeTrafficSecret), '33'.repeat(32));
  assert.equal(hexOf(b.clientTrafficSecret0), '44'.repeat(48));
  assert.equal(hexOf(b.serverTrafficSecret0), '55'.repeat(48));
  // The exporter secret is not kept: decryption does not use it.
  assert.deepEqual(Object.keys(b).sort(), ['clientHandshakeTrafficSecret', 'clientTrafficSecret0', 'serverHandshakeTrafficSecret', 'serverTrafficSecret0']);
  assert.equal(log.secretsFor(Buffer.alloc(32)), null);
});

test('a key log file read a chunk at a time gives what its whole text parsed gives: lines across chunks, a line longer than a chunk, warnings by number', () => {
  const dir = mkdtempSync(join(tmpdir(), 'imapscope-keylog-'));
  try {
    const hex = (n: number, bytes: number) => crypto.createHash('sha512').update(String(n)).digest('hex').repeat(2).slice(0, 2 * bytes);
    const lines: string[] = [];
    for (let i = 0; i < 12_000; i++) {
      if (i % 997 === 5) lines.push(`CLIENT_RANDOM ${hex(i, 32)} ${hex(i, 47)}`); // a short secret: warned
      else if (i === 6_000) lines.push(`# ${'x'.repeat(1_500_000)}`); // longer than the chunks the file is read in
      else if (i % 2 === 0) lines.push(`CLIENT_RANDOM ${hex(i, 32)} ${hex(i + 1, 48)}${i % 3 === 0 ? '\r' : ''}`);
      else lines.push(`SERVER_TRAFFIC_SECRET_0 ${hex(i - 1, 32)} ${hex(i, 48)}`);
    }
    const text = lines.join('\n') + '\nCLIENT_RANDOM ' + hex(99_999, 32) + ' ' + hex(1, 48); // the last line without its newline
    const file = join(dir, 'keys');
    writeFileSync(file, text);
    const whole: string[] = [];
    const parsed = KeyLog.parse(text, (line, msg) => whole.push(`${line} ${msg}`));
    const chunked: string[] = [];
    const read = readKeyLogFile(file, (line, msg) => chunked.push(`${line} ${msg}`));
    assert.equal(read.cut, false);
    assert.ok(text.length > 3 * 1024 * 1024 && parsed.size > 6_000, `${text.length} bytes, ${parsed.size} randoms`);
    assert.deepEqual([...read.keys.secrets.bySession], [...parsed.secrets.bySession]);
    assert.ok(whole.length >= 12 && whole[0]!.startsWith('6 '), whole.join('\n'));
    assert.deepEqual(chunked, whole);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('secrets a pcapng embeds decrypt that capture only: the next capture read in the same thread keeps the key log as given', () => {
  const dir = mkdtempSync(join(tmpdir(), 'imapscope-keylog-'));
  try {
    // The server's secrets only: the recording's client side stays encrypted, unless the pcapng's lent it the rest.
    const serverOnly = join(dir, 'server.keys');
    writeFileSync(serverOnly, tls13.keyLogs[0]!.text.split('\n').filter((l) => l.startsWith('SERVER_')).join('\n'));
    const alone = cliJson<{ exchanges: object[] }>(['commands', '--json', '--keylog', serverOnly, tls13.pcap]).exchanges;
    const both = cliJson<{ exchanges: { capture: string }[] }>(['commands', '--json', '--jobs', '1', '--keylog', serverOnly, tls13.pcapng, tls13.pcap]).exchanges;
    const commands = (exchanges: object[]) => exchanges.map((ex) => (ex as { command: string }).command);
    assert.ok(commands(both.filter((ex) => ex.capture === tls13.pcapng)).includes('LOGIN'), 'the pcapng is decrypted with its own secrets');
    assert.ok(!commands(alone).includes('LOGIN'), 'the pcap alone has no client secrets');
    assert.deepEqual(both.filter((ex) => ex.capture === tls13.pcap).map(({ capture: _capture, ...ex }) => ex), alone);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('KeyLog.merge: union of randoms; the merged-in log wins where both know a secret', () => {
  const r = 'ef'.repeat(32);
  const a = KeyLog.parse(`CLIENT_HANDSHAKE_TRAFFIC_SECRET ${r} ${'01'.repeat(32)}\nCLIENT_TRAFFIC_SECRET_0 ${r} ${'02'.repeat(32)}`);
  const b = KeyLog.parse(`CLIENT_TRAFFIC_SECRET_0 ${r} ${'03'.repeat(32)}\nCLIENT_RANDOM ${'12'.repeat(32)} ${'04'.repeat(48)}`);
  a.merge(b);
  assert.equal(a.size, 2);
  const s = a.secretsFor(Buffer.from(r, 'hex'))!;
  assert.equal(hexOf(s.clientHandshakeTrafficSecret), '01'.repeat(32));
  assert.equal(hexOf(s.clientTrafficSecret0), '03'.repeat(32));
  assert.equal(b.size, 2, 'the other log is unchanged');
  assert.equal(b.secretsFor(Buffer.from(r, 'hex'))!.clientHandshakeTrafficSecret, undefined);
});

for (const s of [tls13, tls12]) {
  test(`${s.name}: secrets that come between the two hellos (a pcapng's, read there) decrypt the connection`, async () => {
    const segments = afterPrefix((await captureChunks(s.pcap)).chunks, s.start);
    const keys = new KeyLog();
    const out: Record<Side, Buffer[]> = { client: [], server: [] };
    const warnings: string[] = [];
    const d = new TlsDecryptor(keys, { plaintext: (side, bytes) => out[side].push(Buffer.from(bytes)), warn: (_frame, message) => warnings.push(message) });
    // The ClientHello is read with no secrets known; they come before the ServerHello.
    const serverHello = segments.findIndex((c) => c.side === 'server');
    segments.forEach((c, i) => {
      if (i === serverHello) keys.merge(KeyLog.parse(s.keyLogs[0]!.text));
      d.push(c.side, c.bytes, c.frame);
    });
    d.end(segments.at(-1)!.frame);
    assertDecrypted({ client: Buffer.concat(out.client), server: Buffer.concat(out.server), warnings, log: [], state: { ...d.state } }, s, 'secrets between the hellos');
  });
}

/** A ClientHello record with the early_data extension (42, empty) added at the end of its extensions. */
function withEarlyData(record: Buffer): Buffer {
  const body = record.subarray(9); // record header (5) and handshake header (4)
  let at = 2 + 32; // version, random
  at += 1 + body[at]!; // session id
  at += 2 + body.readUInt16BE(at); // cipher suites
  at += 1 + body[at]!; // compression methods
  const extensions = body.readUInt16BE(at);
  assert.equal(at + 2 + extensions, body.length, 'the record is one ClientHello');
  const out = Buffer.concat([record, Buffer.from([0x00, 0x2a, 0x00, 0x00])]);
  out.writeUInt16BE(record.readUInt16BE(3) + 4, 3);
  out.writeUIntBE(record.readUIntBE(6, 3) + 4, 6, 3);
  out.writeUInt16BE(extensions + 4, 9 + at);
  return out;
}

test('a client that offers 0-RTT: its early data, which the key log\'s secrets do not open, is skipped with one note, before and after a rest', async () => {
  const segments = afterPrefix((await captureChunks(tls13.pcap)).chunks, tls13.start);
  const first = segments.findIndex((c) => c.side === 'client');
  const hello = segments[first]!;
  assert.equal(hello.bytes.length, 5 + hello.bytes.readUInt16BE(3), 'the first client segment is the ClientHello record');
  // 0-RTT data goes right after the ClientHello, protected with the early traffic secret: here, bytes nobody can open.
  const early: Chunk = { side: 'client', bytes: Buffer.concat([Buffer.from([23, 3, 3, 0, 40]), crypto.randomBytes(40)]), frame: hello.frame };
  const offered = [...segments.slice(0, first), { ...hello, bytes: withEarlyData(hello.bytes) }, early, ...segments.slice(first + 1)];
  const r = decrypt(KeyLog.parse(tls13.keyLogs[0]!.text), offered);
  assert.equal(r.warnings.length, 1, r.warnings.join('\n'));
  assert.match(r.warnings[0]!, /0-RTT early data is not decrypted/);
  assert.ok(r.client.equals(tls13.plain.client) && r.server.equals(tls13.plain.server), 'the rest decrypts as without it');
});

test('KeyLog.of reads the secrets in place: merged-in secrets, a new session\'s or more of a shared one\'s, change only that key log', () => {
  const r1 = 'a1'.repeat(32);
  const r2 = 'b2'.repeat(32);
  const r3 = 'c3'.repeat(32);
  const given = KeyLog.parse(`CLIENT_HANDSHAKE_TRAFFIC_SECRET ${r1} ${'01'.repeat(32)}\nCLIENT_RANDOM ${r2} ${'02'.repeat(48)}`).secrets;
  const before = [...given.bySession];
  const one = KeyLog.of(given);
  const other = KeyLog.of(given);
  one.merge(KeyLog.parse(`SERVER_HANDSHAKE_TRAFFIC_SECRET ${r1} ${'03'.repeat(48)}\nCLIENT_RANDOM ${r3} ${'04'.repeat(48)}`));
  assert.equal(one.size, 3);
  assert.deepEqual(Object.fromEntries(Object.entries(one.secretsFor(Buffer.from(r1, 'hex'))!).map(([k, v]) => [k, hexOf(v)])), {
    clientHandshakeTrafficSecret: '01'.repeat(32), serverHandshakeTrafficSecret: '03'.repeat(48),
  });
  assert.equal(hexOf(one.secretsFor(Buffer.from(r2, 'hex'))!.masterSecret), '02'.repeat(48));
  assert.equal(hexOf(one.secretsFor(Buffer.from(r3, 'hex'))!.masterSecret), '04'.repeat(48));
  assert.equal(other.size, 2);
  assert.deepEqual(other.secretsFor(Buffer.from(r1, 'hex')), { clientHandshakeTrafficSecret: keyText(Buffer.from('01'.repeat(32), 'hex')) });
  assert.equal(other.secretsFor(Buffer.from(r3, 'hex')), null);
  assert.deepEqual([...given.bySession], before, 'the secrets given are as they were');
  // Its secrets as plain data hold both, and make the same key log again.
  const again = KeyLog.of(one.secrets);
  for (const r of [r1, r2, r3]) assert.deepEqual(again.secretsFor(Buffer.from(r, 'hex')), one.secretsFor(Buffer.from(r, 'hex')));
  // The cap counts the sessions given and its own.
  const capped = new KeyLog(3, given.bySession);
  capped.merge(KeyLog.parse(`CLIENT_RANDOM ${r3} ${'04'.repeat(48)}\nCLIENT_RANDOM ${'d4'.repeat(32)} ${'05'.repeat(48)}\nCLIENT_RANDOM ${r1} ${'06'.repeat(48)}`));
  assert.deepEqual([capped.size, capped.dropped], [3, 1]);
  assert.equal(hexOf(capped.secretsFor(Buffer.from(r1, 'hex'))!.masterSecret), '06'.repeat(48), 'more of a session it knows is taken past the cap');
  // A session merged past the cap counts each of its secrets as dropped, as its lines read past the cap would.
  const full = new KeyLog(1);
  full.merge(KeyLog.parse(`CLIENT_RANDOM ${r1} ${'07'.repeat(48)}`));
  full.merge(KeyLog.parse(`CLIENT_HANDSHAKE_TRAFFIC_SECRET ${r2} ${'08'.repeat(32)}\nSERVER_HANDSHAKE_TRAFFIC_SECRET ${r2} ${'09'.repeat(32)}`));
  const read = new KeyLog(1);
  read.read(`CLIENT_RANDOM ${r1} ${'07'.repeat(48)}\nCLIENT_HANDSHAKE_TRAFFIC_SECRET ${r2} ${'08'.repeat(32)}\nSERVER_HANDSHAKE_TRAFFIC_SECRET ${r2} ${'09'.repeat(32)}`, 1, () => {});
  assert.deepEqual([full.size, full.dropped], [1, 2]);
  assert.deepEqual([read.size, read.dropped], [1, 2]);
  // Merged into an empty key log, a session is the other's as it was.
  const merged = new KeyLog();
  merged.merge(one);
  for (const r of [r1, r2, r3]) assert.deepEqual(merged.secretsFor(Buffer.from(r, 'hex')), one.secretsFor(Buffer.from(r, 'hex')));
  assert.equal(merged.size, 3);
});

test('a key log keeps a session\'s secrets in one string, and KeyLog.of copies nothing (garbage collector\'s count)', async () => {
  const sessions = 20_000;
  const hex = (n: number, bytes: number) => n.toString(16).padStart(2 * bytes, '0');
  const lines: string[] = [];
  for (let i = 0; i < sessions; i++) {
    for (const [k, label] of ['CLIENT_HANDSHAKE_TRAFFIC_SECRET', 'SERVER_HANDSHAKE_TRAFFIC_SECRET', 'CLIENT_TRAFFIC_SECRET_0', 'SERVER_TRAFFIC_SECRET_0'].entries()) {
      lines.push(`${label} ${hex(i, 32)} ${hex(4 * i + k + 1, 32)}`);
    }
  }
  const text = lines.join('\n');
  await collectGarbage();
  const before = process.memoryUsage().heapUsed;
  const log = KeyLog.parse(text);
  await collectGarbage();
  const parsed = process.memoryUsage().heapUsed;
  const perCapture = [KeyLog.of(log.secrets), KeyLog.of(log.secrets)];
  await collectGarbage();
  const each = (parsed - before) / sessions;
  // Its map entry (about 50 bytes), its random (48) and one string of its four secrets (152): about 250. An object of
  // four strings cost about 430, and a copy of the index per capture about 110 more.
  assert.ok(each < 320, `${each.toFixed(0)} bytes per session`);
  assert.ok(process.memoryUsage().heapUsed - parsed < 64 * 1024, `${process.memoryUsage().heapUsed - parsed} bytes for two captures' key logs`);
  assert.equal(perCapture[1]!.secretsFor(Buffer.from(hex(7, 32), 'hex'))!.serverTrafficSecret0, keyText(Buffer.from(hex(4 * 7 + 4, 32), 'hex')));
  assert.equal(log.size, sessions);
});

test('keyLogFromDsb: the text, without NUL padding', () => {
  const text = `CLIENT_RANDOM ${'ab'.repeat(32)} ${'cd'.repeat(48)}\n`;
  assert.equal(keyLogFromDsb(Buffer.concat([Buffer.from(text), Buffer.alloc(3)])), text);
  assert.equal(DSB_TLS_KEY_LOG, Buffer.from('TLSK').readUInt32BE(0));
});

// ---------------------------------------------------------------- key derivation against published vectors

test('HKDF-Expand-Label: RFC 8448 server handshake key and IV', () => {
  const secret = Buffer.from('b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38', 'hex');
  assert.equal(hkdfExpandLabel('sha256', secret, 'key', 16).toString('hex'), '3fce516009c21727d0f2e4e86ee403bc');
  assert.equal(hkdfExpandLabel('sha256', secret, 'iv', 12).toString('hex'), '5d313eb2671276ee13000b30');
});

test('TLS 1.2 PRF (P_SHA256): the test vector from the IETF TLS list', () => {
  const out = tls12Prf('sha256', Buffer.from('9bbe436ba940f017b17652849a71db35', 'hex'), 'test label', Buffer.from('a0ba9f936cda311827a6f796ffd5198c', 'hex'), 100);
  assert.equal(out.toString('hex'),
    'e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a6b301791e90d35c9c9a46b4e14baf9af0fa022f7077def17abfd3797c0564b' +
    'ab4fbc91666e9def9b97fce34f796789baa48082d122ee42c5a72e5a5110fff70187347b66');
});

test('TLS 1.3 record padding (RFC 8446 §5.4): zeros after the content type are stripped; all-zero plaintext is type 0', () => {
  const suite = tls13Suite(0x1301)!;
  const secret = crypto.randomBytes(32);
  const key = hkdfExpandLabel('sha256', secret, 'key', 16);
  const iv = hkdfExpandLabel('sha256', secret, 'iv', 12);
  const seal = (seq: number, inner: Buffer): TlsRecord => {
    const nonce = Buffer.from(iv);
    for (let i = 0; i < 8; i++) nonce[nonce.length - 1 - i]! ^= Math.floor(seq / 2 ** (8 * i)) & 0xff;
    const header = Buffer.from([23, 3, 3, (inner.length + 16) >> 8, (inner.length + 16) & 0xff]);
    const cipher = crypto.createCipheriv('aes-128-gcm', key, nonce);
    cipher.setAAD(header);
    const body = Buffer.concat([cipher.update(inner), cipher.final(), cipher.getAuthTag()]);
    return { type: 23, version: 0x0303, header, body, frame: seq + 1 };
  };
  const protection = new Tls13Protection(suite, keyText(secret));
  const text = Buffer.from('a1 OK done\r\n\0\0');
  // Application data with 100 octets of padding; the data itself ends in zero octets, which stay.
  const padded = protection.open(seal(0, Buffer.concat([text, Buffer.from([23]), Buffer.alloc(100)])))!;
  assert.equal(padded.type, 23);
  assert.ok(padded.content.equals(text), padded.content.toString('latin1'));
  const handshake = protection.open(seal(1, Buffer.concat([Buffer.from([1, 2, 3]), Buffer.from([22]), Buffer.alloc(7)])))!;
  assert.deepEqual([handshake.type, [...handshake.content]], [22, [1, 2, 3]]);
  assert.deepEqual(protection.open(seal(2, Buffer.alloc(20))), { type: 0, content: Buffer.alloc(0) });
});

test('many clients replaying the recorded IMAPS session (the bench\'s idling-tls) are each decrypted with its key log', async () => {
  const { SCALE_OPTIONS } = await import('../bench/scale-captures.js');
  const { analyzeCapture } = await import('../src/analysis/analyzer.js');
  assert.deepEqual(SCALE_OPTIONS['idling-tls'], ['--keylog', join(CAPTURES, 'imaps-tls13.keys')]);
  await withScaleCapture('idling-tls', 40, async (path, made) => {
    const keys = KeyLog.parse(readFileSync(join(CAPTURES, 'imaps-tls13.keys'), 'utf8'));
    const commands: string[] = [];
    const analysis = await analyzeCapture(path, { keys, onExchange: (ex) => { if (ex.status === 'OK') commands.push(`${ex.conn} ${ex.command}`); } });
    assert.equal(commands.length, made.exchanges, 'what the generator says a dissector must report');
    assert.deepEqual(commands.filter((c) => c.startsWith('7 ')), ['7 CAPABILITY', '7 LOGIN', '7 SELECT'], 'up to the SELECT of the recorded session');
    assert.equal(analysis.connections.length, 40);
    for (const c of analysis.connections) {
      assert.equal(c.tls?.decrypted, true, `connection ${c.conn.id} decrypted`);
      assert.equal(c.user, 'alice');
      assert.equal(c.selected?.name, 'INBOX');
    }
  });
});

test('IMAPS connections captured mid-way (the bench\'s midway-tls): each seen as TLS begun before the capture, nothing decrypted, no warning', async () => {
  const { analyzeCapture } = await import('../src/analysis/analyzer.js');
  await withScaleCapture('midway-tls', 25, async (path, made) => {
    const keys = KeyLog.parse(readFileSync(join(CAPTURES, 'imaps-tls13.keys'), 'utf8'));
    const analysis = await analyzeCapture(path, { keys });
    assert.equal(made.exchanges, 0);
    assert.equal(analysis.connections.length, 25);
    for (const c of analysis.connections) {
      assert.equal(c.conn.sawSyn, false);
      assert.equal(c.tls?.how, 'implicit');
      assert.equal(c.tls?.decrypted, false);
      assert.equal(c.commands, 0);
    }
  });
});

test('decrypt() puts the decryptor to rest between records, in every chunking of the recordings', async () => {
  for (const s of [tls13, tls12]) {
    const keys = KeyLog.parse(s.keyLogs[0]!.text);
    const segments = afterPrefix((await captureChunks(s.pcap)).chunks, s.start);
    for (const { name, sizes } of CHUNKINGS) {
      const { rests } = decryptOnce(keys, rechunk(segments, sizes), true, true);
      // Wherever a record ends once the handshake's keys are in use: 16 to 19 times in these sessions, in any chunking.
      assert.ok(rests >= 15, `${s.name}, ${name}: ${rests} rests`);
    }
  }
});
