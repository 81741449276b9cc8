/**
 * What `fetches` shares and streams: a message's BODYSTRUCTURE tree parsed once for every connection that
 * fetches it (and never shared between different messages), the streaming tracker that keeps nothing, and
 * the --json document written message by message — each checked against the plain, unshared way.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { analyzeWithFetches } from '../src/analysis/full.js';
import { FetchTracker, type FetchedMessage } from '../src/analysis/fetches.js';
import { messageView } from '../src/analysis/message-view.js';
import type { ImapMessage } from '../src/imap/types.js';
import { parseBodyStructure } from '../src/mime/bodystructure.js';
import { TokenReader } from '../src/imap/tokens.js';
import { FetchesJsonWriter, messageElements, messageJson, sectionLine, stepJson } from '../src/report/fetches.js';
import { jsonText, LazyArray } from '../src/util/json.js';
import { CAPTURES } from './helpers/env.js';
import { feedTracker, T0 } from './helpers/imap.js';

const TEXT_TREE = '("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 5 1)';
const MIXED_TREE = '(("text" "plain" ("charset" "utf-8") NIL NIL "quoted-printable" 40 2)("application" "pdf" ("name" "a.pdf") NIL NIL "base64" 300 NIL ("attachment" ("filename" "a.pdf")) NIL) "mixed" ("boundary" "b1") NIL NIL)';

/** Several connections, each a scripted session, all feeding one tracker. */
function trackSessions(sessions: ['client' | 'server', string][][], tracker = new FetchTracker(), firstId = 0): FetchTracker {
  sessions.forEach((steps, i) => feedTracker(tracker, steps, firstId + i));
  return tracker;
}

function syncSession(mailbox: string, validity: number, fetches: [number, string][]): ['client' | 'server', string][] {
  return [
    ['client', `a1 SELECT ${mailbox}\r\n`],
    ['server', `* OK [UIDVALIDITY ${validity}] ok\r\na1 OK [READ-WRITE] done\r\n`],
    ['client', 'a2 UID FETCH 1:* (UID BODYSTRUCTURE)\r\n'],
    ['server', `${fetches.map(([uid, tree], i) => `* ${i + 1} FETCH (UID ${uid} BODYSTRUCTURE ${tree})\r\n`).join('')}a2 OK\r\n`],
  ];
}

/** The tree as parsing the BODYSTRUCTURE on its own gives it. */
function unshared(tree: string) {
  const msg: ImapMessage = { side: 'server', lines: [tree], literals: [], firstFrame: 1, lastFrame: 1, start: T0, end: T0, damaged: false, wireBytes: tree.length };
  const [value] = new TokenReader(msg).values();
  return parseBodyStructure(value!);
}

test('one message fetched by many connections keeps one tree, equal to parsing its BODYSTRUCTURE alone', () => {
  const tracker = trackSessions(Array.from({ length: 5 }, () => syncSession('INBOX', 7, [[10, MIXED_TREE]])));
  const [m, ...others] = tracker.list();
  assert.equal(others.length, 0, 'one message (INBOX, UIDVALIDITY 7, UID 10)');
  assert.deepEqual(m!.structure, unshared(MIXED_TREE));
  assert.deepEqual(m!.fetches, [], 'BODYSTRUCTURE is not a section');
});

test('the tree is parsed once per message: a later connection fetching it does not replace it', () => {
  const tracker = new FetchTracker();
  const first = trackSessions([syncSession('INBOX', 7, [[10, MIXED_TREE]])], tracker).list()[0]!.structure;
  trackSessions([syncSession('INBOX', 7, [[10, MIXED_TREE]])], tracker, 1);
  assert.ok(first !== null);
  assert.equal(tracker.list()[0]!.structure, first, 'the same tree object after the second connection fetched it');
});

test('different messages never share a tree: other UID, other UIDVALIDITY, other mailbox', () => {
  const tracker = trackSessions([
    syncSession('INBOX', 7, [[10, MIXED_TREE], [11, TEXT_TREE]]),
    syncSession('INBOX', 8, [[10, TEXT_TREE]]),
    syncSession('Archive', 7, [[10, TEXT_TREE]]),
  ]);
  const trees = new Map(tracker.list().map((m) => [`${m.mailbox}/${m.uidValidity}/${m.uid}`, m.structure]));
  assert.deepEqual(trees.get('INBOX/7/10'), unshared(MIXED_TREE));
  for (const key of ['INBOX/7/11', 'INBOX/8/10', 'Archive/7/10']) assert.deepEqual(trees.get(key), unshared(TEXT_TREE), key);
  assert.equal(new Set(trees.values()).size, 4, 'four messages, four trees');
});

test('without a certain identity (no UIDVALIDITY seen) each BODYSTRUCTURE is read again: the latest wins', () => {
  const noValidity = (tree: string): ['client' | 'server', string][] => [
    ['client', 'a1 SELECT INBOX\r\n'], ['server', 'a1 OK done\r\n'],
    ['client', 'a2 UID FETCH 10 (UID BODYSTRUCTURE)\r\n'], ['server', `* 1 FETCH (UID 10 BODYSTRUCTURE ${tree})\r\na2 OK\r\n`],
  ];
  const tracker = trackSessions([noValidity(MIXED_TREE), noValidity(TEXT_TREE)]);
  assert.deepEqual(tracker.list()[0]!.structure, unshared(TEXT_TREE));
});

const CAPS = ['seed-alice.pcap', 'mbsync.pcap', 'offlineimap.pcapng', 'fetchmail.pcap'].map((c) => join(CAPTURES, c));

