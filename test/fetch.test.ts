import { captureFetches } from './helpers/imap.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { recordingFramer } from './helpers/imap.js';
import { CAPTURES, hasPublic, NO_PUBLIC, publicCapture, skipIfMissing } from './helpers/env.js';
import { DEFAULT_FRAMER_LIMITS, type FramerLimits } from '../src/imap/framer.js';
import { parseResponse } from '../src/imap/response.js';
import { parseEnvelope, parseFetch, parseSectionSpec } from '../src/imap/fetch.js';
import type { FetchAttributes } from '../src/mime/types.js';

/** One FETCH response, framed as it comes off the wire (literals included), parsed. */
function fetch(raw: string | Buffer, limits: FramerLimits = DEFAULT_FRAMER_LIMITS): { attrs: FetchAttributes; warnings: string[] } {
  const f = recordingFramer('server', limits);
  f.feed(typeof raw === 'string' && !raw.endsWith('\r\n') ? `${raw}\r\n` : raw);
  assert.equal(f.messages.length, 1, 'one message framed');
  const r = parseResponse(f.messages[0]!);
  assert.ok(r.kind === 'numbered' && r.type === 'FETCH', 'a FETCH response');
  const warnings: string[] = [];
  const attrs = parseFetch(r.values, (m) => warnings.push(m));
  return { attrs, warnings };
}

// RFC 3501 §7.4.2 (FETCH response), the example, on one line as it is sent.
const RFC3501_FETCH = '* 12 FETCH (FLAGS (\\Seen) INTERNALDATE "17-Jul-1996 02:44:25 -0700" RFC822.SIZE 4286 ENVELOPE ("Wed, 17 Jul 1996 02:23:25 -0700 (PDT)" "IMAP4rev1 WG mtg summary and minutes" (("Terry Gray" NIL "gray" "cac.washington.edu")) (("Terry Gray" NIL "gray" "cac.washington.edu")) (("Terry Gray" NIL "gray" "cac.washington.edu")) ((NIL NIL "imap" "cac.washington.edu")) ((NIL NIL "minutes" "CNRI.Reston.VA.US") ("John Klensin" NIL "KLENSIN" "MIT.EDU")) NIL NIL "<B27397-0100000@cac.washington.edu>") BODY ("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 3028 92))';

test('RFC 3501 §7.4.2 FETCH example: FLAGS, INTERNALDATE, RFC822.SIZE, ENVELOPE, BODY', () => {
  const { attrs, warnings } = fetch(RFC3501_FETCH);
  assert.deepEqual(warnings, []);
  assert.deepEqual(attrs.flags, ['\\Seen']);
  assert.equal(attrs.internalDate, '17-Jul-1996 02:44:25 -0700');
  assert.equal(attrs.size, 4286);
  assert.equal(attrs.uid, null);
  const terry = [{ name: 'Terry Gray', email: 'gray@cac.washington.edu' }];
  assert.deepEqual(attrs.envelope, {
    date: 'Wed, 17 Jul 1996 02:23:25 -0700 (PDT)',
    subject: 'IMAP4rev1 WG mtg summary and minutes',
    from: terry,
    sender: terry,
    replyTo: terry,
    to: [{ name: null, email: 'imap@cac.washington.edu' }],
    cc: [{ name: null, email: 'minutes@CNRI.Reston.VA.US' }, { name: 'John Klensin', email: 'KLENSIN@MIT.EDU' }],
    bcc: [],
    inReplyTo: null,
    messageId: '<B27397-0100000@cac.washington.edu>',
  });
  const body = attrs.bodyStructure!;
  assert.deepEqual([body.part, body.type, body.encoding, body.size, body.lines], ['1', 'text/plain', '7bit', 3028, 92]);
  assert.deepEqual(body.params, { charset: 'US-ASCII' });
  assert.deepEqual(attrs.sections, []);
  assert.deepEqual(attrs.other, {});
});

test('parseFetch takes the response values or the attribute list\'s items alike', () => {
  const f = recordingFramer('server');
  f.feed(`${RFC3501_FETCH}\r\n`);
  const r = parseResponse(f.messages[0]!);
  assert.ok(r.kind === 'numbered' && r.values[0]?.kind === 'list');
  const warnings: string[] = [];
  assert.deepEqual(parseFetch(r.values[0].items, (m) => warnings.push(m)), parseFetch(r.values));
  assert.deepEqual(warnings, []);
});

