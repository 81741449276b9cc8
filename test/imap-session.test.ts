import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deflateRawSync, constants } from 'node:zlib';
import { runSession, T0 } from './helpers/imap.js';
import { ImapFramer, type FramerSettings } from '../src/imap/framer.js';
import { SessionContext } from '../src/imap/session.js';
import { isNumberedResponse } from '../src/imap/response.js';
import type { ImapMessage } from '../src/imap/types.js';
import type { Side } from '../src/tcp/types.js';
import { MAX_OTHER_RESPONSE_TYPES, OTHER_RESPONSES } from '../src/imap/response-types.js';

test('pipelined commands each get their own completion; untagged data goes to the oldest outstanding', () => {
  const { exchanges, info } = runSession([
    ['server', '* OK [CAPABILITY IMAP4rev1 IDLE] ready\r\n'],
    ['client', 'a1 SELECT INBOX\r\na2 NOOP\r\n'],
    ['server', '* 3 EXISTS\r\n* OK [UIDVALIDITY 42] ok\r\na1 OK [READ-WRITE] done\r\na2 OK noop\r\n'],
  ]);
  assert.deepEqual(exchanges.map((e) => [e.tag, e.command, e.status, e.untagged]), [['a1', 'SELECT', 'OK', 2], ['a2', 'NOOP', 'OK', 0]]);
  assert.equal(exchanges[0]!.code, 'READ-WRITE');
  assert.deepEqual(info.capabilities, ['IMAP4rev1', 'IDLE']);
  assert.equal(info.selected?.name, 'INBOX');
  assert.equal(info.selected?.exists, 3);
  assert.equal(info.selected?.uidValidity, 42);
  assert.equal(info.greeting?.status, 'OK');
});

test('a refused synchronizing literal: the server says NO, the literal never comes, the next command parses', () => {
  const { exchanges } = runSession([
    ['client', 'a1 APPEND Nowhere (\\Seen) {310}\r\n'],
    ['server', 'a1 NO [TRYCREATE] no such mailbox\r\n'],
    ['client', 'a2 NOOP\r\n'],
    ['server', 'a2 OK\r\n'],
  ]);
  assert.deepEqual(exchanges.map((e) => [e.tag, e.command, e.status, e.code]), [['a1', 'APPEND', 'NO', 'TRYCREATE'], ['a2', 'NOOP', 'OK', null]]);
});

test('APPEND with a synchronizing literal counts its continuation request', () => {
  const { exchanges } = runSession([
    ['client', 'a1 APPEND INBOX {5}\r\n'],
    ['server', '+ go ahead\r\n'],
    ['client', 'hello\r\n'],
    ['server', 'a1 OK [APPENDUID 1 9] done\r\n'],
  ]);
  assert.equal(exchanges.length, 1);
  assert.equal(exchanges[0]!.continuations, 1);
  assert.equal(exchanges[0]!.requestBytes, Buffer.byteLength('a1 APPEND INBOX {5}\r\nhello\r\n'));
});

test('AUTHENTICATE PLAIN: the SASL response is no command, the user is decoded, the secret redacted', () => {
  const ir = Buffer.from('\0alice\0s3cret').toString('base64');
  const { exchanges, info, messages } = runSession([
    ['client', 'a1 AUTHENTICATE PLAIN\r\n'],
    ['server', '+ \r\n'],
    ['client', `${ir}\r\n`],
    ['server', 'a1 OK logged in\r\n'],
    ['client', `a2 AUTHENTICATE PLAIN ${ir}\r\n`],
    ['server', 'a2 OK\r\n'],
  ]);
  assert.deepEqual(exchanges.map((e) => e.command), ['AUTHENTICATE', 'AUTHENTICATE']);
  assert.equal(info.user, 'alice');
  assert.equal(info.cleartextAuth, true);
  assert.equal(exchanges[1]!.args, 'PLAIN ***');
  assert.ok(!JSON.stringify(exchanges.map((e) => e.args)).includes(ir));
  const sasl = messages.find((m) => m.lines[0] === ir)!;
  assert.match(sasl.redacted!, /\*\*\*/);
});

