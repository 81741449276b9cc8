/**
 * Attribution of untagged responses among pipelined commands (src/imap/attribution.ts): each goes to the
 * command it answers, not simply to the oldest one outstanding.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ATTRIBUTION_WINDOW, SequenceSet, itemKey } from '../src/imap/attribution.js';
import { runSession } from './helpers/imap.js';

const C = (s: string) => ['client', s] as ['client', string];
const S = (s: string) => ['server', s] as ['server', string];

/** `tag: untagged-by-type` for every exchange of a scripted session. */
function credited(steps: ReturnType<typeof C | typeof S>[]): Record<string, Record<string, number>> {
  const { exchanges } = runSession(steps);
  return Object.fromEntries(exchanges.map((e) => [e.tag, e.untaggedByType]));
}

test('sequence sets: ranges either way round, *, merging, and what they exclude', () => {
  const s = SequenceSet.parse('7,1:3,12:10,20:*')!;
  for (const n of [1, 2, 3, 7, 10, 11, 12, 20, 99999]) assert.ok(s.has(n), `${n} in the set`);
  for (const n of [0, 4, 6, 8, 9, 13, 19]) assert.ok(!s.has(n), `${n} not in the set`);
  assert.equal(SequenceSet.parse('1:x'), null);
  assert.equal(SequenceSet.parse('$'), null);
});

test('item keys: PEEK, header field lists and partial ranges are left out, as a response carries them', () => {
  assert.equal(itemKey('BODY.PEEK[HEADER.FIELDS (FROM TO)]<0.100>'), 'BODY[HEADER.FIELDS]');
  assert.equal(itemKey('body[1.2]<0>'), 'BODY[1.2]');
  assert.equal(itemKey('BINARY.PEEK[1]'), 'BINARY[1]');
  assert.equal(itemKey('RFC822.SIZE'), 'RFC822.SIZE');
});

test('pipelined UID FETCHes: each FETCH response goes to the command whose UID set holds its UID', () => {
  const got = credited([
    C('a UID FETCH 1 (BODY.PEEK[])\r\nb UID FETCH 2 (BODY.PEEK[])\r\nc UID FETCH 3 (BODY.PEEK[])\r\n'),
    S('* 1 FETCH (UID 1 BODY[] {1}\r\nx)\r\n* 2 FETCH (UID 2 BODY[] {1}\r\ny)\r\n* 3 FETCH (UID 3 BODY[] {1}\r\nz)\r\n'),
    S('a OK done\r\nb OK done\r\nc OK done\r\n'),
  ]);
  assert.deepEqual(got, { a: { FETCH: 1 }, b: { FETCH: 1 }, c: { FETCH: 1 } });
});

test('sequence-number FETCHes and a STORE: the sequence set and the items decide', () => {
  const got = credited([
    C('a FETCH 1:2 (FLAGS)\r\nb STORE 5 +FLAGS (\\Seen)\r\nc FETCH 3 (RFC822.SIZE)\r\n'),
    S('* 3 FETCH (RFC822.SIZE 100)\r\n* 5 FETCH (FLAGS (\\Seen))\r\n* 1 FETCH (FLAGS ())\r\n* 2 FETCH (FLAGS ())\r\n'),
    S('a OK\r\nb OK\r\nc OK\r\n'),
  ]);
  assert.deepEqual(got, { a: { FETCH: 2 }, b: { FETCH: 1 }, c: { FETCH: 1 } });
});

test('a FETCH response carrying items another FETCH asked for goes to that one, even in the same set', () => {
  const got = credited([
    C('a UID FETCH 1:* (FLAGS)\r\nb UID FETCH 1:* (BODYSTRUCTURE)\r\n'),
    S('* 1 FETCH (UID 4 BODYSTRUCTURE ("text" "plain" NIL NIL NIL "7bit" 1 1))\r\n* 1 FETCH (UID 4 FLAGS ())\r\n'),
    S('a OK\r\nb OK\r\n'),
  ]);
  assert.deepEqual(got, { a: { FETCH: 1 }, b: { FETCH: 1 } });
});

