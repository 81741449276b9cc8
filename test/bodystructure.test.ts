import { captureFetches } from './helpers/imap.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { recordingFramer } from './helpers/imap.js';
import { CAPTURES, hasPublic, NO_PUBLIC, publicCapture, skipIfMissing } from './helpers/env.js';
import { parseResponse } from '../src/imap/response.js';
import { parseFetch } from '../src/imap/fetch.js';
import { flattenParts, parseBodyStructure, partByNumber } from '../src/mime/bodystructure.js';
import type { Value } from '../src/imap/tokens.js';
import type { FetchAttributes, MimePart, SectionSpec } from '../src/mime/types.js';
import type { FetchHow, SectionFetch } from '../src/analysis/fetches.js';
import { uncoveredLeaves } from '../src/analysis/message-view.js';
import { seededRandom } from './helpers/random.js';

/** One FETCH response, framed as it would come off the wire (literals included), parsed. */
function fetch(raw: string): { attrs: FetchAttributes; warnings: string[] } {
  const f = recordingFramer('server');
  f.feed(raw.endsWith('\r\n') ? raw : `${raw}\r\n`);
  assert.equal(f.messages.length, 1, 'one message framed');
  const r = parseResponse(f.messages[0]!);
  assert.equal(r.kind, 'numbered');
  assert.ok(r.kind === 'numbered' && r.type === 'FETCH');
  const warnings: string[] = [];
  const attrs = parseFetch(r.values, (m) => warnings.push(m));
  return { attrs, warnings };
}

/** BODYSTRUCTURE text → tree (and the warnings), through the framer, tokenizer and parseFetch. */
function structure(bs: string): { root: MimePart; warnings: string[] } {
  const { attrs, warnings } = fetch(`* 1 FETCH (BODYSTRUCTURE ${bs})`);
  assert.ok(attrs.bodyStructure, 'a body structure');
  return { root: attrs.bodyStructure, warnings };
}

/** part number → type, for the whole tree. */
function outline(root: MimePart): [string, string][] {
  return flattenParts(root).map((p) => [p.part, p.type]);
}

test('RFC 3501 §7.4.2 BODYSTRUCTURE example: two-part MIXED, text and base64 attachment', () => {
  const { root, warnings } = structure('(("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 1152 23)("TEXT" "PLAIN" ("CHARSET" "US-ASCII" "NAME" "cc.diff") "<960723163407.20117h@cac.washington.edu>" "Compiler diff" "BASE64" 4554 73) "MIXED")');
  assert.deepEqual(warnings, []);
  assert.deepEqual(outline(root), [['', 'multipart/mixed'], ['1', 'text/plain'], ['2', 'text/plain']]);
  assert.equal(root.size, null);
  assert.deepEqual(root.params, {});
  const [a, b] = root.children;
  assert.deepEqual(a!.params, { charset: 'US-ASCII' });
  assert.equal(a!.encoding, '7bit');
  assert.equal(a!.size, 1152);
  assert.equal(a!.lines, 23);
  assert.equal(a!.filename, null);
  assert.deepEqual(b!.params, { charset: 'US-ASCII', name: 'cc.diff' });
  assert.equal(b!.id, '<960723163407.20117h@cac.washington.edu>');
  assert.equal(b!.description, 'Compiler diff');
  assert.equal(b!.encoding, 'base64');
  assert.equal(b!.size, 4554);
  assert.equal(b!.lines, 73);
  assert.equal(b!.filename, 'cc.diff');
  assert.equal(b!.md5, null);
  assert.equal(b!.disposition, null);
});

/**
 * The complex message of RFC 3501 §6.4.5 (RFC 9051 §6.4.5 keeps it): as a BODYSTRUCTURE, with the part
 * numbers the RFC lists. Part 3 is a MESSAGE/RFC822 whose body is MULTIPART/MIXED: that multipart has no
 * number of its own ("3.TEXT"), its children are 3.1 and 3.2. Likewise 4.2 → 4.2.1, 4.2.2, 4.2.2.1.
 */
