import { test } from 'node:test';
import assert from 'node:assert/strict';
import { T0, recordingFramer } from './helpers/imap.js';
import { DEFAULT_FRAMER_LIMITS, ImapFramer, insideQuotes, literalAtEnd } from '../src/imap/framer.js';
import type { ImapMessage } from '../src/imap/types.js';
import { looksLikeCommand } from '../src/imap/command.js';
import { looksLikeResponse } from '../src/imap/response.js';
import { seededRandom } from './helpers/random.js';

const FETCH = '* 12 FETCH (UID 7 BODY[HEADER.FIELDS (SUBJECT)] {21}\r\nSubject: hi there\r\n\r\n BODY[1] {5}\r\nhello)\r\na5 OK done\r\n';

test('lines and literals frame the same whatever the segment boundaries', () => {
  const whole = recordingFramer('server');
  whole.feed(FETCH);
  assert.equal(whole.messages.length, 2);
  const [fetch, ok] = whole.messages;
  assert.deepEqual(fetch!.lines, ['* 12 FETCH (UID 7 BODY[HEADER.FIELDS (SUBJECT)] {21}', ' BODY[1] {5}', ')']);
  assert.equal(fetch!.literals[0]!.data!.toString(), 'Subject: hi there\r\n\r\n');
  assert.equal(fetch!.literals[1]!.data!.toString(), 'hello');
  assert.deepEqual(ok!.lines, ['a5 OK done']);
  assert.equal(fetch!.wireBytes + ok!.wireBytes, Buffer.byteLength(FETCH));
  for (const size of [1, 2, 3, 7, 19]) {
    const split = recordingFramer('server');
    split.feed(FETCH, size);
    assert.deepEqual(split.messages.map((m) => [m.lines, m.literals.map((l) => l.data?.toString())]),
      whole.messages.map((m) => [m.lines, m.literals.map((l) => l.data?.toString())]), `chunk size ${size}`);
    assert.equal(split.messages[0]!.firstFrame, 1);
  }
});

test('literal forms {n+}, {n-}, ~{n} and {0}; bare LF line ends', () => {
  const f = recordingFramer('client');
  f.feed('a1 APPEND INBOX {3+}\r\nabc\r\na2 APPEND INBOX ~{2}\r\n\x00\x01\na3 LOGIN {0}\r\n {1-}\r\nx\r\n');
  assert.equal(f.messages.length, 3);
  assert.equal(f.messages[0]!.literals[0]!.nonSync, true);
  assert.equal(f.messages[1]!.literals[0]!.binary, true);
  assert.deepEqual([...f.messages[1]!.literals[0]!.data!], [0, 1]);
  assert.deepEqual(f.messages[1]!.lines, ['a2 APPEND INBOX ~{2}', '']);
  assert.equal(f.messages[2]!.literals.length, 2);
  assert.equal(f.messages[2]!.literals[0]!.length, 0);
});

test('{5} inside a quoted string or in status text is not a literal', () => {
  const c = recordingFramer('client');
  c.feed('a1 SEARCH TEXT "odd \\"{5}\r\na2 NOOP\r\n');
  assert.equal(c.messages.length, 2);
  assert.equal(c.messages[0]!.literals.length, 0);
  const s = recordingFramer('server');
  s.feed('* OK [ALERT] quota at {5}\r\na1 NO over quota {5}\r\n+ send {5}\r\n* 1 EXISTS\r\n');
  assert.equal(s.messages.length, 4);
  assert.ok(s.messages.every((m) => m.literals.length === 0));
});

test('a gap inside a literal keeps framing in sync; the literal is marked short', () => {
  const f = recordingFramer('server');
  f.feed('* 1 FETCH (BODY[] {10}\r\n0123');
  f.framer.gap(3, 2, { sec: 0, nsec: 0, digits: 6 });
  f.feed('789)\r\na1 OK\r\n');
  assert.equal(f.messages.length, 2);
  const lit = f.messages[0]!.literals[0]!;
  assert.equal(lit.received, 7);
  assert.equal(lit.data, null);
  assert.equal(f.messages[0]!.damaged, true);
  assert.deepEqual(f.messages[1]!.lines, ['a1 OK']);
});

test('after a gap in line data the framer resynchronises at the next plausible response', () => {
  const f = recordingFramer('server', undefined, looksLikeResponse);
  f.feed('* 3 EXI');
  f.framer.gap(100, 2, { sec: 0, nsec: 0, digits: 6 });
  f.feed('tail of something lost\r\nmore junk\r\n* 4 EXISTS\r\na1 OK\r\n');
  assert.deepEqual(f.messages.map((m) => m.lines[0]), ['* 3 EXI', '* 4 EXISTS', 'a1 OK']);
  assert.equal(f.messages[0]!.damaged, true);
  assert.ok(f.warnings.some((w) => /skipped 35 octets/.test(w)), f.warnings.join('\n'));
});