test('a SEARCH pipelined behind a FETCH gets its * SEARCH; ESEARCH goes to the tag it names', () => {
  assert.deepEqual(credited([
    C('a UID FETCH 1:3 (FLAGS)\r\nb UID SEARCH UNSEEN\r\n'),
    S('* SEARCH 2 3\r\n* 1 FETCH (UID 1 FLAGS ())\r\n'),
    S('a OK\r\nb OK\r\n'),
  ]), { a: { FETCH: 1 }, b: { SEARCH: 1 } });
  assert.deepEqual(credited([
    C('a UID SEARCH RETURN (MIN) UNSEEN\r\nb UID SEARCH RETURN (MAX) ALL\r\n'),
    S('* ESEARCH (TAG "b") UID MAX 9\r\n* ESEARCH (TAG "a") UID MIN 2\r\n'),
    S('a OK\r\nb OK\r\n'),
  ]), { a: { ESEARCH: 1 }, b: { ESEARCH: 1 } });
});

test('pipelined STATUS and LIST: each response goes to the command for its mailbox or pattern', () => {
  assert.deepEqual(credited([
    C('a STATUS INBOX (MESSAGES)\r\nb STATUS "Sent" (MESSAGES)\r\nc LIST "" "Archive/%"\r\nd LIST "" "INBOX"\r\n'),
    S('* STATUS "Sent" (MESSAGES 2)\r\n* LIST () "/" INBOX\r\n* LIST () "/" "Archive/2024"\r\n* STATUS INBOX (MESSAGES 3)\r\n'),
    S('a OK\r\nb OK\r\nc OK\r\nd OK\r\n'),
  ]), { a: { STATUS: 1 }, b: { STATUS: 1 }, c: { LIST: 1 }, d: { LIST: 1 } });
});

test('anything else goes to the oldest outstanding command (not the newest)', () => {
  assert.deepEqual(credited([
    C('a NOOP\r\nb CHECK\r\n'),
    S('* 4 EXISTS\r\n* 1 RECENT\r\n'),
    S('a OK\r\nb OK\r\n'),
  ]), { a: { EXISTS: 1, RECENT: 1 }, b: {} });
});

test('a reused tag: the first tagged response completes the command sent first', () => {
  const { exchanges, warnings } = runSession([
    C('x SELECT INBOX\r\nx NOOP\r\n'),
    S('* 3 EXISTS\r\nx OK [READ-WRITE] done\r\nx OK noop done\r\n'),
  ]);
  assert.deepEqual(exchanges.map((e) => `${e.command} ${e.code ?? ''} ${e.text}`), ['SELECT READ-WRITE done', 'NOOP  noop done']);
  assert.equal(exchanges[0]!.untagged, 1);
  assert.ok(warnings.some((w) => /tag x reused/.test(w.message)));
});

test(`a response is matched against the ${ATTRIBUTION_WINDOW} oldest outstanding commands: one further back loses it to the oldest, with one warning naming the cap and the frame`, () => {
  // Pipelined: FETCHes of message 1, then at the end one of message 2 and one LIST of box2. Each response fits only the
  // last of its kind.
  const run = (before: number) => {
    let commands = '';
    for (let i = 0; i < before; i++) commands += `f${i} FETCH 1 (FLAGS)\r\n`;
    const { exchanges, warnings } = runSession([
      C(`${commands}last FETCH 2 (FLAGS)\r\nlist LIST "" box2\r\n`),
      S('* 2 FETCH (FLAGS (\\Seen))\r\n* LIST () "/" box2\r\n* 2 FETCH (FLAGS ())\r\n'),
      S([...Array.from({ length: before }, (_, i) => `f${i} OK\r\n`), 'last OK\r\nlist OK\r\n'].join('')),
    ]);
    return { got: Object.fromEntries(exchanges.map((e) => [e.tag, e.untaggedByType])), said: warnings.map((w) => `${w.frame}: ${w.message}`) };
  };
  // Within the window (the last two are the 63rd and 64th outstanding): each response to its own command.
  const within = run(ATTRIBUTION_WINDOW - 2);
  assert.deepEqual([within.got.last, within.got.list, within.got.f0], [{ FETCH: 2 }, { LIST: 1 }, {}]);
  assert.deepEqual(within.said, []);
  // Two more before them, and both are past it: the responses go to the oldest, and the cap says so once.
  const past = run(ATTRIBUTION_WINDOW);
  assert.deepEqual([past.got.last, past.got.list, past.got.f0], [{}, {}, { FETCH: 2, LIST: 1 }]);
  assert.deepEqual(past.said, [`2: more than ${ATTRIBUTION_WINDOW} commands outstanding (the cap on those an untagged response is matched against): a response none of the oldest ${ATTRIBUTION_WINDOW} takes goes to the oldest`]);
});