test('LOGIN is redacted; IDLE … + idling … DONE pairs with its completion and owns the untagged data', () => {
  const { exchanges, info } = runSession([
    ['client', 'a1 LOGIN bob "pa ss"\r\n'],
    ['server', 'a1 OK\r\n'],
    ['client', 'a2 IDLE\r\n'],
    ['server', '+ idling\r\n'],
    ['server', '* 4 EXISTS\r\n'],
    ['client', 'DONE\r\n'],
    ['server', 'a2 OK IDLE terminated\r\n'],
  ]);
  assert.deepEqual(exchanges.map((e) => [e.command, e.args, e.status]), [['LOGIN', 'bob ***', 'OK'], ['IDLE', '', 'OK']]);
  assert.equal(exchanges[0]!.argsClear, 'bob "pa ss"');
  assert.equal(exchanges[1]!.untagged, 1);
  assert.equal(exchanges[1]!.continuations, 1);
  assert.equal(info.user, 'bob');
  assert.equal(info.commands, 2, 'DONE is not a command');
});

test('COMPRESS=DEFLATE: both directions are inflated after the OK and dissection goes on', () => {
  const z = (s: string) => deflateRawSync(Buffer.from(s), { finishFlush: constants.Z_SYNC_FLUSH });
  // One continuous deflate stream per side: compress everything, then cut it into two segments.
  const clientStream = z('a2 NOOP\r\na3 LOGOUT\r\n');
  const serverStream = z('a2 OK\r\n* BYE bye\r\na3 OK\r\n');
  const { exchanges, info, markers } = runSession([
    ['client', 'a1 COMPRESS DEFLATE\r\n'],
    ['server', Buffer.concat([Buffer.from('a1 OK DEFLATE active\r\n'), serverStream.subarray(0, 4)])],
    ['client', clientStream],
    ['server', serverStream.subarray(4)],
  ]);
  assert.deepEqual(exchanges.map((e) => [e.tag, e.command, e.status]), [['a1', 'COMPRESS', 'OK'], ['a2', 'NOOP', 'OK'], ['a3', 'LOGOUT', 'OK']]);
  assert.equal(exchanges[2]!.untagged, 1);
  assert.ok(info.compress);
  assert.ok(markers.some((m) => /COMPRESS/.test(m)));
});

test('a gap in plain IMAP is said in the transcript and framing goes on; under COMPRESS it ends that direction\'s dissection', () => {
  const plain = runSession([
    ['client', 'a1 NOOP\r\n'],
    ['server', 'a1 OK\r\n'],
    ['client', 17],
    ['client', 'a2 NOOP\r\n'],
    ['server', 'a2 OK\r\n'],
  ]);
  assert.ok(plain.markers.includes('17 bytes missing from the capture'), plain.markers.join('\n'));
  assert.deepEqual(plain.exchanges.map((e) => [e.tag, e.status]), [['a1', 'OK'], ['a2', 'OK']]);
  assert.deepEqual(plain.warnings.map((w) => w.message).filter((m) => /COMPRESS/.test(m)), []);

  const z = (text: string) => deflateRawSync(Buffer.from(text), { finishFlush: constants.Z_SYNC_FLUSH });
  const compressed = runSession([
    ['client', 'a1 COMPRESS DEFLATE\r\n'],
    ['server', 'a1 OK DEFLATE active\r\n'],
    ['client', 7],
    ['client', z('a2 NOOP\r\n')],
    ['server', z('a2 OK\r\n')],
  ]);
  assert.ok(compressed.markers.includes('7 bytes missing from the capture'), compressed.markers.join('\n'));
  assert.ok(compressed.warnings.some((w) => /cannot inflate the client side after COMPRESS \(7 compressed bytes missing\)/.test(w.message)),
    compressed.warnings.map((w) => w.message).join('\n'));
  assert.deepEqual(compressed.exchanges.map((e) => e.tag), ['a1'], 'nothing after the gap is dissected');
});