test('ENVELOPE: RFC 2047 subjects and names (the seed-alice headers), group syntax, 8-bit', () => {
  // Subject and From of UID 2 in captures/seed-alice.pcap, as an ENVELOPE carries them (undecoded).
  const { attrs, warnings } = fetch('* 2 FETCH (UID 2 ENVELOPE ("Tue, 05 Mar 2024 14:22:41 +0100" "=?UTF-8?B?w5xiZXJnYWJlOiBHcsO2w59lICYgWmVpdHBsYW4g4pyT?= =?ISO-8859-1?Q?_=28Fa=E7ade_Stra=DFe=29?=" (("=?ISO-8859-1?Q?J=FCrgen_M=FCller?=" NIL "juergen" "example.de")) NIL NIL ((NIL NIL "undisclosed-recipients" NIL)(NIL NIL NIL NIL)) ((NIL NIL "team" NIL)("Alice Example" NIL "alice" "example.test")({3}\r\nBob NIL "bob" "example.test")(NIL NIL NIL NIL)) NIL "<parent@example.de>" "<c0ffee.20240305142241@example.de>"))');
  assert.deepEqual(warnings, []);
  const env = attrs.envelope!;
  assert.equal(env.subject, 'Übergabe: Größe & Zeitplan ✓ (Façade Straße)');
  assert.deepEqual(env.from, [{ name: 'Jürgen Müller', email: 'juergen@example.de' }]);
  assert.deepEqual(env.sender, []);
  assert.deepEqual(env.to, [], 'an empty group leaves no address');
  assert.deepEqual(env.cc, [{ name: 'Alice Example', email: 'alice@example.test' }, { name: 'Bob', email: 'bob@example.test' }]);
  assert.equal(env.inReplyTo, '<parent@example.de>');
  // Raw UTF-8 (RFC 6532 / UTF8=ACCEPT) in a quoted string.
  const utf8 = fetch(Buffer.from('* 3 FETCH (ENVELOPE (NIL "Grüße" (("Zoë" NIL "zoë" "bücher.example")) NIL NIL NIL NIL NIL NIL NIL))\r\n', 'utf8')).attrs.envelope!;
  assert.equal(utf8.subject, 'Grüße');
  assert.deepEqual(utf8.from, [{ name: 'Zoë', email: 'zoë@bücher.example' }]);
  assert.equal(utf8.date, null);
  // parseEnvelope on its own.
  assert.equal(parseEnvelope({ kind: 'nil' }), null);
  assert.equal(parseEnvelope({ kind: 'atom', text: 'x' }), null);
});

test('section items: BODY[…]<origin>, BODY[] and BINARY literals, BINARY.SIZE, RFC822 forms, NIL, quoted', () => {
  const header = 'Date: Mon, 4 Mar 2024 09:15:02 +0100\r\nFrom: Carol <carol@example.org>\r\n\r\n';
  const raw = `* 7 FETCH (UID 7 BODY[HEADER.FIELDS (DATE FROM)]<0> {${header.length}}\r\n${header} BODY[] {5}\r\nhello` +
    ' BODY[1.2.MIME] "Content-Type: text/plain" BINARY[2] ~{4}\r\n\x00\x01\x02\x03 BINARY.SIZE[2] 4 BODY[3] NIL' +
    ' RFC822 {3}\r\nabc RFC822.HEADER {2}\r\n\r\n RFC822.TEXT {1}\r\nx body[text]<100> {0}\r\n)';
  const { attrs, warnings } = fetch(raw);
  assert.deepEqual(warnings, []);
  assert.equal(attrs.uid, 7);
  assert.deepEqual(attrs.sections.map((s) => [s.item, s.kind, s.section, s.origin, s.length, s.literal?.length ?? null]), [
    ['BODY[HEADER.FIELDS (DATE FROM)]<0>', 'BODY', 'HEADER.FIELDS (DATE FROM)', 0, header.length, header.length],
    ['BODY[]', 'BODY', '', null, 5, 5],
    ['BODY[1.2.MIME]', 'BODY', '1.2.MIME', null, 24, null],
    ['BINARY[2]', 'BINARY', '2', null, 4, 4],
    ['BINARY.SIZE[2]', 'BINARY.SIZE', '2', null, 4, null],
    ['BODY[3]', 'BODY', '3', null, 0, null],
    ['RFC822', 'RFC822', '', null, 3, 3],
    ['RFC822.HEADER', 'RFC822.HEADER', 'HEADER', null, 2, 2],
    ['RFC822.TEXT', 'RFC822.TEXT', 'TEXT', null, 1, 1],
    ['body[text]<100>', 'BODY', 'text', 100, 0, 0],
  ]);
  assert.equal(attrs.sections[0]!.literal!.data!.toString('latin1'), header);
  assert.equal(attrs.sections[1]!.value.kind === 'string' && attrs.sections[1]!.value.text, 'hello');
  assert.equal(attrs.sections[3]!.literal!.binary, true);
  assert.deepEqual([...attrs.sections[3]!.literal!.data!], [0, 1, 2, 3]);
  assert.equal(attrs.sections[5]!.value.kind, 'nil');
});