test('the streaming tracker (retain: false) hands out the same sections as the keeping one, and keeps nothing', async () => {
  for (const path of CAPS) {
    const kept: string[] = [];
    const streamed: string[] = [];
    await analyzeWithFetches(path, {}, { onSection: (m, f) => kept.push(sectionLine(null, m, f)) });
    const lean = await analyzeWithFetches(path, {}, { retain: false, onSection: (m, f) => streamed.push(sectionLine(null, m, f)) });
    assert.ok(kept.length > 0, path);
    assert.deepEqual(streamed, kept, path);
    assert.equal(lean.fetches.list().length, 0, `${path}: no message kept`);
    assert.equal(lean.fetches.steps.length, 0, `${path}: no step kept`);
  }
});

test('steps without messages (retain: false, steps: true, as compare asks): the same fetch strategy, and no message kept', async () => {
  for (const path of CAPS) {
    const kept = await analyzeWithFetches(path, {}, { stepUids: false });
    const lean = await analyzeWithFetches(path, {}, { retain: false, steps: true, stepUids: false });
    assert.ok(kept.fetches.steps.length > 0, path);
    assert.deepEqual(lean.fetches.steps, kept.fetches.steps, path);
    assert.equal(lean.fetches.list().length, 0, `${path}: no message kept`);
  }
});

test('messages without steps (steps: false, as extract asks): the same messages, and no step kept', async () => {
  for (const path of CAPS) {
    const kept = await analyzeWithFetches(path, {});
    const lean = await analyzeWithFetches(path, {}, { steps: false });
    assert.ok(kept.fetches.steps.length > 0, path);
    assert.equal(lean.fetches.steps.length, 0, `${path}: no step kept`);
    assert.deepEqual(lean.fetches.list(), kept.fetches.list(), path);
  }
});

function wholeAndPieces(messages: FetchedMessage[], rest: object): [string, string] {
  const shown = messages.map(messageView);
  const whole = `${jsonText({ messages: shown.map(messageJson), ...rest }, 2)}\n`;
  let pieces = '';
  const writer = new FetchesJsonWriter((t) => { pieces += t; });
  for (const piece of messageElements(shown, messageJson)) writer.messages(piece);
  for (const piece of writer.tail(rest)) pieces += piece;
  return [pieces, whole];
}

test('--json written message by message is byte for byte the document written whole', async () => {
  for (const path of CAPS) {
    const a = await analyzeWithFetches(path);
    assert.ok(a.fetches.list().length > 0, path);
    const [pieces, whole] = wholeAndPieces(a.fetches.list(), { strategy: a.fetches.steps.map(stepJson), warnings: [] });
    assert.equal(pieces, whole, path);
  }
  // More messages than one piece holds: pieces join with commas.
  const many = trackSessions([syncSession('INBOX', 7, Array.from({ length: 150 }, (_, i) => [i + 1, TEXT_TREE] as [number, string]))]);
  assert.equal(many.list().length, 150);
  const [pieces, whole] = wholeAndPieces(many.list(), { strategy: many.steps.map(stepJson), warnings: [], partial: true });
  assert.equal(pieces, whole);
  let empty = '';
  const writer = new FetchesJsonWriter((t) => { empty += t; });
  for (const piece of writer.tail({ strategy: [], warnings: [] })) empty += piece;
  assert.equal(empty, `${jsonText({ messages: [], strategy: [], warnings: [] }, 2)}\n`);
});

test('FETCH commands asking for the same items share one frozen list; each step lists its own items in order', () => {
  const mixed: ['client' | 'server', string][] = [
    ['client', 'a1 SELECT INBOX\r\n'],
    ['server', '* OK [UIDVALIDITY 7] ok\r\na1 OK [READ-WRITE] done\r\n'],
    ['client', 'a2 UID FETCH 1:2 (FLAGS)\r\n'],
    ['server', '* 1 FETCH (UID 1 FLAGS (\\Seen))\r\n* 2 FETCH (UID 2 FLAGS () RFC822.SIZE 9)\r\na2 OK\r\n'],
  ];
  const tracker = trackSessions([
    syncSession('INBOX', 7, [[10, TEXT_TREE], [11, TEXT_TREE]]),
    syncSession('INBOX', 7, [[10, TEXT_TREE]]),
    mixed,
  ]);
  const [a, b, c] = tracker.steps;
  assert.deepEqual(a!.items, ['UID', 'BODYSTRUCTURE']);
  assert.equal(b!.items, a!.items, 'one list for both syncs');
  assert.ok(Object.isFrozen(a!.items), 'shared, so nobody may change it');
  // An item a later response brings joins that command's list only.
  assert.deepEqual(c!.items, ['UID', 'FLAGS', 'RFC822.SIZE']);
  assert.deepEqual(a!.items, ['UID', 'BODYSTRUCTURE']);
});

test('--json writes the FETCH commands one piece at a time from a lazy list, as the document written whole', async () => {
  const tracker = trackSessions(Array.from({ length: 150 }, () => syncSession('INBOX', 7, [[10, TEXT_TREE]])));
  const steps = tracker.steps.map(stepJson);
  let made = 0;
  const lazy = new LazyArray(function* () { for (const s of steps) { made++; yield s; } });
  const writer = new FetchesJsonWriter(() => {});
  const pieces = [...writer.tail({ strategy: lazy, warnings: [] })];
  assert.equal(made, 150);
  assert.ok(pieces.length > 150 / 64, `the list is written in batches, not as one string (${pieces.length} pieces)`);
  assert.equal(pieces.join(''), `${jsonText({ messages: [], strategy: steps, warnings: [] }, 2)}\n`);
});