test('STARTTLS: after the OK nothing is parsed as IMAP, and the TLS hello is reported', () => {
  // A minimal ClientHello record with SNI "mail.example".
  const sni = Buffer.from('mail.example');
  const sniExt = Buffer.concat([Buffer.from([0, 0]), u16(sni.length + 5), u16(sni.length + 3), Buffer.from([0]), u16(sni.length), sni]);
  const body = Buffer.concat([Buffer.from([3, 3]), Buffer.alloc(32, 7), Buffer.from([0]), u16(2), Buffer.from([0x13, 0x01]), Buffer.from([1, 0]), u16(sniExt.length), sniExt]);
  const hs = Buffer.concat([Buffer.from([1, 0, body.length >> 8, body.length & 0xff]), body]);
  const record = Buffer.concat([Buffer.from([0x16, 3, 1]), u16(hs.length), hs]);
  const { exchanges, info, warnings } = runSession([
    ['client', '. STARTTLS\r\n'],
    ['server', '. OK Begin TLS negotiation now\r\n'],
    ['client', record],
    ['server', Buffer.from([0x16, 3, 3, 0, 2, 0xde, 0xad])],
  ]);
  assert.deepEqual(exchanges.map((e) => e.command), ['STARTTLS']);
  assert.equal(info.tls?.how, 'starttls');
  assert.equal(info.tls?.sni, 'mail.example');
  assert.equal(warnings.length, 0);
});

test('responses without requests (server-only capture) pair by tag alone, naming the command where the text does', () => {
  const { exchanges, warnings } = runSession([
    ['server', '* OK ready\r\n'],
    ['server', 'C1 OK CAPABILITY completed\r\nC2 OK Fetch completed\r\nC3 NO whatever\r\n'],
  ], false);
  assert.deepEqual(exchanges.map((e) => [e.tag, e.command, e.status, e.requestMissing]), [
    ['C1', 'CAPABILITY', 'OK', true], ['C2', 'FETCH', 'OK', true], ['C3', '?', 'NO', true]]);
  assert.ok(warnings.some((w) => /3 tagged response\(s\) had no request/.test(w.message)));
});

test('a mid-stream capture starting with DONE resynchronises; a command without completion is incomplete', () => {
  const { exchanges } = runSession([
    ['client', 'DONE\r\n'],
    ['server', 'A50 OK Idle completed\r\n'],
    ['client', 'A51 NAMESPACE\r\n'],
  ], false);
  assert.deepEqual(exchanges.map((e) => [e.tag, e.command, e.status]), [['A50', 'IDLE', 'OK'], ['A51', 'NAMESPACE', null]]);
});

test('a mid-stream capture keeps looking for a command across segments until one comes', () => {
  const tail = ['the tail of an APPEND literal\r\n', 'more of it, and a line cut in ', 'two\r\n'];
  const { exchanges, warnings } = runSession([
    ...tail.map((text): ['client', string] => ['client', text]),
    ['client', 'a7 NOOP\r\n'],
    ['server', 'a7 OK done\r\n'],
  ], false);
  assert.deepEqual(exchanges.map((e) => [e.tag, e.command, e.status]), [['a7', 'NOOP', 'OK']]);
  const skipped = tail.join('').length;
  assert.deepEqual(warnings.map((w) => w.message), [`client: skipped ${skipped} octets that could not be framed (from frame 1); resynchronised at a command`]);
});

test('a reused tag is reported; garbage on the port does not crash and is not a command', () => {
  const { exchanges, warnings } = runSession([
    ['client', 'x1 NOOP\r\nx1 NOOP\r\n'],
    ['server', 'x1 OK\r\nx1 OK\r\n'],
    ['client', Buffer.from([0xff, 0xfe, 0x00, 0x0d, 0x0a, 0x41])],
  ]);
  assert.equal(exchanges.filter((e) => e.command === 'NOOP' && e.status === 'OK').length, 2);
  assert.ok(warnings.some((w) => /tag x1 reused/.test(w.message)));
});

test('a command pipelined after STARTTLS, before the handshake, is flagged as injection', () => {
  const { info, warnings } = runSession([
    ['client', 'a1 STARTTLS\r\na2 LOGIN eve secret\r\n'],
    ['server', 'a1 OK Begin TLS\r\n'],
  ]);
  assert.equal(info.tls?.injectedBeforeTls, true);
  assert.ok(warnings.some((w) => /after STARTTLS before the TLS handshake \(a2\)/.test(w.message)), JSON.stringify(warnings));
});

