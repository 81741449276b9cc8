/**
 * Cross-check against tshark where tshark is right: tags, command names and frame numbers of requests
 * and of tagged responses. tshark reads IMAP segment by segment, so it also lists SASL lines and DONE as
 * "requests" and every line of a FETCH as a "response": those are filtered out here, not compared.
 * It cannot see inside COMPRESS (mbsync) or TLS, so those captures are left out.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { analyzeCapture } from '../src/analysis/analyzer.js';
import { KNOWN_COMMANDS } from '../src/imap/command.js';
import { CAPTURES, NO_PUBLIC, NO_TSHARK, hasPublic, hasTshark, publicCapture, tshark, unavailable } from './helpers/env.js';

const recorded = readdirSync(CAPTURES).filter((f) => /\.pcap(ng)?$/.test(f) && !/mbsync|tls/.test(f)).map((f) => join(CAPTURES, f));
const publicOnes = hasPublic
  ? ['arkime-imap.pcap', 'ndpi-imap.pcap', 'bruteshark-IMAP-Login_Plaintext_3.pcap', 'bruteshark-IMAP-Authenticate_CRAM-MD5.cap',
    'bruteshark-IMAP-Authenticate_XYMPKI.pcap', 'zeek-imap-starttls.pcap', 'chrissanders-mail_receiver_server_3.pcapng'].map(publicCapture)
  : [];
unavailable(!hasPublic && NO_PUBLIC);

/** tshark joins repeated fields of one frame with commas: unzip them into one row per occurrence. */
function rows(path: string, filter: string, fields: string[]): string[][] {
  const out: string[][] = [];
  for (const line of tshark(['-r', path, '-Y', filter, '-T', 'fields', ...fields.flatMap((f) => ['-e', f])]).split('\n')) {
    if (!line) continue;
    const [frame, ...cols] = line.split('\t');
    const split = cols.map((c) => c.split(','));
    for (let i = 0; i < split[0]!.length; i++) out.push([frame!, ...split.map((s) => s[i] ?? '')]);
  }
  return out;
}

test('the cross-check reads every recording but mbsync (COMPRESS) and the TLS ones, and the seven public files', () => {
  assert.deepEqual(recorded.map((p) => p.split('/').pop()).sort(), ['append-idle.pcap', 'curl.pcap', 'fetchmail.pcap', 'offlineimap.pcapng', 'seed-alice.pcap', 'seed-bob.pcap']);
  if (hasPublic) assert.equal(publicOnes.length, 7);
});

for (const path of [...recorded, ...publicOnes]) {
  test(`tshark agrees on requests and tagged responses: ${path.split('/').pop()}`, { skip: unavailable(!hasTshark && NO_TSHARK) }, async () => {
    const a = await analyzeCapture(path, { keepExchanges: true });
    const ours = a.exchanges!;
    const requests = rows(path, 'imap.request', ['frame.number', 'imap.request_tag', 'imap.request.command'])
      .filter(([, tag, cmd]) => tag && KNOWN_COMMANDS.has(cmd!.toUpperCase()) && cmd!.toUpperCase() !== 'UID');
    let compared = 0;
    for (const [frame, tag, cmd] of requests) {
      const ex = ours.find((e) => e.tag === tag && e.requestFrame === Number(frame));
      assert.ok(ex, `tshark request ${tag} ${cmd} in frame ${frame} is missing`);
      assert.equal(ex.command.replace(/^UID /, ''), cmd!.toUpperCase());
      compared++;
    }
    const tags = new Set(ours.map((e) => e.tag));
    const responses = rows(path, 'imap.response', ['frame.number', 'imap.response_tag', 'imap.response.status'])
      .filter(([, tag, status]) => tags.has(tag!) && tag !== '*' && /^(OK|NO|BAD)$/.test(status!));
    for (const [frame, tag, status] of responses) {
      const ex = ours.find((e) => e.tag === tag && e.responseFrame === Number(frame));
      assert.ok(ex, `tshark response ${tag} ${status} in frame ${frame} is missing`);
      assert.equal(ex.status, status);
      compared++;
    }
    assert.ok(compared >= 2, 'something was compared');
  });
}