const ENV = '(NIL "inner" NIL NIL NIL NIL NIL NIL NIL NIL)';
const TXT = '("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 10 1)';
const OCT = '("APPLICATION" "OCTET-STREAM" NIL NIL NIL "BASE64" 100)';
const RFC_COMPLEX = `(${TXT}${OCT}` +
  `("MESSAGE" "RFC822" NIL NIL NIL "7BIT" 500 ${ENV} (${TXT}${OCT} "MIXED") 20)` +
  `(("IMAGE" "GIF" NIL NIL NIL "BASE64" 300)` +
  `("MESSAGE" "RFC822" NIL NIL NIL "7BIT" 600 ${ENV} (${TXT}(${TXT}("TEXT" "RICHTEXT" NIL NIL NIL "7BIT" 12 1) "ALTERNATIVE") "MIXED") 30) "MIXED") "MIXED")`;

test('RFC 3501 §6.4.5 part numbers of the complex example message', () => {
  const { root, warnings } = structure(RFC_COMPLEX);
  assert.deepEqual(warnings, []);
  assert.deepEqual(outline(root), [
    ['', 'multipart/mixed'],
    ['1', 'text/plain'],
    ['2', 'application/octet-stream'],
    ['3', 'message/rfc822'],
    ['3', 'multipart/mixed'], // 3.TEXT: the encapsulated message's body
    ['3.1', 'text/plain'],
    ['3.2', 'application/octet-stream'],
    ['4', 'multipart/mixed'],
    ['4.1', 'image/gif'],
    ['4.2', 'message/rfc822'],
    ['4.2', 'multipart/mixed'], // 4.2.TEXT
    ['4.2.1', 'text/plain'],
    ['4.2.2', 'multipart/alternative'],
    ['4.2.2.1', 'text/plain'],
    ['4.2.2.2', 'text/richtext'],
  ]);
  const p3 = partByNumber(root, '3')!;
  assert.equal(p3.type, 'message/rfc822', 'part "3" is the MESSAGE/RFC822 part, not its body');
  assert.equal(p3.size, 500);
  assert.equal(p3.lines, 20);
  assert.equal(p3.message!.envelope!.subject, 'inner');
  assert.equal(p3.message!.body.type, 'multipart/mixed');
  assert.deepEqual(p3.children, [], 'the encapsulated body hangs off .message, not .children');
  assert.equal(partByNumber(root, '4.2.2.2')!.type, 'text/richtext');
  assert.equal(partByNumber(root, '3.1')!.size, 10);
  assert.equal(partByNumber(root, '')!, root);
  assert.equal(partByNumber(root, '5'), null);
  assert.equal(partByNumber(root, '4.2.3'), null);
});

test('single-part bodies: the top-level body is part 1; the single body of MESSAGE/RFC822 part N is N.1', () => {
  // "Non-[MIME-IMB] messages, and non-multipart [MIME-IMB] messages with no encapsulated message, only have a part 1."
  const single = structure('("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 3028 92)').root;
  assert.deepEqual(outline(single), [['1', 'text/plain']]);
  assert.equal(partByNumber(single, '1'), single);
  assert.equal(partByNumber(single, ''), single);

  // The same rule applied to the encapsulated message: its only part is N.1.
  const { root, warnings } = structure(`(${TXT}("MESSAGE" "RFC822" NIL NIL NIL "7BIT" 200 ${ENV} ("TEXT" "HTML" NIL NIL NIL "QUOTED-PRINTABLE" 80 4) 9) "MIXED")`);
  assert.deepEqual(warnings, []);
  assert.deepEqual(outline(root), [['', 'multipart/mixed'], ['1', 'text/plain'], ['2', 'message/rfc822'], ['2.1', 'text/html']]);
  assert.equal(partByNumber(root, '2.1')!.encoding, 'quoted-printable');

  // A message that is itself MESSAGE/RFC822 at the top: part 1, its body 1.1.
  const top = structure(`("MESSAGE" "RFC822" NIL NIL NIL "7BIT" 200 ${ENV} ("TEXT" "PLAIN" NIL NIL NIL "7BIT" 80 4) 9)`).root;
  assert.deepEqual(outline(top), [['1', 'message/rfc822'], ['1.1', 'text/plain']]);
});