function u16(n: number): Buffer {
  return Buffer.from([n >> 8, n & 0xff]);
}

test('the RFC 3501 §8 sample connection: every command paired, untagged data owned, state followed', () => {
  const header = [
    'Date: Wed, 17 Jul 1996 02:23:25 -0700 (PDT)', 'From: Terry Gray <gray@cac.washington.edu>',
    'Subject: IMAP4rev1 WG mtg summary and minutes', 'To: imap@cac.washington.edu',
    'cc: minutes@CNRI.Reston.VA.US, John Klensin <KLENSIN@MIT.EDU>', 'Message-Id: <B27397-0100000@cac.washington.edu>',
    'MIME-Version: 1.0', 'Content-Type: TEXT/PLAIN; CHARSET=US-ASCII', '', '',
  ].join('\r\n');
  const { exchanges, info } = runSession([
    ['server', '* OK IMAP4rev1 Service Ready\r\n'],
    ['client', 'a001 login mrc secret\r\n'],
    ['server', 'a001 OK LOGIN completed\r\n'],
    ['client', 'a002 select inbox\r\n'],
    ['server', '* 18 EXISTS\r\n* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n* 2 RECENT\r\n' +
      '* OK [UNSEEN 17] Message 17 is the first unseen message\r\n* OK [UIDVALIDITY 3857529045] UIDs valid\r\n' +
      'a002 OK [READ-WRITE] SELECT completed\r\n'],
    ['client', 'a003 fetch 12 full\r\n'],
    ['server', '* 12 FETCH (FLAGS (\\Seen) INTERNALDATE "17-Jul-1996 02:44:25 -0700" RFC822.SIZE 4286 ENVELOPE ("Wed, 17 Jul 1996 02:23:25 -0700 (PDT)" ' +
      '"IMAP4rev1 WG mtg summary and minutes" (("Terry Gray" NIL "gray" "cac.washington.edu")) (("Terry Gray" NIL "gray" "cac.washington.edu")) ' +
      '(("Terry Gray" NIL "gray" "cac.washington.edu")) ((NIL NIL "imap" "cac.washington.edu")) ((NIL NIL "minutes" "CNRI.Reston.VA.US") ' +
      '("John Klensin" NIL "KLENSIN" "MIT.EDU")) NIL NIL "<B27397-0100000@cac.washington.edu>") ' +
      'BODY ("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 3028 92))\r\na003 OK FETCH completed\r\n'],
    ['client', 'a004 fetch 12 body[header]\r\n'],
    ['server', `* 12 FETCH (BODY[HEADER] {${header.length}}\r\n${header})\r\na004 OK FETCH completed\r\n`],
    ['client', 'a005 store 12 +flags \\deleted\r\n'],
    ['server', '* 12 FETCH (FLAGS (\\Seen \\Deleted))\r\na005 OK +FLAGS completed\r\n'],
    ['client', 'a006 logout\r\n'],
    ['server', '* BYE IMAP4rev1 server terminating connection\r\na006 OK LOGOUT completed\r\n'],
  ]);
  assert.deepEqual(exchanges.map((e) => [e.tag, e.command, e.status, e.untagged]), [
    ['a001', 'LOGIN', 'OK', 0], ['a002', 'SELECT', 'OK', 5], ['a003', 'FETCH', 'OK', 1],
    ['a004', 'FETCH', 'OK', 1], ['a005', 'STORE', 'OK', 1], ['a006', 'LOGOUT', 'OK', 1]]);
  assert.equal(exchanges[0]!.args, 'mrc ***');
  assert.equal(exchanges[1]!.code, 'READ-WRITE');
  assert.deepEqual(exchanges[1]!.untaggedByType, { EXISTS: 1, FLAGS: 1, RECENT: 1, OK: 2 });
  assert.equal(info.user, 'mrc');
  assert.equal(info.greeting?.text, 'IMAP4rev1 Service Ready');
  assert.deepEqual([info.selected?.name, info.selected?.exists, info.selected?.recent, info.selected?.uidValidity], ['inbox', 18, 2, 3857529045]);
  assert.equal(exchanges[3]!.responseBytes, Buffer.byteLength(`* 12 FETCH (BODY[HEADER] {${header.length}}\r\n${header})\r\na004 OK FETCH completed\r\n`));
});