test('a literal larger than the keep limit: no data, but the length is known', () => {
  const body = 'x'.repeat(300);
  const { attrs, warnings } = fetch(`* 1 FETCH (BODY[TEXT]<0> {300}\r\n${body} UID 44)`, { ...DEFAULT_FRAMER_LIMITS, keepLiteral: 100 });
  assert.deepEqual(warnings, []);
  const s = attrs.sections[0]!;
  assert.deepEqual([s.kind, s.section, s.origin, s.length, s.literal!.data], ['BODY', 'TEXT', 0, 300, null]);
  assert.equal(attrs.uid, 44);
});

test('MODSEQ, EMAILID/THREADID (RFC 8474), X-GM-MSGID/X-GM-THRID/X-GM-LABELS, unknown items', () => {
  let { attrs, warnings } = fetch('* 48 FETCH (UID 54 MODSEQ (64))'); // protolens-imap.pcap, frame 89
  assert.deepEqual(warnings, []);
  assert.deepEqual([attrs.uid, attrs.modseq], [54, '64']);

  ({ attrs, warnings } = fetch('* 3 FETCH (EMAILID (M6d99ac3275bb4e) THREADID (T64b478a75b7ea9) MODSEQ (9223372036854775807) SAVEDATE "01-Jan-2024 00:00:00 +0000")'));
  assert.deepEqual(warnings, []);
  assert.deepEqual([attrs.emailId, attrs.threadId, attrs.modseq], ['M6d99ac3275bb4e', 'T64b478a75b7ea9', '9223372036854775807']);
  assert.deepEqual(attrs.other, { SAVEDATE: { kind: 'string', text: '01-Jan-2024 00:00:00 +0000' } });

  ({ attrs, warnings } = fetch('* 4 FETCH (THREADID NIL EMAILID (Mabc))'));
  assert.deepEqual(warnings, []);
  assert.deepEqual([attrs.emailId, attrs.threadId], ['Mabc', null]);

  ({ attrs, warnings } = fetch('* 1 FETCH (X-GM-THRID 1278455344230334865 X-GM-MSGID 1278455344230334865 X-GM-LABELS (\\Inbox \\Sent Important "Muy Importante" "Entw&APw-rfe") UID 4)'));
  assert.deepEqual(warnings, []);
  assert.deepEqual(attrs.gmail, { msgId: '1278455344230334865', threadId: '1278455344230334865', labels: ['\\Inbox', '\\Sent', 'Important', 'Muy Importante', 'Entwürfe'] });
  assert.equal(attrs.uid, 4);

  // protolens-imap_fetch.pcap: the server misspells RFC822.SIZE; kept under its own name.
  ({ attrs, warnings } = fetch('* 557 FETCH (UID 557 RFC882.SIZE 3023 FLAGS (\\Recent) BODY[HEADER.FIELDS (FROM)] {2}\r\n\r\n)'));
  assert.deepEqual(warnings, []);
  assert.equal(attrs.size, null);
  assert.deepEqual(attrs.other, { 'RFC882.SIZE': { kind: 'atom', text: '3023' } });
  assert.deepEqual(attrs.flags, ['\\Recent']);
  assert.equal(attrs.sections[0]!.section, 'HEADER.FIELDS (FROM)');
});