// Real responses from captures/seed-alice.pcap (Dovecot), connection 0, A16 UID FETCH 1:* (… BODYSTRUCTURE …).
const SEED_ALICE_4 = '* 4 FETCH (UID 4 FLAGS (\\Flagged \\Seen) RFC822.SIZE 5023 BODYSTRUCTURE (("text" "plain" ("charset" "UTF-8" "format" "flowed") NIL NIL "7bit" 76 5 NIL NIL NIL NIL)("image" "png" ("name" "envelope.png") NIL NIL "base64" 3264 NIL ("attachment" ("filename" "envelope.png")) NIL NIL)("application" "pdf" ("name" "invoice-2024-0042.pdf") NIL NIL "base64" 864 NIL ("attachment" ("filename" "invoice-2024-0042.pdf")) NIL NIL) "mixed" ("boundary" "------------mix4242") NIL NIL NIL) BODY[HEADER.FIELDS (DATE FROM TO SUBJECT MESSAGE-ID)] {32}\r\nSubject: Invoice and logo\r\n\r\n\r\n)';
const SEED_ALICE_5 = '* 5 FETCH (UID 5 FLAGS () RFC822.SIZE 978 BODYSTRUCTURE (("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 58 1 NIL NIL NIL NIL)("text" "plain" ("charset" "UTF-8" "name*" "UTF-8\'\'Pr%C3%BCfbericht%20K%C3%B6ln.txt") NIL NIL "base64" 96 2 NIL ("attachment" ("filename*" "UTF-8\'\'Pr%C3%BCfbericht%20K%C3%B6ln.txt")) NIL NIL)("application" "octet-stream" NIL NIL NIL "base64" 78 NIL ("attachment" ("filename*" "UTF-8\'\'Messwerte%20%E2%80%93%20Langzeitreihe%202024.csv")) NIL NIL) "mixed" ("boundary" "b2231") NIL NIL NIL))';
const SEED_ALICE_6 = '* 6 FETCH (UID 6 FLAGS (\\Seen) RFC822.SIZE 989 BODYSTRUCTURE (("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 64 1 NIL NIL NIL NIL)("message" "rfc822" NIL NIL NIL "7bit" 520 ("Wed, 06 Mar 2024 07:00:00 +0000" "Your weekly digest" (("Example News" NIL "digest" "news.example.com")) (("Example News" NIL "digest" "news.example.com")) (("Example News" NIL "digest" "news.example.com")) ((NIL NIL "dave" "example.net")) NIL NIL NIL "<digest-2024-10.dave@news.example.com>") (("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 28 1 NIL NIL NIL NIL)("text" "html" ("charset" "us-ascii") NIL NIL "7bit" 80 1 NIL NIL NIL NIL) "alternative" ("boundary" "inner-alt-2") NIL NIL NIL) 19 NIL ("inline" NIL) NIL NIL) "mixed" ("boundary" "outer-fwd-1") NIL NIL NIL))';

test('seed-alice (Dovecot): mixed with PNG and PDF attachments, extension data', () => {
  const { attrs, warnings } = fetch(SEED_ALICE_4);
  assert.deepEqual(warnings, []);
  const root = attrs.bodyStructure!;
  assert.deepEqual(outline(root), [['', 'multipart/mixed'], ['1', 'text/plain'], ['2', 'image/png'], ['3', 'application/pdf']]);
  assert.deepEqual(root.params, { boundary: '------------mix4242' });
  assert.equal(root.disposition, null);
  assert.equal(root.language, null);
  assert.equal(root.location, null);
  const [text, png, pdf] = root.children;
  assert.deepEqual(text!.params, { charset: 'UTF-8', format: 'flowed' });
  assert.deepEqual([text!.encoding, text!.size, text!.lines, text!.md5], ['7bit', 76, 5, null]);
  assert.deepEqual([png!.encoding, png!.size, png!.lines, png!.filename], ['base64', 3264, null, 'envelope.png']);
  assert.deepEqual(png!.disposition, { type: 'attachment', params: { filename: 'envelope.png' } });
  assert.deepEqual([pdf!.encoding, pdf!.size, pdf!.filename], ['base64', 864, 'invoice-2024-0042.pdf']);
  assert.equal(attrs.sections[0]!.section, 'HEADER.FIELDS (DATE FROM TO SUBJECT MESSAGE-ID)');
});

