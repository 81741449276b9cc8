/** FetchTracker on scripted sessions: sequence numbers to UIDs across EXPUNGE, damaged input reported. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FetchTracker } from '../src/analysis/fetches.js';
import { feedTracker } from './helpers/imap.js';

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