test('parseSectionSpec', () => {
  const cases: [string, ReturnType<typeof parseSectionSpec>][] = [
    ['', { part: '', text: null, fields: [] }],
    ['1', { part: '1', text: null, fields: [] }],
    ['1.2.MIME', { part: '1.2', text: 'MIME', fields: [] }],
    ['HEADER', { part: '', text: 'HEADER', fields: [] }],
    ['TEXT', { part: '', text: 'TEXT', fields: [] }],
    ['4.2.TEXT', { part: '4.2', text: 'TEXT', fields: [] }],
    ['2.HEADER.FIELDS (DATE SUBJECT)', { part: '2', text: 'HEADER.FIELDS', fields: ['DATE', 'SUBJECT'] }],
    ['HEADER.FIELDS.NOT (X-A)', { part: '', text: 'HEADER.FIELDS.NOT', fields: ['X-A'] }],
    ['header.fields (date "Message-ID" X-MS-TNEF-Correlator)', { part: '', text: 'HEADER.FIELDS', fields: ['DATE', 'MESSAGE-ID', 'X-MS-TNEF-CORRELATOR'] }],
    ['3.header', { part: '3', text: 'HEADER', fields: [] }],
  ];
  for (const [spec, want] of cases) {
    const warnings: string[] = [];
    assert.deepEqual(parseSectionSpec(spec, (m) => warnings.push(m)), want, spec);
    assert.deepEqual(warnings, [], spec);
  }
  const warnings: string[] = [];
  assert.deepEqual(parseSectionSpec('1.BOGUS', (m) => warnings.push(m)), { part: '1', text: null, fields: [] });
  assert.deepEqual(parseSectionSpec('HEADER.FIELDS (DATE', (m) => warnings.push(m)), { part: '', text: 'HEADER.FIELDS', fields: ['DATE'] });
  assert.deepEqual(parseSectionSpec('MIME', (m) => warnings.push(m)), { part: '', text: 'MIME', fields: [] });
  assert.equal(warnings.length, 3);
});

test('malformed FETCH responses: partial results and warnings, never an exception', () => {
  // Truncated mid-list (the capture ended): what came before is kept.
  let r = fetch('* 5 FETCH (UID 9 FLAGS (\\Seen \\Answ');
  assert.equal(r.attrs.uid, 9);
  assert.deepEqual(r.attrs.flags, ['\\Seen', '\\Answ']);

  // An item without its value.
  r = fetch('* 5 FETCH (UID 9 RFC822.SIZE)');
  assert.equal(r.attrs.uid, 9);
  assert.ok(r.warnings.some((w) => /RFC822.SIZE without a value/.test(w)));

  // Wrong types everywhere.
  r = fetch('* 5 FETCH (UID "x" RFC822.SIZE NIL FLAGS NIL INTERNALDATE (1) ENVELOPE "e" MODSEQ (x) EMAILID (()) X-GM-LABELS "l" BODY[1] (a) UID 10)');
  assert.equal(r.attrs.uid, 10, 'a later valid UID still counts');
  assert.equal(r.attrs.size, null);
  assert.deepEqual(r.attrs.flags, []);
  assert.equal(r.attrs.internalDate, null);
  assert.equal(r.attrs.envelope, null);
  assert.equal(r.attrs.modseq, null);
  assert.equal(r.attrs.emailId, null);
  assert.deepEqual(r.attrs.gmail, { msgId: null, threadId: null, labels: null });
  assert.equal(r.attrs.sections[0]!.length, 0);
  assert.ok(r.warnings.length >= 9, r.warnings.join('\n'));

  // Something that is not an item name where one belongs: skipped, the rest is read.
  r = fetch('* 5 FETCH ("junk" UID 3 (x) FLAGS ())');
  assert.equal(r.attrs.uid, 3);
  assert.deepEqual(r.attrs.flags, []);
  assert.equal(r.warnings.length, 2);

  // No parentheses at all; nothing at all; an ENVELOPE with too few fields.
  r = fetch('* 5 FETCH UID 3');
  assert.equal(r.attrs.uid, 3);
  r = fetch('* 5 FETCH');
  assert.equal(r.warnings.length, 1);
  r = fetch('* 5 FETCH (ENVELOPE ("date" "subj" (("n" NIL "m")) "not a list"))');
  assert.equal(r.attrs.envelope!.subject, 'subj');
  assert.deepEqual(r.attrs.envelope!.from, [{ name: 'n', email: 'm' }]);
  assert.deepEqual(r.attrs.envelope!.sender, []);
  assert.equal(r.attrs.envelope!.messageId, null);
  assert.ok(r.warnings.length >= 3, r.warnings.join('\n'));

  // Direct calls with odd values.
  assert.doesNotThrow(() => parseFetch([]));
  assert.doesNotThrow(() => parseFetch([{ kind: 'nil' }, { kind: 'list', items: [{ kind: 'list', items: [] }] }]));
});