test('seed-alice: RFC 2231 filename*=UTF-8\'\'… in type and disposition parameters', () => {
  const root = fetch(SEED_ALICE_5).attrs.bodyStructure!;
  const [, report, csv] = root.children;
  assert.deepEqual(report!.params, { charset: 'UTF-8', name: 'Prüfbericht Köln.txt' });
  assert.deepEqual(report!.disposition, { type: 'attachment', params: { filename: 'Prüfbericht Köln.txt' } });
  assert.equal(report!.filename, 'Prüfbericht Köln.txt');
  assert.deepEqual([report!.size, report!.lines], [96, 2]);
  assert.equal(csv!.part, '3');
  assert.deepEqual(csv!.params, {});
  assert.equal(csv!.filename, 'Messwerte – Langzeitreihe 2024.csv');
});

test('seed-alice: forwarded message/rfc822 with a multipart/alternative body', () => {
  const { attrs, warnings } = fetch(SEED_ALICE_6);
  assert.deepEqual(warnings, []);
  const root = attrs.bodyStructure!;
  assert.deepEqual(outline(root), [
    ['', 'multipart/mixed'], ['1', 'text/plain'], ['2', 'message/rfc822'], ['2', 'multipart/alternative'], ['2.1', 'text/plain'], ['2.2', 'text/html'],
  ]);
  const fwd = partByNumber(root, '2')!;
  assert.deepEqual([fwd.encoding, fwd.size, fwd.lines], ['7bit', 520, 19]);
  assert.deepEqual(fwd.disposition, { type: 'inline', params: {} });
  assert.equal(fwd.message!.envelope!.subject, 'Your weekly digest');
  assert.deepEqual(fwd.message!.envelope!.from, [{ name: 'Example News', email: 'digest@news.example.com' }]);
  assert.deepEqual(fwd.message!.envelope!.to, [{ name: null, email: 'dave@example.net' }]);
  assert.equal(fwd.message!.envelope!.messageId, '<digest-2024-10.dave@news.example.com>');
  assert.deepEqual(fwd.message!.body.params, { boundary: 'inner-alt-2' });
  assert.deepEqual([partByNumber(root, '2.2')!.size, partByNumber(root, '2.2')!.lines], [80, 1]);
});

// ../shared/captures/public/protolens-imap.pcap, connection 0 (Coremail), A56 FETCH 49 (… BODYSTRUCTURE).
const PROTOLENS_49 = '* 49 FETCH (INTERNALDATE "02-Jul-2022 21:30:24 +0800" UID 55 FLAGS (\\Recent) RFC822.SIZE 83801 BODYSTRUCTURE ((("text" "plain" ("charset" "utf-8") NIL NIL "base64" 452 6 NIL NIL NIL NIL)("text" "html" ("charset" "utf-8") NIL NIL "quoted-printable" 5964 110 NIL NIL NIL NIL) "alternative" ("boundary" "_18D7B0BA-51C3-4CE7-ABFA-4E8555B746D0_") NIL NIL NIL)("image" "png" ("name" "FEECE9DF22C64F9F88F4EA583C8164D1.png") "<<image001.png@01D88E59.B91E16A0>>" NIL "base64" 174 NIL ("attachment" ("filename" "FEECE9DF22C64F9F88F4EA583C8164D1.png")) NIL NIL)("application" "octet-stream" ("name" "=?utf-8?Q?=E6=96=87=E6=9C=AC=E7=B1=BB=E6=A0=B7=E6=9C=AC.txt?=") NIL NIL "base64" 876 NIL ("attachment" ("filename" "=?utf-8?Q?=E6=96=87=E6=9C=AC=E7=B1=BB=E6=A0=B7=E6=9C=AC.txt?=")) NIL NIL)("application" "octet-stream" ("name" "09.png") NIL NIL "base64" 56744 NIL ("attachment" ("filename" "09.png")) NIL NIL)("application" "octet-stream" ("name" "=?utf-8?B?5YGl5bq35qOA6aqM5oql5ZGKLmRvY3h=?=") NIL NIL "base64" 17444 NIL ("attachment" ("filename" "=?utf-8?B?5YGl5bq35qOA6aqM5oql5ZGKLmRvY3h=?=")) NIL NIL) "mixed" ("boundary" "_4805B00C-044E-4966-B0DA-ED690B999A97_") NIL NIL NIL))';

