/**
 * Every public sample capture (../shared/captures/public, described in its SOURCES.md) read end to end:
 * no crash, TCP streams identical to tshark's, and the true request counts (tshark 4.0 invents requests
 * out of literal lines on three of them; we must not).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { collectStreams } from '../src/analysis/streams.js';
import { analyzeCapture } from '../src/analysis/analyzer.js';
import { streamCapture } from '../src/pipeline.js';
import type { Side } from '../src/tcp/types.js';
import { NO_PUBLIC, NO_TSHARK, PUBLIC, hasPublic, hasTshark, publicCapture, tshark, tsharkFollow, unavailable } from './helpers/env.js';

const files = hasPublic ? readdirSync(PUBLIC).filter((f) => /\.(pcap|pcapng|cap)$/.test(f)).sort() : [];

/** Tagged client requests in the reassembled client stream, from SOURCES.md ("Req"). */
const TRUE_REQUESTS: Record<string, number> = {
  'arkime-imap.pcap': 26, 'arkime-imap-tag.pcap': 0, 'arkime-ntlm_synthetic.pcap': 2, 'arkime-arkime_synthetic.pcap': 3,
  'ndpi-imap.pcap': 6, 'ndpi-imaps.pcap': 0, 'ndpi-6in4tunnel.pcap': 0, 'zeek-imap-starttls.pcap': 2, 'zeek-telesec.pcap': 0,
  // Before STARTTLS: ". CAPABILITY" and ". STARTTLS"; the other two are inside TLS.
  'lekensteyn-imap-ssl.pcapng': 2,
  'protolens-imap.pcap': 16, 'protolens-imap_append.pcap': 33, 'protolens-imap_fetch.pcap': 22,
  'bruteshark-IMAP-Authenticate_CRAM-MD5.cap': 9, 'bruteshark-IMAP-Authenticate_Digest-MD5.pcap': 5,
  'bruteshark-IMAP-Authenticate_Plain_Base64.pcapng': 48, 'bruteshark-IMAP-Authenticate_XYMPKI.pcap': 10,
  'bruteshark-IMAP-Login_Plaintext_2.pcapng': 16, 'bruteshark-IMAP-Login_Plaintext_3.pcap': 14,
  'suricata-verify-tcp-async-01-input.pcap': 0, 'peafowl-imap.cap': 26, 'chrissanders-mail_receiver_server_3.pcapng': 1,
};

async function rawStreams(path: string): Promise<Map<number, Record<Side, Buffer>>> {
  const parts = new Map<number, Record<Side, Buffer[]>>();
  await streamCapture(path, {
    open: (c) => { parts.set(c.id, { client: [], server: [] }); },
    data: (c, side, bytes) => { parts.get(c.id)![side].push(Buffer.from(bytes)); },
    gap: () => {},
    close: () => {},
  }, () => {});
  return new Map([...parts].map(([id, p]) => [id, { client: Buffer.concat(p.client), server: Buffer.concat(p.server) }]));
}

test('public captures: every file is read without a crash and with the true request count', { skip: unavailable(!hasPublic && NO_PUBLIC) }, async (t) => {
  // The folder holds exactly the files the table knows: a file gone missing or added unseen fails here.
  assert.deepEqual(files, Object.keys(TRUE_REQUESTS).sort());
  let read = 0;
  for (const f of files) {
    await t.test(f, async () => {
      const a = await analyzeCapture(publicCapture(f), { keepExchanges: true });
      assert.ok(a.capture.frames > 0);
      const requests = a.exchanges!.filter((e) => !e.requestMissing).length;
      assert.equal(requests, TRUE_REQUESTS[f], `${f}: requests`);
      read++;
    });
  }
  assert.equal(read, 22);
});

// `tshark -z conv,tcp` counts frame bytes (headers included, retransmissions twice), so the byte check is made
// against what tshark reassembles (`-z follow,tcp,raw`), payload for payload; the ids against tcp.stream.
test('public captures: connection ids and reassembled bytes equal tshark\'s tcp.stream and follow', { skip: unavailable((!hasPublic && NO_PUBLIC) || (!hasTshark && NO_TSHARK)) }, async (t) => {
  // peafowl-imap.cap is corrupt after frame 8: tshark stops there, we resynchronise (own test below).
  for (const f of files.filter((x) => x !== 'peafowl-imap.cap')) {
    await t.test(f, async () => {
      const path = publicCapture(f);
      const ours = await collectStreams(path);
      const streams = await rawStreams(path);
      const theirIds = new Set(tshark(['-r', path, '-Y', '(tcp.port == 143 || tcp.port == 993) && !icmp && !icmpv6', '-T', 'fields', '-e', 'tcp.stream']).split('\n').filter(Boolean).map(Number));
      assert.deepEqual(ours.connections.map((c) => c.id).sort((x, y) => x - y), [...theirIds].sort((x, y) => x - y));
      for (const c of ours.connections) {
        const theirs = tsharkFollow(path, c.id, c.client.port);
        const mine = streams.get(c.id)!;
        assert.ok(mine.client.equals(theirs.client), `${f} conn ${c.id}: client bytes differ (${mine.client.length} vs ${theirs.client.length})`);
        assert.ok(mine.server.equals(theirs.server), `${f} conn ${c.id}: server bytes differ (${mine.server.length} vs ${theirs.server.length})`);
        assert.equal(c.stats.client.bytes, theirs.client.length);
        assert.equal(c.stats.server.bytes, theirs.server.length);
      }
    });
  }
});

test('corrupt peafowl-imap.cap: a warning names the frame and what was read before it, and reading goes on', { skip: unavailable(!hasPublic && NO_PUBLIC) }, async () => {
  const a = await analyzeCapture(publicCapture('peafowl-imap.cap'), { keepExchanges: true });
  const corrupt = a.warnings.find((w) => /corrupt pcap record/.test(w.message));
  assert.ok(corrupt, 'a corruption warning');
  assert.equal(corrupt.frame, 9);
  assert.match(corrupt.message, /frames up to 8 were read/);
  assert.ok(a.warnings.some((w) => /resynchronised/.test(w.message)));
  // The same session as arkime-imap.pcap: after resynchronising, all 26 requests are still found.
  assert.equal(a.exchanges!.filter((e) => !e.requestMissing).length, 26);
  assert.ok(a.capture.frames > 100);
});

test('the lost segment of Login_Plaintext_2 is a gap of exactly 78 bytes, and pairing goes on after it', { skip: unavailable(!hasPublic && NO_PUBLIC) }, async () => {
  const s = await collectStreams(publicCapture('bruteshark-IMAP-Login_Plaintext_2.pcapng'));
  assert.deepEqual(s.connections[0]!.stats.server, { bytes: 916, gaps: 1, gapBytes: 78 });
  const a = await analyzeCapture(publicCapture('bruteshark-IMAP-Login_Plaintext_2.pcapng'), { keepExchanges: true });
  const answered = a.exchanges!.filter((e) => e.status === 'OK').length;
  // One LSUB's answer fell into the lost segment; every other command completed.
  assert.equal(answered, 15);
  assert.equal(a.exchanges!.filter((e) => e.status === null).map((e) => e.command).join(), 'LSUB');
});