test('a refused synchronizing literal is abandoned: the next bytes are a new command', () => {
  const f = recordingFramer('client');
  f.feed('a1 APPEND Nowhere {5000}\r\n');
  assert.equal(f.framer.inLiteral, true);
  assert.equal(f.framer.currentTag(), 'a1');
  f.framer.abandonLiteral();
  f.feed('a2 NOOP\r\n');
  assert.deepEqual(f.messages.map((m) => m.lines[0]), ['a1 APPEND Nowhere {5000}', 'a2 NOOP']);
  assert.equal(f.messages[0]!.literals[0]!.received, 0);
});

test('caps: an over-long line is cut with a warning; an impossible literal length is read as text', () => {
  const f = recordingFramer('server', { ...DEFAULT_FRAMER_LIMITS, maxLine: 64, keepLiteral: 16 });
  f.feed(`* SEARCH ${'1 '.repeat(100)}\r\n* 1 FETCH (BODY[] {40}\r\n${'x'.repeat(40)})\r\n* 2 FETCH (BODY[] {99999999999}\r\na1 OK\r\n`);
  assert.equal(f.messages.length, 4);
  assert.equal(f.messages[0]!.damaged, true);
  assert.equal(f.messages[0]!.lines[0]!.length, 64);
  assert.equal(f.messages[1]!.literals[0]!.data, null, 'literals above keepLiteral are counted, not kept');
  assert.equal(f.messages[1]!.literals[0]!.received, 40);
  assert.equal(f.messages[2]!.literals.length, 0);
  assert.ok(f.warnings.some((w) => /longer than 64/.test(w)));
  assert.ok(f.warnings.some((w) => /impossible literal of 99999999999/.test(w)));
});

test('resynchronisation recognisers', () => {
  assert.ok(looksLikeCommand('a001 LOGIN x y'));
  assert.ok(looksLikeCommand('DONE'));
  assert.ok(looksLikeCommand('12 uid fetch 1:* (FLAGS)'));
  assert.ok(!looksLikeCommand('Subject: a1 LOGIN'));
  assert.ok(!looksLikeCommand('hello world'));
  assert.ok(looksLikeResponse('* 12 FETCH (FLAGS ())'));
  assert.ok(looksLikeResponse('a1 OK done'));
  assert.ok(looksLikeResponse('+ idling'));
  assert.ok(!looksLikeResponse('random text here'));
});

test('a {0} literal ends at once: its consumer is told it is complete, and the line goes on after it', () => {
  const ended: boolean[] = [];
  const messages: ImapMessage[] = [];
  const framer = new ImapFramer({
    message: (m) => messages.push(m),
    warn: () => {},
    literalStart: () => ({ write: () => {}, end: (complete) => ended.push(complete) }),
  }, { side: 'server', limits: DEFAULT_FRAMER_LIMITS, plausibleStart: () => true });
  framer.push(Buffer.from('* 1 FETCH (BODY[1] {0}\r\n UID 7)\r\n* 2 FETCH (BODY[1] {2}\r\nhi UID 8)\r\n', 'latin1'), 1, T0);
  assert.deepEqual(ended, [true, true], 'both literals ended complete, the empty one first');
  assert.deepEqual(messages.map((m) => m.lines), [['* 1 FETCH (BODY[1] {0}', ' UID 7)'], ['* 2 FETCH (BODY[1] {2}', ' UID 8)']]);
  assert.equal(messages[0]!.literals[0]!.received, 0);
});