test('protolens (Coremail): mixed → alternative, PNG and DOCX attachments with RFC 2047 names', () => {
  const { attrs, warnings } = fetch(PROTOLENS_49);
  assert.deepEqual(warnings, []);
  const root = attrs.bodyStructure!;
  assert.deepEqual(flattenParts(root).map((p) => [p.part, p.type, p.encoding, p.size, p.lines, p.filename]), [
    ['', 'multipart/mixed', null, null, null, null],
    ['1', 'multipart/alternative', null, null, null, null],
    ['1.1', 'text/plain', 'base64', 452, 6, null],
    ['1.2', 'text/html', 'quoted-printable', 5964, 110, null],
    ['2', 'image/png', 'base64', 174, null, 'FEECE9DF22C64F9F88F4EA583C8164D1.png'],
    ['3', 'application/octet-stream', 'base64', 876, null, '文本类样本.txt'],
    ['4', 'application/octet-stream', 'base64', 56744, null, '09.png'],
    ['5', 'application/octet-stream', 'base64', 17444, null, '健康检验报告.docx'],
  ]);
  assert.equal(partByNumber(root, '2')!.id, '<<image001.png@01D88E59.B91E16A0>>');
  assert.equal(partByNumber(root, '5')!.params['name'], '健康检验报告.docx');
  assert.equal(attrs.uid, 55);
  assert.equal(attrs.internalDate, '02-Jul-2022 21:30:24 +0800');
});

test('RFC 2231 continuations with charsets, RFC 2047 in descriptions, language and location, raw UTF-8', () => {
  const { root, warnings } = structure(
    '("APPLICATION" "PDF" ("NAME*0*" "iso-8859-1\'de\'%FCber%20" "NAME*1*" "Gr%F6%DFe" "NAME*2" ".pdf" "X-Plain" "=?UTF-8?Q?Gr=C3=BC=C3=9Fe?=") ' +
    '"<id@x>" "=?UTF-8?Q?Pr=C3=BCfung?=" "BASE64" 1000 "abc123==" ("ATTACHMENT" ("FILENAME*0" "long " "FILENAME*1" "name.pdf" "SIZE" "730")) ("de" "en") "http://example.com/x.pdf" "ext1" ("ext2"))',
  );
  assert.deepEqual(warnings, []);
  assert.equal(root.part, '1');
  assert.deepEqual(root.params, { name: 'über Größe.pdf', 'x-plain': 'Grüße' });
  assert.equal(root.description, 'Prüfung');
  assert.equal(root.md5, 'abc123==');
  assert.deepEqual(root.disposition, { type: 'attachment', params: { filename: 'long name.pdf', size: '730' } });
  assert.equal(root.filename, 'long name.pdf', 'the disposition filename wins over the type name');
  assert.deepEqual(root.language, ['de', 'en']);
  assert.equal(root.location, 'http://example.com/x.pdf');

  // Servers with UTF8=ACCEPT (and many without) send 8-bit names as raw UTF-8 in quoted strings.
  const raw = Buffer.from('* 1 FETCH (BODYSTRUCTURE ("text" "plain" ("name" "Grüße.txt") NIL NIL "8bit" 5 1 NIL ("inline" NIL) "fr"))\r\n', 'utf8');
  const f = recordingFramer('server');
  f.feed(raw);
  const r = parseResponse(f.messages[0]!);
  assert.ok(r.kind === 'numbered');
  const p = parseFetch(r.values).bodyStructure!;
  assert.equal(p.filename, 'Grüße.txt');
  assert.deepEqual(p.language, ['fr']);
  assert.deepEqual(p.disposition, { type: 'inline', params: {} });
});

test('BODY (non-extensible form) and partial extension data', () => {
  const { attrs, warnings } = fetch('* 3 FETCH (BODY (("text" "plain" ("charset" "utf-8") NIL NIL "quoted-printable" 3264 82)("text" "html" ("charset" "utf-8") NIL NIL "quoted-printable" 31834 643) "alternative"))');
  assert.deepEqual(warnings, []);
  const root = attrs.bodyStructure!;
  assert.deepEqual(outline(root), [['', 'multipart/alternative'], ['1', 'text/plain'], ['2', 'text/html']]);
  assert.deepEqual(root.params, {});
  // Only some of the extension fields.
  const part = structure('("image" "jpeg" NIL NIL NIL "base64" 20 NIL ("inline" ("filename" "a.jpg")))').root;
  assert.equal(part.filename, 'a.jpg');
  assert.equal(part.language, null);
  const mp = structure('(("text" "plain" NIL NIL NIL "7bit" 1 1) "mixed" ("boundary" "x"))').root;
  assert.deepEqual(mp.params, { boundary: 'x' });
  assert.equal(mp.disposition, null);
});

