/**
 * A long FETCH response is handed on in instalments (FramerLimits.instalmentLiterals), so that a response of a hundred
 * thousand sections is never held whole: the framer cuts only between the response's items, the session counts the
 * response once and sends every instalment where the first went, and what every view is made of stays the same.
 */
import { test } from 'node:test';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Extractor } from '../src/extract/extractor.js';
import assert from 'node:assert/strict';
import { analyzeWithFetches, type FullAnalysis } from '../src/analysis/full.js';
import { FetchTracker, MAX_STEP_ITEMS } from '../src/analysis/fetches.js';
import { messageView } from '../src/analysis/message-view.js';
import { DEFAULT_FRAMER_LIMITS } from '../src/imap/framer.js';
import { listDepthAfter } from '../src/imap/tokens.js';
import type { ImapMessage } from '../src/imap/types.js';
import { everyCapture } from './helpers/every-capture.js';
import { CAPTURES } from './helpers/env.js';
import { feedTracker, recordingFramer } from './helpers/imap.js';

const small = (instalmentLiterals: number) => ({ ...DEFAULT_FRAMER_LIMITS, instalmentLiterals });

/** A response of `count` sections `BODY[i] {5}`, with a UID first and FLAGS last. */
function longFetch(count: number): string {
  let text = '* 1 FETCH (UID 7';
  for (let i = 1; i <= count; i++) text += ` BODY[${i}] {5}\r\npart${i % 10}`;
  return `${text} FLAGS (\\Seen))\r\n`;
}

/** The message's text as the wire had it, from its line pieces and its literals. */
function wireText(m: ImapMessage): string {
  return m.lines.map((line, i) => (m.literals[i] ? `${line}\r\n${m.literals[i]!.data!.toString('latin1')}` : line)).join('');
}

test('a FETCH response past the cap is cut into instalments after its item literals, which together are the response', () => {
  const f = recordingFramer('server', small(3));
  f.feed(`${longFetch(10)}a1 OK done\r\n`, 7);
  const parts = f.messages.slice(0, -1);
  // Cut after the 3rd, 6th and 9th literal: four instalments, the last with the 10th literal and the end of the line.
  assert.deepEqual(parts.map((m) => m.instalment && { ...m.instalment }), [0, 1, 2, 3].map((index) => ({ head: '* 1 FETCH (UID 7 BODY[1] {5}', index, last: index === 3 })));
  assert.deepEqual(parts.map((m) => m.literals.length), [3, 3, 3, 1]);
  assert.equal(parts.map(wireText).join(''), longFetch(10).replace(/\r\n$/, ''));
  assert.equal(parts.reduce((n, m) => n + m.wireBytes, 0), longFetch(10).length);
  assert.equal(f.messages.at(-1)!.lines[0], 'a1 OK done');
  assert.equal(f.messages.at(-1)!.instalment, undefined);
  assert.deepEqual(f.warnings, []);
});

test('no cut inside an item (a literal in an ENVELOPE), none in a client command or another response, none under the cap', () => {
  const envelope = (i: number) => ` ENVELOPE (NIL {6}\r\nsubj0${i} NIL NIL NIL NIL NIL NIL NIL NIL)`;
  const f = recordingFramer('server', small(2));
  f.feed(`* 2 FETCH (UID 9 BODY[1] {1}\r\nx${envelope(1)} BODY[2] {1}\r\ny BODY[3] {1}\r\nz${envelope(2)} BODY[4] {1}\r\nw)\r\n`);
  // In each instalment the 2nd literal reaches the cap inside an ENVELOPE: the cut waits for the 3rd, an item.
  assert.deepEqual(f.messages.map((m) => m.literals.length), [3, 3, 0]);
  assert.deepEqual(f.messages.map((m) => m.lines.at(-2)?.slice(-11)), ['BODY[2] {1}', 'BODY[4] {1}', undefined]);

  const c = recordingFramer('client', small(2));
  c.feed('a1 APPEND INBOX {1}\r\nx {1}\r\ny {1}\r\nz\r\n');
  assert.equal(c.messages.length, 1);
  const s = recordingFramer('server', small(2));
  s.feed('* ID ("a" {1}\r\nx "b" {1}\r\ny "c" {1}\r\nz)\r\n* 3 FETCH (BODY[1] {1}\r\nx)\r\n');
  assert.equal(s.messages.length, 2);
  assert.ok(s.messages.every((m) => m.instalment === undefined));
});

test('the nesting the framer counts steps over quoted strings and bracketed sections', () => {
  assert.equal(listDepthAfter('* 1 FETCH (UID 1 BODY[HEADER.FIELDS (FROM TO)] {5}', 0), 1);
  assert.equal(listDepthAfter(' ENVELOPE ("a (b" "c \\" (d" NIL (', 1), 3);
  assert.equal(listDepthAfter(')) BODY[1] {2}', 3), 1);
  assert.equal(listDepthAfter(')))', 1), 0);
});

test('a gap right after an instalment ends the response as damaged; the next response is whole again', () => {
  const f = recordingFramer('server', small(2));
  f.feed('* 1 FETCH (BODY[1] {1}\r\nx BODY[2] {1}\r\ny');
  f.framer.gap(100, 3, { sec: 0, nsec: 0, digits: 6 });
  f.feed('* 2 FETCH (BODY[1] {1}\r\nx)\r\n');
  assert.deepEqual(f.messages.map((m) => [m.instalment?.index, m.instalment?.last, m.damaged]), [[0, false, false], [1, true, true], [undefined, undefined, false]]);
  assert.equal(f.messages[2]!.lines[0], '* 2 FETCH (BODY[1] {1}');
});

