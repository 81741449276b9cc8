import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeMailboxName, encodeMailboxName } from '../src/imap/utf7.js';
import { seededInt } from './helpers/random.js';

/** Pairs of (wire form, Unicode name), each valid and canonical, so both directions must agree. */
const EXAMPLES: Array<[string, string]> = [
  ['~peter/mail/&U,BTFw-/&ZeVnLIqe-', '~peter/mail/台北/日本語'], // RFC 3501 §5.1.3
  ['Entw&APw-rfe', 'Entwürfe'],
  ['&-', '&'],
  ['Tom &- Jerry', 'Tom & Jerry'],
  ['INBOX', 'INBOX'],
  ['', ''],
  ['&AOQA9gD8-', 'äöü'], // one run for adjacent characters
  ['&BB4EQgQ,BEAEMAQyBDsENQQ9BD0ESwQ1-', 'Отправленные'], // "," stands for "/"
  ['&2D3eAA-', '😀'], // astral: a surrogate pair
  ['a&AOk-b&AOk-c', 'aébéc'],
  ['&AAA-', '\u0000'],
  ['[Gmail]/&kAFP4W4IMH8w4TD8MOs-', '[Gmail]/送信済みメール'],
];

test('decodes the RFC example and friends', () => {
  for (const [wire, name] of EXAMPLES) assert.equal(decodeMailboxName(wire), name, wire);
});

test('encodes to the canonical wire form', () => {
  for (const [wire, name] of EXAMPLES) assert.equal(encodeMailboxName(name), wire, name);
});

test('round trips', () => {
  const names = ['Äpfel & Birnen/2024', 'x\u0001y', '\u{1F4E8} Inbox', '~&~', 'a-b&-c', '中文-&', '\u00a0'];
  for (const name of names) assert.equal(decodeMailboxName(encodeMailboxName(name)), name, name);
  for (const [wire] of EXAMPLES) assert.equal(encodeMailboxName(decodeMailboxName(wire)), wire);
});

test('lone surrogates are encoded as U+FFFD', () => {
  assert.equal(encodeMailboxName('a\ud800b'), 'a&,,0-b');
  assert.equal(decodeMailboxName(encodeMailboxName('\udc00')), '\ufffd');
});

test('invalid encodings come back unchanged', () => {
  const invalid = [
    'Tom & Jerry', // bare "&" (a UTF8=ACCEPT name)
    'Entwürfe', // raw non-ASCII
    '&U,BTFw', // no terminating "-"
    '&', // likewise
    '&U/BTFw-', // "/" is not in the modified alphabet
    '&AOQ=-', // padding is not allowed
    '&A-', // 6 bits: not even one byte
    '&AOQA-', // 24 bits: an odd byte count
    '&AOR-', // non-zero padding bits
    '&AGE-', // "a" must be written directly
    '&2D0-', // unpaired high surrogate
    '&3gA-', // unpaired low surrogate
    '&2D0AYQ-', // high surrogate followed by a non-surrogate
    'tab\there', // control characters must be encoded
    'del\u007f',
    '&AOQ&-',
  ];
  for (const s of invalid) assert.equal(decodeMailboxName(s), s, JSON.stringify(s));
});

test('random strings never throw, and their encodings always round trip', () => {
  const rand = seededInt(7);
  const pool = '&-+,/AZaz09 ~\u00e9\u4e2d\ud83d\ude00\ud800\u0000';
  for (let i = 0; i < 5000; i++) {
    let s = '';
    for (let n = rand(12); n > 0; n--) s += pool[rand(pool.length)];
    decodeMailboxName(s);
    const wellFormed = s.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');
    assert.equal(decodeMailboxName(encodeMailboxName(s)), wellFormed, JSON.stringify(s));
  }
});