test('literals inside a BODYSTRUCTURE (servers send long or odd strings that way)', () => {
  const { attrs, warnings } = fetch('* 9 FETCH (BODYSTRUCTURE ("application" "octet-stream" ("name" {12}\r\nweird "n".md) NIL NIL "base64" 40 NIL NIL NIL NIL) UID 9)');
  assert.deepEqual(warnings, []);
  assert.equal(attrs.bodyStructure!.filename, 'weird "n".md');
  assert.equal(attrs.uid, 9);
});

test('malformed structures give what could be read, warn, and never throw', () => {
  // Truncated: the message ends inside the structure.
  let r = structure('(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 58 1)("image" "png" ("name" "x.png") NIL NIL "base64"');
  assert.equal(r.root.type, 'multipart/mixed');
  assert.deepEqual(outline(r.root), [['', 'multipart/mixed'], ['1', 'text/plain'], ['2', 'image/png']]);
  assert.equal(r.root.children[1]!.filename, 'x.png');
  assert.equal(r.root.children[1]!.size, null);
  assert.ok(r.warnings.some((w) => /part 2: size missing/.test(w)), r.warnings.join('\n'));
  assert.ok(r.warnings.some((w) => /multipart subtype is missing/.test(w)));

  // NIL where strings belong, wrong types.
  r = structure('(NIL "plain" "charset" NIL NIL NIL "many" 3)');
  assert.equal(r.root.type, 'application/octet-stream');
  assert.deepEqual(r.root.params, {});
  assert.equal(r.root.size, null);
  assert.equal(r.root.encoding, null);
  assert.ok(r.warnings.length >= 3, r.warnings.join('\n'));

  r = structure('(("text" "plain" ("charset") NIL NIL "7bit" 1 1)(1 2 3) ("x") "related" "not-a-list" "inline" 5)');
  assert.deepEqual(r.root.children.map((c) => [c.part, c.type]), [['1', 'text/plain'], ['2', 'application/octet-stream'], ['3', 'application/octet-stream']]);
  assert.equal(r.root.type, 'multipart/related');
  assert.deepEqual(r.root.params, {});
  assert.deepEqual(r.root.disposition, { type: 'inline', params: {} });
  assert.ok(r.warnings.some((w) => /odd number/.test(w)));

  // message/rfc822 without its envelope and body.
  r = structure('("message" "rfc822" NIL NIL NIL "7bit" 300 NIL NIL NIL)');
  assert.equal(r.root.type, 'message/rfc822');
  assert.equal(r.root.message, null);
  assert.equal(r.root.size, 300);
  assert.ok(r.warnings.some((w) => /without the envelope and body/.test(w)));

  // Not a list at all.
  const warnings: string[] = [];
  assert.equal(parseBodyStructure({ kind: 'nil' }, (m) => warnings.push(m)), null);
  assert.equal(parseBodyStructure({ kind: 'atom', text: 'x' }), null);
  assert.equal(parseBodyStructure({ kind: 'list', items: [] }, (m) => warnings.push(m))!.type, 'application/octet-stream');
  assert.equal(warnings.length > 1, true);
});

test('a BODYSTRUCTURE nested 1,000 deep through the tokenizer: warns, keeps the rest, and the items after it', () => {
  const depth = 1000;
  const bs = '('.repeat(depth) + '"text" "plain" NIL NIL NIL "7bit" 1 1)' + ' "mixed")'.repeat(depth - 1);
  const { attrs, warnings } = fetch(`* 1 FETCH (UID 5 BODYSTRUCTURE ${bs} FLAGS (\\Seen))`);
  assert.equal(attrs.uid, 5);
  assert.deepEqual(attrs.flags, ['\\Seen']);
  const root = attrs.bodyStructure!;
  assert.equal(root.part, '');
  assert.equal(root.type, 'multipart/mixed');
  assert.ok(warnings.some((w) => /too deep/.test(w)), warnings.join('\n'));
  const all = flattenParts(root);
  assert.ok(all.length > 90 && all.length < depth, `${all.length} nodes`);
  assert.equal(all[1]!.part, '1');
  assert.equal(all[2]!.part, '1.1');
  assert.ok(all.every((p) => p.type === 'multipart/mixed'));
  assert.equal(partByNumber(root, all[all.length - 1]!.part), all[all.length - 1]);
});