test('past the window, the one FETCH among the oldest gets a response only if it answers it', () => {
  const noops = (from: number, count: number) => Array.from({ length: count }, (_, i) => `n${from + i} NOOP\r\n`).join('');
  // A NOOP, a FETCH of message 1, more NOOPs to fill the window, and past it a FETCH of message 2.
  const { exchanges, warnings } = runSession([
    C(`${noops(0, 1)}one FETCH 1 (FLAGS)\r\n${noops(1, ATTRIBUTION_WINDOW)}two FETCH 2 (FLAGS)\r\n`),
    S('* 1 FETCH (FLAGS ())\r\n* 2 FETCH (FLAGS ())\r\n'),
  ]);
  const got = Object.fromEntries(exchanges.map((e) => [e.tag, e.untaggedByType]));
  assert.deepEqual([got.n0, got.one, got.two], [{ FETCH: 1 }, { FETCH: 1 }, {}], 'message 1 to its FETCH; message 2 to the oldest, not to the FETCH of 1');
  assert.equal(warnings.filter((w) => /the cap on those an untagged response is matched against/.test(w.message)).length, 1);
});

test('of thousands outstanding, a response the oldest commands answer goes to them, as without the window, and nothing is said', () => {
  let commands = '';
  for (let i = 0; i < 4000; i++) commands += `f${i} UID FETCH ${i + 1} (FLAGS)\r\n`;
  let responses = '';
  for (let i = 0; i < 4000; i++) responses += `* ${i + 1} FETCH (UID ${i + 1} FLAGS ())\r\nf${i} OK\r\n`;
  const { exchanges, warnings } = runSession([C(commands), S(responses)]);
  assert.ok(exchanges.every((e) => e.untaggedByType.FETCH === 1), 'each FETCH its own response');
  assert.equal(exchanges.length, 4000);
  assert.deepEqual(warnings, []);
});

test(`a continuation request goes to the IDLE among the ${ATTRIBUTION_WINDOW} newest commands; one older than them is not looked for`, () => {
  const run = (after: number) => {
    const noops = Array.from({ length: after }, (_, i) => `n${i} NOOP\r\n`).join('');
    const { exchanges } = runSession([C(`a SELECT INBOX\r\ni IDLE\r\n${noops}`), S('+ idling\r\n')]);
    return Object.fromEntries(exchanges.map((e) => [e.tag, e.continuations]));
  };
  // Commands a client should not send while idling, but a capture can hold: the IDLE is still found among the newest.
  const within = run(ATTRIBUTION_WINDOW - 1);
  assert.deepEqual([within.i, within.a, within[`n${ATTRIBUTION_WINDOW - 2}`]], [1, 0, 0]);
  // Further back, the "+" goes to the newest command, as one for a literal would.
  const beyond = run(ATTRIBUTION_WINDOW);
  assert.deepEqual([beyond.i, beyond[`n${ATTRIBUTION_WINDOW - 1}`]], [0, 1]);
});