test('the session counts a response in instalments once, and the tracker gets every section, hashed, under one message', () => {
  const wanted = 10_000;
  const tracker = new FetchTracker();
  const warnings: string[] = [];
  const warnTracker = new FetchTracker({ warn: (_f, _c, m) => warnings.push(m) });
  for (const t of [tracker, warnTracker]) {
    feedTracker(t, [['server', '* OK ready\r\n'], ['client', 'a1 UID FETCH 7 (UID BODY.PEEK[1:*])\r\n'], ['server', `${longFetch(wanted)}a1 OK done\r\n`]]);
  }
  const [message, ...others] = tracker.list();
  assert.equal(others.length, 0);
  assert.equal(message!.uid, 7);
  assert.equal(message!.fetches.length, wanted, 'every section, across the default cap of 4,096 literals');
  assert.ok(message!.fetches.every((f) => f.sha256 !== null && f.bytes === 5), 'every literal hashed as it streamed, in every instalment');
  assert.deepEqual(message!.flags, ['\\Seen'], 'the FLAGS after the last section');
  const [step] = tracker.steps;
  assert.equal(step!.messages, 1, 'one response, one message');
  assert.equal(step!.items.length, MAX_STEP_ITEMS, 'a step lists at most the cap of different items');
  assert.deepEqual(warnings.filter((w) => w.includes('(the cap on those its step lists)')).length, 1);
});

/**
 * What the views are made of, with each section's frame left out (it is where its instalment ended), and each step's
 * items in order of name: an instalment's items join the step after the earlier instalments' (a whole response lists
 * its BODYSTRUCTURE before its sections, whatever their order).
 */
function made(a: FullAnalysis): object {
  const sections = a.fetches.list().map(messageView).map((m) => ({ ...m, fetches: [...m.fetches].map((f) => ({ ...f, frame: 0 })) }));
  const steps = a.fetches.steps.map((s) => ({ ...s, items: [...s.items].sort() }));
  return { exchanges: a.exchanges, connections: a.connections, warnings: a.warnings, sections, steps };
}

test('on every recorded and public capture, cutting after every item literal changes nothing but where a section is said to end', async () => {
  let cut = 0;
  for (const { path, keys } of everyCapture()) {
    const whole = await analyzeWithFetches(path, { keepExchanges: true, keys: keys() });
    const frames = whole.fetches.list().flatMap((m) => [...messageView(m).fetches].map((f) => f.frame));
    const cutUp = await analyzeWithFetches(path, { keepExchanges: true, keys: keys(), framerLimits: { instalmentLiterals: 1 }, onMessage: (m) => { if (m.instalment) cut++; } });
    assert.deepEqual(made(cutUp), made(whole), path);
    // A section ends where its instalment did: no later than where the whole response did.
    const cutFrames = cutUp.fetches.list().flatMap((m) => [...messageView(m).fetches].map((f) => f.frame));
    assert.ok(cutFrames.every((frame, i) => frame <= frames[i]!), path);
  }
  assert.ok(cut > 100, `responses were cut (${cut} instalments)`);
});

/** What `extract` writes of a capture (as src/cli/run/extract.ts wires it): each file's name and octets. */
async function extracted(path: string, instalmentLiterals?: number): Promise<Map<string, string>> {
  const out = mkdtempSync(join(tmpdir(), 'imapscope-instalments-extract-'));
  try {
    const extractor = new Extractor(out, false, () => {});
    const analysis = await analyzeWithFetches(path, { framerLimits: instalmentLiterals === undefined ? undefined : { instalmentLiterals }, onLiteralStart: (m, l) => extractor.literalStart(m, l) }, {
      onSection: (m, f, s) => extractor.section(m, f, s), numberSections: true, steps: false, spill: { budget: 10_000, dir: extractor.tmpDir },
    });
    await extractor.finish(path, analysis.fetches.sorted());
    const files = new Map<string, string>();
    const walk = (dir: string) => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        const full = join(dir, e.name);
        if (e.isDirectory()) walk(full);
        else files.set(full.slice(out.length), readFileSync(full, 'latin1'));
      }
    };
    walk(out);
    return files;
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

test('extract writes the same files, manifest included, when every FETCH response is cut after each item literal', async () => {
  for (const name of ['mbsync.pcap', 'offlineimap.pcapng', 'seed-alice.pcap', 'fetchmail.pcap']) {
    const path = join(CAPTURES, name);
    const whole = await extracted(path);
    assert.ok(whole.size > 2, `${name}: ${whole.size} files`);
    assert.deepEqual(await extracted(path, 1), whole, name);
  }
});

test('a response in instalments beyond the mailbox (its UID not kept for the number) is still one message', () => {
  const warnings: string[] = [];
  const tracker = new FetchTracker({ warn: (_f, _c, m) => warnings.push(m) });
  const count = DEFAULT_FRAMER_LIMITS.instalmentLiterals + 100;
  const response = longFetch(count).replace('* 1 FETCH', '* 100000000 FETCH');
  feedTracker(tracker, [['server', '* OK ready\r\n'], ['client', 'a1 SELECT INBOX\r\n'], ['server', '* 1 EXISTS\r\na1 OK done\r\n'],
    ['client', 'a2 FETCH 100000000 (UID BODY.PEEK[1:*])\r\n'], ['server', `${response}a2 OK done\r\n`]]);
  assert.ok(warnings.some((w) => /beyond the mailbox/.test(w)), 'the premise: the UID is not kept for that number');
  const messages = tracker.list();
  assert.deepEqual(messages.map((m) => [m.uid, m.fetches.length]), [[7, count]]);
});