test('a Value tree nested 1,000 deep built directly (no tokenizer limit): depth-limited, no stack overflow', () => {
  let v: Value = { kind: 'list', items: [{ kind: 'string', text: 'text' }, { kind: 'string', text: 'plain' }, { kind: 'nil' }, { kind: 'nil' }, { kind: 'nil' }, { kind: 'string', text: '7bit' }, { kind: 'atom', text: '1' }, { kind: 'atom', text: '1' }] };
  for (let i = 0; i < 1000; i++) {
    v = i % 2 === 0
      ? { kind: 'list', items: [v, { kind: 'string', text: 'mixed' }] }
      : { kind: 'list', items: [{ kind: 'string', text: 'message' }, { kind: 'string', text: 'rfc822' }, { kind: 'nil' }, { kind: 'nil' }, { kind: 'nil' }, { kind: 'string', text: '7bit' }, { kind: 'atom', text: '9' }, { kind: 'nil' }, v, { kind: 'atom', text: '1' }] };
  }
  const warnings: string[] = [];
  const root = parseBodyStructure(v, (m) => warnings.push(m))!;
  assert.equal(root.type, 'message/rfc822');
  assert.ok(warnings.some((w) => /deep/.test(w)), warnings.join('\n'));
  const all = flattenParts(root);
  assert.ok(all.length >= 100 && all.length <= 130, `${all.length} nodes`);
  // A multipart body of a message/rfc822 part shares that part's number; its first child adds ".1".
  assert.deepEqual(all.slice(0, 4).map((p) => [p.part, p.type]), [['1', 'message/rfc822'], ['1', 'multipart/mixed'], ['1.1', 'message/rfc822'], ['1.1', 'multipart/mixed']]);
  assert.ok(flattenParts(root).length === all.length);
});

test('flattenParts is depth first in document order; partByNumber finds every numbered node', () => {
  const root = structure(RFC_COMPLEX).root;
  const parts = flattenParts(root);
  assert.equal(parts[0], root);
  for (const p of parts) {
    const found = partByNumber(root, p.part)!;
    assert.equal(found.part, p.part);
  }
});


test('every FETCH of captures/seed-alice.pcap parses without warnings', async (t) => {
  const path = join(CAPTURES, 'seed-alice.pcap');
  if (!existsSync(path)) return t.skip('captures/seed-alice.pcap missing');
  const fetches = await captureFetches(path);
  assert.ok(fetches.length >= 8);
  for (const f of fetches) assert.deepEqual(f.warnings, [], `conn ${f.conn} * ${f.number} FETCH`);
  const structures = fetches.filter((f) => f.attrs.bodyStructure);
  assert.deepEqual(structures.map((f) => [f.attrs.uid, outline(f.attrs.bodyStructure!).map(([p, ty]) => `${p || '∅'}:${ty}`).join(' ')]), [
    [1, '1:text/plain'],
    [2, '1:text/plain'],
    [3, '∅:multipart/alternative 1:text/plain 2:text/html'],
    [4, '∅:multipart/mixed 1:text/plain 2:image/png 3:application/pdf'],
    [5, '∅:multipart/mixed 1:text/plain 2:text/plain 3:application/octet-stream'],
    [6, '∅:multipart/mixed 1:text/plain 2:message/rfc822 2:multipart/alternative 2.1:text/plain 2.2:text/html'],
    [7, '1:text/plain'],
    [8, '1:text/plain'],
  ]);
  const seven = structures.find((f) => f.attrs.uid === 7)!.attrs;
  assert.deepEqual([seven.size, seven.bodyStructure!.size, seven.bodyStructure!.lines], [156178, 155886, 2226]);
  assert.equal(structures.find((f) => f.attrs.uid === 2)!.attrs.bodyStructure!.encoding, 'quoted-printable');
});