test('long SASL payloads (XOAUTH2 tokens, a long PLAIN) are redacted in every form: response line, SASL-IR, and the transcript', () => {
  const token = `user=alice@example.com\x01auth=Bearer ${'ya29.'.padEnd(300, 'x')}\x01\x01`;
  const xoauth = Buffer.from(token).toString('base64');
  const plain = Buffer.from(`\0alice\0${'p'.repeat(120)}`).toString('base64');
  assert.ok(xoauth.length > 64 && plain.length > 64);
  const { exchanges, messages, info } = runSession([
    ['client', 'a1 AUTHENTICATE XOAUTH2\r\n'],
    ['server', '+ \r\n'],
    ['client', `${xoauth}\r\n`],
    ['server', 'a1 NO try again\r\n'],
    ['client', `a2 AUTHENTICATE PLAIN ${plain}\r\n`],
    ['server', 'a2 OK\r\n'],
  ]);
  assert.equal(info.user, 'alice');
  assert.deepEqual(exchanges.map((e) => e.args), ['XOAUTH2', 'PLAIN ***']);
  const response = messages.find((m) => m.lines[0] === xoauth)!;
  assert.equal(response.redacted, '*** (SASL response)');
  const ir = messages.find((m) => m.lines[0]!.startsWith('a2 '))!;
  assert.equal(ir.redacted, 'a2 AUTHENTICATE PLAIN ***');
  for (const m of messages) {
    const shown = m.redacted ?? m.lines.join('');
    assert.ok(!shown.includes(xoauth.slice(0, 20)) && !shown.includes(plain.slice(0, 20)), `no secret shown: ${shown.slice(0, 60)}`);
  }
});

test('a UIDVALIDITY or UIDNEXT that is not a 32-bit number is unknown (null), never NaN (found by fuzzing)', () => {
  const select = (codes: string) => runSession([
    ['server', '* OK hi\r\n'],
    ['client', 'a1 SELECT INBOX\r\n'],
    ['server', `${codes}a1 OK [READ-WRITE] done\r\n`],
  ]).info.selected!;
  const bad = select('* OK [UIDVALIDITY 12x] v\r\n* OK [UIDNEXT 99999999999] n\r\n');
  assert.equal(bad.uidValidity, null);
  assert.equal(bad.uidNext, null);
  const good = select('* OK [UIDVALIDITY 3857529045] v\r\n* OK [UIDNEXT 7] n\r\n');
  assert.equal(good.uidValidity, 3857529045);
  assert.equal(good.uidNext, 7);
});

test('without a reader of FETCH data, a numbered response keeps none of its literals\' octets; every other literal keeps them', () => {
  const quiet = new SessionContext({ exchange: () => {} }, () => {});
  const reading = new SessionContext({ exchange: () => {}, untagged: () => {} }, () => {});
  const frame = (settings: FramerSettings, text: string) => {
    const messages: ImapMessage[] = [];
    new ImapFramer({ message: (m) => messages.push(m), warn: () => {} }, settings).push(Buffer.from(text, 'latin1'), 1, T0);
    return messages.map((m) => [m.lines, m.literals.map((l) => [l.received, l.data?.toString('latin1') ?? null])]);
  };
  const server = '* 12 FETCH (UID 7 BODY[HEADER] {7}\r\nSubj: x)\r\n* LIST () "/" {5}\r\nINBOX\r\n* 2 EXISTS\r\n';
  const lines = [['* 12 FETCH (UID 7 BODY[HEADER] {7}', ')'], ['* LIST () "/" {5}', ''], ['* 2 EXISTS']];
  assert.deepEqual(frame(quiet.framing.server, server), [[lines[0], [[7, null]]], [lines[1], [[5, 'INBOX']]], [lines[2], []]]);
  assert.deepEqual(frame(reading.framing.server, server), [[lines[0], [[7, 'Subj: x']]], [lines[1], [[5, 'INBOX']]], [lines[2], []]]);
  // A command's literal (a LOGIN password, an APPENDed message) is the session's to read.
  assert.deepEqual(frame(quiet.framing.client, 'a1 LOGIN {5}\r\nalice pw\r\n'), [[['a1 LOGIN {5}', ' pw'], [[5, 'alice']]]]);
  assert.equal(isNumberedResponse('* 1 FETCH (FLAGS ())'), true);
  for (const line of ['* LIST () "/" x', '*12 FETCH', '+ 1', 'a1 OK', '*', '', '* x 1']) assert.equal(isNumberedResponse(line), false, line);
});