test('literalAtEnd, insideQuotes and the literal the framer begins agree with their plain definitions on random lines', () => {
  const LITERAL = /(~?)\{(\d{1,20})([+-]?)\}$/;
  const inside = (line: string, at: number) => {
    let q = false;
    for (let i = 0; i < at; i++) {
      const c = line[i];
      if (q && c === '\\') i++;
      else if (c === '"') q = !q;
    }
    return q;
  };
  const random = seededRandom(5);
  const alphabet = ['a', ' ', '"', '\\', '{', '}', '~', '+', '-', '1', '0', '9', '(', ')'];
  for (let n = 0; n < 20000; n++) {
    let line = Array.from({ length: Math.floor(random() * 30) }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');
    if (random() < 0.5) line += `${random() < 0.2 ? '~' : ''}{${'7'.repeat(1 + Math.floor(random() * 22))}${random() < 0.3 ? '+' : ''}}`;
    const m = LITERAL.exec(line);
    const ours = line.endsWith('}') ? literalAtEnd(line) : null;
    assert.deepEqual(ours && { at: ours.at, digits: ours.digits, nonSync: ours.nonSync, binary: ours.binary },
      m && { at: m.index, digits: m[2], nonSync: m[3] !== '', binary: m[1] === '~' }, JSON.stringify(line));
    // The framer reads the announcement itself (no parts, no string of the digits): the literal it begins is the one
    // the definition finds, outside quotes and below 2^32 octets, or none.
    let begun: { length: number; nonSync: boolean; binary: boolean } | null = null;
    const framer = new ImapFramer({
      message: () => {},
      warn: () => {},
      literalStart: (_msg, lit) => {
        begun = { length: lit.length, nonSync: lit.nonSync, binary: lit.binary };
        return null;
      },
    }, { side: 'server', limits: DEFAULT_FRAMER_LIMITS, plausibleStart: () => true });
    framer.push(Buffer.from(`* 1 FETCH ${line}\r\n`, 'latin1'), 1, T0);
    const announced = m && !inside(line, m.index) && Number(m[2]) < 2 ** 32 ? { length: Number(m[2]), nonSync: m[3] !== '', binary: m[1] === '~' } : null;
    assert.deepEqual(begun, announced, `framed: ${JSON.stringify(line)}`);
    const at = Math.floor(random() * (line.length + 1));
    assert.equal(insideQuotes(line, at), inside(line, at), `${JSON.stringify(line)} at ${at}`);
  }
});

test('a message past the cap on literals keeps its first pieces and its last line, and counts the rest', () => {
  const starts: string[] = [];
  const messages: ImapMessage[] = [];
  const warnings: string[] = [];
  const framer = new ImapFramer({
    message: (m) => messages.push(m), warn: (frame, w) => warnings.push(`${frame}: ${w}`),
    literalStart: (_m, lit) => { starts.push(String(lit.length)); return null; },
  }, { side: 'client', limits: { ...DEFAULT_FRAMER_LIMITS, maxLiterals: 3 }, plausibleStart: () => true });
  const wire = 'a1 APPEND INBOX {1+}\r\na {1+}\r\nb {2+}\r\ncc {3+}\r\nddd {4+}\r\neeee\r\na2 NOOP\r\n';
  framer.push(Buffer.from(wire, 'latin1'), 7, T0);
  assert.equal(messages.length, 2, 'the command after it is framed as before');
  const m = messages[0]!;
  assert.deepEqual(m.lines, ['a1 APPEND INBOX {1+}', ' {1+}', ' {2+}', '']);
  assert.deepEqual(m.literals.map((l) => l.data?.toString('latin1')), ['a', 'b', 'cc']);
  // The two pieces not kept: " {3+}\r\n" and "ddd", " {4+}\r\n" and "eeee".
  assert.deepEqual(m.elided, { literals: 2, octets: 7 + 3 + 7 + 4 });
  assert.equal(m.wireBytes, wire.length - 'a2 NOOP\r\n'.length, 'every octet counts');
  assert.deepEqual(starts, ['1', '1', '2'], 'nobody is handed a literal the message does not keep');
  assert.deepEqual(warnings, ['7: client message starting in frame 7 has 5 literals, more than the 3 a message keeps: the other 2 literals (21 octets) were counted, not kept']);
  assert.equal(messages[1]!.elided, undefined);
});

test('a message past the cap on octets held keeps the piece that reached it, and counts the rest', () => {
  const f = recordingFramer('client', { ...DEFAULT_FRAMER_LIMITS, maxHeldOctets: 30 });
  f.feed(`a1 APPEND INBOX {20}\r\n${'x'.repeat(20)} {20}\r\n${'y'.repeat(20)} {20}\r\n${'z'.repeat(20)}\r\n`);
  const m = f.messages[0]!;
  assert.deepEqual(m.literals.map((l) => l.data?.toString('latin1')), ['x'.repeat(20)], '20 octets of line and 20 of literal: the cap is reached');
  assert.deepEqual(m.elided, { literals: 2, octets: 2 * (' {20}\r\n'.length + 20) });
  assert.match(f.warnings[0]!, /^client message starting in frame 1 holds more than the 30 octets a message keeps: its last 2 literals \(54 octets\) were counted, not kept$/);
});

test('a FETCH response is cut into instalments by the octets it holds too', () => {
  const f = recordingFramer('server', { ...DEFAULT_FRAMER_LIMITS, instalmentOctets: 20 });
  // 22 characters and 4 octets reach 20: cut after the first item; then 12 + 4 a piece, so the next cut is after two.
  f.feed('* 1 FETCH (BODY[1] {4}\r\nabcd BODY[2] {4}\r\nefgh BODY[3] {4}\r\nijkl BODY[4] {4}\r\nmnop)\r\n');
  assert.deepEqual(f.messages.map((m) => [m.instalment?.index, m.instalment?.last, m.literals.map((l) => l.data?.toString('latin1')).join()]),
    [[0, false, 'abcd'], [1, false, 'efgh,ijkl'], [2, true, 'mnop']]);
  assert.equal(f.messages.every((m) => m.elided === undefined), true);
});