test('every FETCH of the public protolens-imap.pcap parses without warnings', async (t) => {
  if (skipIfMissing(t, !hasPublic && NO_PUBLIC)) return;
  const fetches = await captureFetches(publicCapture('protolens-imap.pcap'));
  for (const f of fetches) assert.deepEqual(f.warnings, [], `conn ${f.conn} * ${f.number} FETCH`);
  const withStructure = fetches.filter((f) => f.attrs.bodyStructure);
  assert.equal(withStructure.length, 2);
  for (const f of withStructure) {
    assert.deepEqual(flattenParts(f.attrs.bodyStructure!).map((p) => p.filename).filter(Boolean),
      ['FEECE9DF22C64F9F88F4EA583C8164D1.png', '文本类样本.txt', '09.png', '健康检验报告.docx']);
  }
});

/** An array whose element reads are counted (how often a lookup walks it). */
function counted<T>(items: T[]): { items: T[]; reads: () => number } {
  let reads = 0;
  const proxy = new Proxy(items, {
    get(target, key, receiver) {
      if (typeof key === 'string' && /^\d+$/.test(key)) reads++;
      return Reflect.get(target, key, receiver);
    },
  });
  return { items: proxy, reads: () => reads };
}

test('looking up every part of a message of 2,000 parts walks its tree once, not once per part', () => {
  const width = 2_000;
  const { root } = structure(`(${'("text" "plain" NIL NIL NIL "7bit" 1 1)'.repeat(width)} "mixed")`);
  const children = counted(root.children);
  const tree = { ...root, children: children.items };
  for (let i = 1; i <= width; i++) assert.equal(partByNumber(tree, String(i))!.part, String(i));
  assert.equal(partByNumber(tree, String(width + 1)), null);
  assert.ok(children.reads() <= 2 * width, `${children.reads()} reads of the children for ${width} lookups`);
});

test('the leaves no fetch covered: found by looking each part up, the same as comparing it with every fetch', () => {
  const spec = (part: string, text: SectionSpec['text'] = null): SectionSpec => ({ part, text, fields: [] });
  const fetch = (s: SectionSpec, how: FetchHow): SectionFetch => ({
    conn: 0, tag: 'a1', command: 'UID FETCH', requestFrame: 1, frame: 2, item: 'BODY', section: s.part, spec: s, origin: null, how,
    bytes: 1, sha256: null, complete: true, part: s.part || null,
  });
  const random = seededRandom(11);
  const numbers = ['1', '2', '2.1', '2.2', '2.2.1', '2.2.2', '3', '3.1', '10', '10.1', '1.10'];
  for (let round = 0; round < 300; round++) {
    const parts = numbers.filter(() => random() < 0.7).map((part) => ({ part, leaf: random() < 0.6 }));
    const hows: FetchHow[] = ['full', 'partial', 'header', 'mime', 'text'];
    const fetches = numbers.filter(() => random() < 0.3).map((part) => fetch(spec(part), hows[Math.floor(random() * hows.length)]!));
    if (random() < 0.1) fetches.push(fetch(spec('', random() < 0.5 ? null : 'HEADER'), 'full'));
    // The definition: a leaf is covered by a body fetch of itself or of a part it is in, or of the whole message.
    const full = fetches.filter((f) => !['header', 'header-fields', 'mime', 'size'].includes(f.how));
    const whole = full.some((f) => f.spec.part === '' && (f.spec.text === null || f.spec.text === 'TEXT'));
    const expected = whole ? [] : parts.filter((p) => p.leaf && !full.some((f) => f.spec.part !== '' && (p.part === f.spec.part || p.part.startsWith(`${f.spec.part}.`))));
    assert.deepEqual(uncoveredLeaves(parts, (p) => p.leaf, fetches), expected, JSON.stringify({ parts, fetches: fetches.map((f) => [f.spec.part, f.how]) }));
  }
  // 2,000 leaves, each fetched: each fetch's section is read a few times, not once per part.
  const many = Array.from({ length: 2_000 }, (_, i) => ({ part: String(i + 1), leaf: true }));
  let specReads = 0;
  const fetches = many.map((p) => {
    const f = fetch(spec(p.part), 'full');
    const s = f.spec;
    return Object.defineProperty(f, 'spec', { get: () => { specReads++; return s; } });
  });
  assert.deepEqual(uncoveredLeaves(many, (p) => p.leaf, fetches), []);
  assert.ok(specReads <= 4 * many.length, `${specReads} reads of the fetches' sections`);
});