test('close() names the newest exchange while a command was outstanding until the end, and none once all were complete', () => {
  const closeAfter = (steps: [Side, string][]) => {
    const { newest, exchanges } = runSession(steps);
    return { newest: newest?.tag ?? null, reported: exchanges.map((ex) => ex.tag) };
  };
  const greeting: [Side, string] = ['server', '* OK ready\r\n'];
  assert.deepEqual(closeAfter([greeting, ['client', 'a1 NOOP\r\n'], ['server', 'a1 OK\r\n']]), { newest: null, reported: ['a1'] });
  assert.deepEqual(closeAfter([greeting, ['client', 'a1 NOOP\r\n'], ['client', 'a2 NOOP\r\n'], ['server', 'a1 OK\r\n']]),
    { newest: 'a2', reported: ['a1', 'a2'] });
  // A tagged response without its command opens an exchange after the outstanding IDLE: that one is the newest.
  assert.deepEqual(closeAfter([greeting, ['client', 'a1 IDLE\r\n'], ['server', '+ idling\r\n'], ['server', 'x9 OK done\r\n']]),
    { newest: 'x9', reported: ['x9', 'a1'] });
});

test('untagged responses of more than 100 invented types: the first 100 counted apart, the rest together, said once', () => {
  const extra = 5;
  // Each invented type once, numbered or not, between responses of IMAP's own types; then the first again.
  const responses: string[] = [];
  for (let i = 0; i < MAX_OTHER_RESPONSE_TYPES + extra; i++) responses.push(i % 2 ? `* ${i} X${i} a\r\n` : `* X${i} a\r\n`, `* ${i + 1} EXISTS\r\n`);
  const { exchanges, warnings } = runSession([
    ['server', '* OK ready\r\n'], ['client', 'a1 NOOP\r\n'], ['server', responses.join('')], ['server', '* X0 b\r\na1 OK done\r\n'],
    ['client', 'a2 NOOP\r\n'], ['server', `* X${MAX_OTHER_RESPONSE_TYPES + 1} c\r\n* X0 d\r\na2 OK done\r\n`],
  ]);
  const [first, second] = exchanges;
  assert.equal(first!.untagged, 2 * (MAX_OTHER_RESPONSE_TYPES + extra) + 1);
  assert.equal(first!.untaggedByType.EXISTS, MAX_OTHER_RESPONSE_TYPES + extra);
  assert.equal(first!.untaggedByType.X0, 2);
  assert.equal(first!.untaggedByType[`X${MAX_OTHER_RESPONSE_TYPES - 1}`], 1);
  assert.equal(first!.untaggedByType[OTHER_RESPONSES], extra);
  assert.equal(Object.keys(first!.untaggedByType).length, MAX_OTHER_RESPONSE_TYPES + 2);
  // The rule is the capture's: a later exchange counts a type past the cap together too, and one listed apart.
  assert.deepEqual(second!.untaggedByType, { [OTHER_RESPONSES]: 1, X0: 1 });
  const said = warnings.filter((w) => w.message.includes(OTHER_RESPONSES));
  assert.equal(said.length, 1);
  assert.equal(said[0]!.frame, 3, 'the frame of the first response counted together');
  assert.match(said[0]!.message, new RegExp(`^more than ${MAX_OTHER_RESPONSE_TYPES} different types .*: "X${MAX_OTHER_RESPONSE_TYPES}" and every later`));
});