test('warnings about one response are capped', () => {
  const parts = Array.from({ length: 200 }, () => '(1 2 3)').join('');
  const { attrs, warnings } = fetch(`* 1 FETCH (BODYSTRUCTURE (${parts} "mixed") UID 2)`);
  assert.equal(attrs.bodyStructure!.children.length, 200);
  assert.equal(attrs.uid, 2);
  assert.ok(warnings.length <= 41, `${warnings.length} warnings`);
  assert.match(warnings[warnings.length - 1]!, /not reported/);
});


const summary = (a: FetchAttributes) => a.sections.map((s) => `${s.kind} [${s.section}]${s.origin === null ? '' : `<${s.origin}>`} ${s.length}${s.literal?.data ? '' : ' (not kept)'}`);

test('captures/seed-alice.pcap: body sections as fetched by the recorded clients', async (t) => {
  const path = join(CAPTURES, 'seed-alice.pcap');
  if (!existsSync(path)) return t.skip('captures/seed-alice.pcap missing');
  const fetches = await captureFetches(path);
  for (const f of fetches) assert.deepEqual(f.warnings, []);
  const sections = fetches.filter((f) => f.conn > 0 && f.attrs.sections.length > 0).map((f) => [f.conn, f.attrs.uid, ...summary(f.attrs)]);
  assert.deepEqual(sections, [
    [1, 2, 'BODY [1] 431'],
    [1, 4, 'BODY [2] 3264'],
    [1, 7, 'BODY [TEXT]<0> 2048'],
    [2, 2, 'BODY [] 1518'],
  ]);
  const headers = fetches.filter((f) => f.conn === 0 && f.attrs.sections.length > 0);
  assert.equal(headers.length, 8);
  const h2 = headers.find((f) => f.attrs.uid === 2)!.attrs.sections[0]!;
  assert.equal(h2.section, 'HEADER.FIELDS (DATE FROM TO SUBJECT MESSAGE-ID)');
  assert.deepEqual(parseSectionSpec(h2.section).fields, ['DATE', 'FROM', 'TO', 'SUBJECT', 'MESSAGE-ID']);
  assert.match(h2.literal!.data!.toString('latin1'), /^Date: Tue, 05 Mar 2024 14:22:41 \+0100\r\n/);
});

test('public captures: RFC822, RFC822.HEADER with several BODY[n], a BODY[] of 180 KB', async (t) => {
  if (skipIfMissing(t, !hasPublic && NO_PUBLIC)) return;
  const arkime = await captureFetches(publicCapture('arkime-imap.pcap'));
  assert.deepEqual(arkime.flatMap((f) => summary(f.attrs)).filter((s) => s.startsWith('RFC822')), ['RFC822 [] 3339']);
  const protolens = await captureFetches(publicCapture('protolens-imap.pcap'));
  for (const f of protolens) assert.deepEqual(f.warnings, []);
  assert.deepEqual(summary(protolens.find((f) => f.attrs.sections.length > 2)!.attrs), [
    'RFC822.HEADER [HEADER] 625', 'BODY [1.2] 5964', 'BODY [2] 174', 'BODY [3] 876', 'BODY [4] 56744', 'BODY [5] 17444',
  ]);
  const suricata = await captureFetches(publicCapture('suricata-verify-tcp-async-01-input.pcap'));
  assert.deepEqual(suricata.map((f) => [f.attrs.uid, f.attrs.flags, ...summary(f.attrs)]), [[1320886124, null, 'BODY [] 180237'], [1320886124, []]]);
  assert.match(suricata[0]!.attrs.sections[0]!.literal!.data!.subarray(0, 200).toString('latin1'), /\r\n/);
});
