/** FetchTracker on scripted sessions: sequence numbers to UIDs across EXPUNGE, damaged input reported. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FetchTracker } from '../src/analysis/fetches.js';
import { feedTracker } from './helpers/imap.js';
import { seededInt } from './helpers/random.js';

function track(steps: ['client' | 'server', string][]) {
  const warnings: string[] = [];
  const tracker = new FetchTracker({ warn: (_f, _c, m) => warnings.push(m) });
  feedTracker(tracker, steps);
  return { tracker, warnings };
}

test('sequence numbers map to UIDs through FETCH UID data and EXPUNGE renumbering', () => {
  const { tracker } = track([
    ['client', 'a1 SELECT INBOX\r\n'],
    ['server', '* 3 EXISTS\r\n* OK [UIDVALIDITY 77] ok\r\na1 OK [READ-WRITE] done\r\n'],
    ['client', 'a2 FETCH 1:3 (UID)\r\n'],
    ['server', '* 1 FETCH (UID 10)\r\n* 2 FETCH (UID 20)\r\n* 3 FETCH (UID 30)\r\na2 OK\r\n'],
    ['client', 'a3 NOOP\r\n'],
    // Message 1 goes away: what was 3 is now 2.
    ['server', '* 1 EXPUNGE\r\na3 OK\r\n'],
    ['client', 'a4 FETCH 2 (BODY[1])\r\n'],
    ['server', '* 2 FETCH (BODY[1] {5}\r\nhello)\r\na4 OK\r\n'],
  ]);
  const m30 = tracker.list().find((m) => m.uid === 30)!;
  assert.equal(m30.mailbox, 'INBOX');
  assert.equal(m30.uidValidity, 77);
  assert.deepEqual(m30.fetches.map((f) => [f.section, f.bytes, f.tag]), [['1', 5, 'a4']]);
  assert.equal(m30.fetches[0]!.sha256, '2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824');
});

test('a section naming a part the tree lacks is reported; a literal cut short is marked incomplete', () => {
  const { tracker, warnings } = track([
    ['client', 'a1 SELECT INBOX\r\n'],
    ['server', 'a1 OK done\r\n'],
    ['client', 'a2 UID FETCH 5 (BODYSTRUCTURE)\r\n'],
    ['server', '* 1 FETCH (UID 5 BODYSTRUCTURE ("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 5 1))\r\na2 OK\r\n'],
    ['client', 'a3 UID FETCH 5 (BODY[3])\r\n'],
    ['server', '* 1 FETCH (UID 5 BODY[3] {2}\r\nhi)\r\na3 OK\r\n'],
    ['client', 'a4 UID FETCH 5 (BODY[1])\r\n'],
    // The capture ends inside the literal.
    ['server', '* 1 FETCH (UID 5 BODY[1] {100}\r\nonly a part'],
  ]);
  assert.ok(warnings.some((w) => /names part 3, which the message's BODYSTRUCTURE does not have/.test(w)), warnings.join('\n'));
  const cut = tracker.list()[0]!.fetches.find((f) => f.section === '1')!;
  assert.equal(cut.complete, false);
  assert.equal(cut.sha256, null, 'no hash for octets the capture lost');
});

test('EXPUNGE renumbering, several in a row and in the middle: every later sequence number maps to the right UID', () => {
  const { tracker } = track([
    ['client', 'a1 SELECT INBOX\r\n'],
    ['server', '* 5 EXISTS\r\n* OK [UIDVALIDITY 9] ok\r\na1 OK [READ-WRITE] done\r\n'],
    ['client', 'a2 FETCH 1:5 (UID)\r\n'],
    ['server', '* 1 FETCH (UID 10)\r\n* 2 FETCH (UID 20)\r\n* 3 FETCH (UID 30)\r\n* 4 FETCH (UID 40)\r\n* 5 FETCH (UID 50)\r\na2 OK\r\n'],
    ['client', 'a3 EXPUNGE\r\n'],
    // UID 20 goes (2), then what is now 3 — UID 40.
    ['server', '* 2 EXPUNGE\r\n* 3 EXPUNGE\r\na3 OK\r\n'],
    ['client', 'a4 FETCH 1:3 (RFC822.SIZE)\r\n'],
    ['server', '* 1 FETCH (RFC822.SIZE 100)\r\n* 2 FETCH (RFC822.SIZE 300)\r\n* 3 FETCH (RFC822.SIZE 500)\r\na4 OK\r\n'],
  ]);
  const sizes = Object.fromEntries(tracker.list().filter((m) => m.size !== null).map((m) => [m.uid, m.size]));
  assert.deepEqual(sizes, { 10: 100, 30: 300, 50: 500 });
});

test('a tracker that keeps nothing still hands each section with its message as the response gives it (date, flags)', () => {
  const handed: [string | null, string[] | null, string][] = [];
  for (const retain of [true, false]) {
    const tracker = new FetchTracker({ retain, onSection: (m, f) => handed.push([m.internalDate, m.flags, `${retain} ${f.section}`]) });
    feedTracker(tracker, [
      ['client', 'a1 SELECT INBOX\r\n'],
      ['server', '* 1 EXISTS\r\n* OK [UIDVALIDITY 3] ok\r\na1 OK done\r\n'],
      ['client', 'a2 UID FETCH 7 (FLAGS INTERNALDATE BODY.PEEK[1])\r\n'],
      ['server', '* 1 FETCH (UID 7 FLAGS (\\Seen $Label1) INTERNALDATE "03-Mar-2024 05:02:22 +0000" BODY[1] {2}\r\nhi)\r\na2 OK\r\n'],
    ]);
  }
  const date = '03-Mar-2024 05:02:22 +0000';
  assert.deepEqual(handed, [[date, ['\\Seen', '$Label1'], 'true 1'], [date, ['\\Seen', '$Label1'], 'false 1']]);
});

test('the envelope fields of a fetched header, read in one pass, are what a search per field finds (random headers)', async () => {
  const { headerFields } = await import('../src/mime/header-envelope.js');
  // The reference: the first line, after CR or LF, that starts with the name and a colon (any case); its value
  // after the blanks, to the next CR or LF; lines folded first, and nothing after the header's blank line.
  const searched = (raw: Buffer, name: string): string | undefined => {
    const end = raw.indexOf('\r\n\r\n');
    const text = raw.toString('latin1', 0, end < 0 ? raw.length : end).replace(/\r?\n[ \t]+/g, ' ');
    return new RegExp(`^${name}:[ \\t]*(.*)$`, 'im').exec(text)?.[1];
  };
  const rand = seededInt(9);
  const names = ['Date', 'SUBJECT', 'from', 'Message-ID', 'Message-Id', 'X-From', 'Subject ', 'To', 'From', 'Fr:om'];
  const values = ['', ' ', '\t x', 'Re: a: b', 'caf\xe9 =?utf-8?q?x?=', '<id@host>', 'A <a@b>', ' \t '];
  const breaks = ['\r\n', '\n', '\r', '\r\n ', '\r\n\t', '\n  ', '\r\n\r\n'];
  for (let i = 0; i < 5000; i++) {
    // Some start with a line of garbage, or with a line break (a blank line first: an empty header).
    let header = rand(4) === 0 ? 'garbage line\r\n' : rand(4) === 0 ? breaks[rand(breaks.length)]! : '';
    // Now and then a line break alone: an empty line, or a lone CR after a line's CRLF.
    for (let n = rand(8); n > 0; n--) header += rand(8) === 0 ? breaks[rand(breaks.length)]! : `${names[rand(names.length)]}:${values[rand(values.length)]}${breaks[rand(breaks.length)]}`;
    const raw = Buffer.from(header, 'latin1');
    const got = headerFields(raw);
    for (const name of ['date', 'subject', 'from', 'message-id']) assert.equal(got.get(name), searched(raw, name), JSON.stringify(header));
  }
});

test('a FETCH step lists each item name once, in the order first seen, however many responses and sections carry it', () => {
  const { tracker } = track([
    ['client', 'a1 SELECT INBOX\r\n'],
    ['server', '* 2 EXISTS\r\n* OK [UIDVALIDITY 5] ok\r\na1 OK done\r\n'],
    ['client', 'a2 UID FETCH 1:2 (UID FLAGS BODY.PEEK[HEADER] BODY.PEEK[1]<0>)\r\n'],
    ['server', '* 1 FETCH (UID 1 FLAGS () BODY[HEADER] {2}\r\n\r\n BODY[1]<0> {1}\r\nx)\r\n* 2 FETCH (FLAGS (\\Seen) UID 2 BODY[1]<0> {1}\r\ny BODY[HEADER] {2}\r\n\r\n)\r\na2 OK\r\n'],
    ['client', 'a3 UID FETCH 1 (BODY.PEEK[1] BODY.PEEK[2] BODY.PEEK[1])\r\n'],
    ['server', '* 1 FETCH (UID 1 BODY[1] {1}\r\nx BODY[2] {1}\r\ny BODY[1] {1}\r\nx)\r\na3 OK\r\n'],
  ]);
  assert.deepEqual(tracker.steps.map((s) => [s.tag, s.messages, s.items]), [
    ['a2', 2, ['UID', 'FLAGS', 'BODY[HEADER]', 'BODY[1]']],
    ['a3', 1, ['UID', 'BODY[1]', 'BODY[2]']],
  ]);
});

test('a FETCH naming sequence number 4,000,000,000, then EXPUNGEs: the message keeps its UID, nothing is kept for the number, the tracker goes on', () => {
  const { tracker, warnings } = track([
    ['client', 'a1 SELECT INBOX\r\n'],
    ['server', '* 2 EXISTS\r\n* OK [UIDVALIDITY 9] ok\r\na1 OK [READ-WRITE] done\r\n'],
    ['client', 'a2 FETCH 1:* (UID)\r\n'],
    // A list spliced at each EXPUNGE had a slot for every number up to this one, and never finished the next splice.
    ['server', '* 1 FETCH (UID 10)\r\n* 4000000000 FETCH (UID 5)\r\na2 OK\r\n'],
    ['client', 'a3 EXPUNGE\r\n'],
    ['server', '* 1 EXPUNGE\r\n* 1 EXPUNGE\r\na3 OK\r\n'],
    ['client', 'a4 FETCH 4000000000 (RFC822.SIZE)\r\n'],
    ['server', '* 4000000000 FETCH (RFC822.SIZE 7)\r\na4 OK\r\n'],
  ]);
  const byUid = tracker.list().map((m) => [m.uid, m.seq, m.size]);
  assert.deepEqual(byUid.filter(([uid]) => uid === 5), [[5, 4_000_000_000, null]]);
  assert.ok(byUid.some(([uid, seq, size]) => uid === null && seq === 4_000_000_000 && size === 7), JSON.stringify(byUid));
  assert.deepEqual(warnings.filter((w) => /beyond the mailbox/.test(w)), [
    'FETCH names message 4000000000, beyond the mailbox (2 EXISTS; at most 65536 past the highest number seen, 4194304 in all): its UID 5 is not kept for that number',
  ]);
});

test('expunging a mailbox of 100,000 messages one by one from the front: the numbers left still map to their UIDs', () => {
  const n = 100_000;
  const fetched = Array.from({ length: n }, (_, i) => `* ${i + 1} FETCH (UID ${i + 1000})\r\n`).join('');
  const { tracker } = track([
    ['client', 'a1 SELECT INBOX\r\n'],
    ['server', `* ${n} EXISTS\r\n* OK [UIDVALIDITY 9] ok\r\na1 OK [READ-WRITE] done\r\n`],
    ['client', 'a2 FETCH 1:* (UID)\r\n'],
    ['server', `${fetched}a2 OK\r\n`],
    ['client', 'a3 EXPUNGE\r\n'],
    ['server', `${'* 1 EXPUNGE\r\n'.repeat(n - 1)}a3 OK\r\n`],
    ['client', 'a4 FETCH 1 (RFC822.SIZE)\r\n'],
    ['server', '* 1 FETCH (RFC822.SIZE 42)\r\na4 OK\r\n'],
  ]);
  assert.equal(tracker.list().find((m) => m.uid === n - 1 + 1000)!.size, 42, 'the last message left is number 1');
});
