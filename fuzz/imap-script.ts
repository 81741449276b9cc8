import { deflateRawSync, constants } from 'node:zlib';
import { looksLikeCommand } from '../src/imap/command.js';
import { ImapFramer, type FramerLimits } from '../src/imap/framer.js';
import { looksLikeResponse } from '../src/imap/response.js';
import type { ImapMessage } from '../src/imap/types.js';
import type { Side } from '../src/tcp/types.js';
import type { Rng } from './rng.js';
import { IMAP_DICTIONARY, conversationsOf, recordedCaptures } from './seeds.js';

/**
 * A two-way IMAP conversation as fuzz input: chunks of [control u8][length u16 BE][bytes]. Control bit 0
 * is the side (1 = server), bit 1 makes the chunk a gap of `length` bytes (no bytes follow). Each chunk
 * is one TCP segment's worth, so chunk boundaries (a literal cut anywhere) are fuzzed too.
 */
export type Step = { side: Side; bytes: Buffer } | { side: Side; gap: number };

export function decodeScript(input: Buffer): Step[] {
  const steps: Step[] = [];
  for (let at = 0; at + 3 <= input.length;) {
    const ctl = input[at]!;
    const length = input.readUInt16BE(at + 1);
    const side: Side = ctl & 1 ? 'server' : 'client';
    at += 3;
    if (ctl & 2) {
      steps.push({ side, gap: length });
      continue;
    }
    steps.push({ side, bytes: input.subarray(at, at + length) });
    at += length;
  }
  return steps;
}

export function encodeScript(steps: readonly Step[]): Buffer {
  const parts: Buffer[] = [];
  for (const s of steps) {
    const head = Buffer.alloc(3);
    head[0] = (s.side === 'server' ? 1 : 0) | ('gap' in s ? 2 : 0);
    if ('gap' in s) {
      head.writeUInt16BE(Math.min(s.gap, 0xffff), 1);
      parts.push(head);
      continue;
    }
    for (let i = 0; i < s.bytes.length || i === 0; i += 0xffff) {
      const piece = s.bytes.subarray(i, i + 0xffff);
      const h = Buffer.from(head);
      h.writeUInt16BE(piece.length, 1);
      parts.push(h, piece);
    }
  }
  return Buffer.concat(parts);
}

/** The recorded conversations (first 24 KiB of each), as scripts. */
export function recordedScripts(): Buffer[] {
  return recordedCaptures().flatMap((c) => conversationsOf(c.bytes)).map((conv) => {
    const steps: Step[] = [];
    let size = 0;
    for (const ch of conv.chunks) {
      if (size > 24 * 1024) break;
      steps.push(ch);
      size += ch.bytes.length;
    }
    return encodeScript(steps);
  });
}

const C = (s: string): Step => ({ side: 'client', bytes: Buffer.from(s, 'latin1') });
const S = (s: string): Step => ({ side: 'server', bytes: Buffer.from(s, 'latin1') });

const BODYSTRUCTURES = [
  '("TEXT" "PLAIN" ("CHARSET" "UTF-8") NIL NIL "7BIT" 12 1 NIL NIL NIL NIL)',
  '(("TEXT" "PLAIN" ("CHARSET" "us-ascii") NIL NIL "QUOTED-PRINTABLE" 30 2)("APPLICATION" "PDF" ("NAME" "a.pdf") NIL NIL "BASE64" 400 NIL ("ATTACHMENT" ("FILENAME" "=?utf-8?q?r=C3=A9sum=C3=A9.pdf?=")) NIL) "MIXED" ("BOUNDARY" "b") NIL NIL)',
  '("MESSAGE" "RFC822" NIL NIL NIL "7BIT" 300 ("Mon, 1 Jan 2024 00:00:00 +0000" "inner" NIL NIL NIL NIL NIL NIL NIL "<i@x>") ("TEXT" "PLAIN" NIL NIL NIL "7BIT" 5 1) 9)',
];
const ENVELOPE = '("Mon, 1 Jan 2024 10:00:00 +0000" "=?UTF-8?B?SGVsbG8=?=" (("Al" NIL "al" "example.org")) NIL NIL (("Bo" NIL "bo" "example.org")(NIL NIL "grp" NIL)(NIL NIL NIL NIL)) NIL NIL NIL "<m1@example.org>")';

/** One command with its responses, valid IMAP of a kind the generator picks. */
function exchange(rng: Rng, tag: string): Step[] {
  const body = 'Subject: hi\r\n\r\nhello\r\n';
  const n = 1 + rng.int(50);
  switch (rng.int(12)) {
    case 0: return [C(`${tag} LOGIN alice {6}\r\n`), S('+ go\r\n'), C('secret\r\n'), S(`${tag} OK [CAPABILITY IMAP4rev1 IDLE] in\r\n`)];
    case 1: return [C(`${tag} LOGIN {5+}\r\nalice "p\\"w"\r\n`), S(`${tag} NO [AUTHENTICATIONFAILED] bad\r\n`)];
    case 2: return [C(`${tag} AUTHENTICATE PLAIN\r\n`), S('+ \r\n'), C(`${Buffer.from('\0alice\0pw').toString('base64')}\r\n`), S(`${tag} OK done\r\n`)];
    case 3: return [C(`${tag} SELECT "INBOX/&AOQ-ndern"\r\n`), S(`* ${n} EXISTS\r\n* OK [UIDVALIDITY 7] v\r\n* FLAGS (\\Seen \\Answered)\r\n${tag} OK [READ-WRITE] ok\r\n`)];
    case 4: return [C(`${tag} UID FETCH 1:* (UID FLAGS ENVELOPE BODYSTRUCTURE)\r\n`), S(`* ${n} FETCH (UID ${n} FLAGS (\\Seen) ENVELOPE ${ENVELOPE} BODYSTRUCTURE ${rng.pick(BODYSTRUCTURES)})\r\n${tag} OK f\r\n`)];
    case 5: return [C(`${tag} FETCH ${n} (BODY.PEEK[1] BODY[HEADER.FIELDS (SUBJECT)]<0.10> BINARY[2])\r\n`), S(`* ${n} FETCH (BODY[1] {${body.length}}\r\n${body} BODY[HEADER.FIELDS (SUBJECT)]<0> "Subject: " BINARY[2] ~{3}\r\n\0\x01\x02)\r\n${tag} OK f\r\n`)];
    case 6: return [C(`${tag} APPEND INBOX (\\Seen) {${body.length}}\r\n`), S('+ ready\r\n'), C(`${body}\r\n`), S(`${tag} OK [APPENDUID 7 ${n}] a\r\n`)];
    // A MULTIAPPEND of two to nine messages: past the fuzzers' caps on literals a message keeps (ImapMessage.elided).
    case 7: return [C(`${tag} APPEND INBOX {${body.length}-}\r\n${body}${` {2+}\r\nxy`.repeat(1 + rng.int(8))}\r\n`), S(`${tag} OK a\r\n`)];
    case 8: return [C(`${tag} IDLE\r\n`), S('+ idling\r\n'), S(`* ${n} EXISTS\r\n`), C('DONE\r\n'), S(`${tag} OK idle done\r\n`)];
    case 9: return [C(`${tag} LIST "" "*"\r\n`), S(`* LIST (\\HasNoChildren) "/" "a&AOQ-"\r\n* LIST () "/" {3}\r\nx\x9by\r\n${tag} OK l\r\n`)];
    case 10: return [C(`${tag} ID ("name" "fuzz" "version" "1")\r\n`), S(`* ID ("name" "Dovecot")\r\n${tag} OK id\r\n`)];
    default: return [C(`${tag} UID SEARCH SINCE 1-Jan-2024\r\n`), S(`* SEARCH 1 2 ${n}\r\n${tag} BAD [PARSE] x\r\n`)];
  }
}

/** A valid IMAP session: greeting, a handful of exchanges, maybe COMPRESS, LOGOUT. */
export function generateSession(rng: Rng): Buffer {
  const steps: Step[] = [S('* OK [CAPABILITY IMAP4rev1 COMPRESS=DEFLATE] ready\r\n')];
  const count = 1 + rng.small(8);
  for (let i = 1; i <= count; i++) steps.push(...exchange(rng, `a${i}`));
  if (rng.chance(0.2)) {
    steps.push(C('z1 COMPRESS DEFLATE\r\n'), S('z1 OK on\r\n'));
    const rest = exchange(rng, 'z2');
    for (const s of rest) {
      if ('bytes' in s) steps.push({ side: s.side, bytes: deflateRawSync(s.bytes, { finishFlush: constants.Z_SYNC_FLUSH }) });
    }
  }
  steps.push(C('zz LOGOUT\r\n'), S('* BYE bye\r\nzz OK out\r\n'));
  // Sometimes a segment boundary inside a line or literal, sometimes a gap.
  if (rng.chance(0.3)) {
    const i = rng.int(steps.length);
    const s = steps[i]!;
    if ('bytes' in s && s.bytes.length > 1) {
      const cut = 1 + rng.int(s.bytes.length - 1);
      steps.splice(i, 1, { side: s.side, bytes: s.bytes.subarray(0, cut) }, rng.chance(0.3) ? { side: s.side, gap: rng.int(40) } : { side: s.side, bytes: s.bytes.subarray(cut) });
    }
  }
  return encodeScript(steps);
}

export const SCRIPT_DICTIONARY: readonly Buffer[] = [...IMAP_DICTIONARY, Buffer.from([0, 0, 4]), Buffer.from([1, 0, 4]), Buffer.from([2, 0, 10]), Buffer.from([3, 1, 0])];

const T = { sec: 1_700_000_000, nsec: 0, digits: 6 };

/** Both directions of a script through an ImapFramer each: the messages framed and the bytes pushed per side. */
export function frameScript(input: Buffer, limits: FramerLimits): { messages: ImapMessage[]; pushed: Record<Side, number> } {
  const messages: ImapMessage[] = [];
  const pushed: Record<Side, number> = { client: 0, server: 0 };
  const make = (side: Side) => new ImapFramer({ message: (m) => messages.push(m), warn: () => {} }, { side, limits, plausibleStart: side === 'client' ? looksLikeCommand : looksLikeResponse });
  const framers = { client: make('client'), server: make('server') };
  let frame = 0;
  for (const step of decodeScript(input)) {
    frame++;
    if ('gap' in step) framers[step.side].gap(step.gap, frame, T);
    else {
      pushed[step.side] += step.bytes.length;
      framers[step.side].push(step.bytes, frame, T);
    }
  }
  framers.client.end(frame, T);
  framers.server.end(frame, T);
  return { messages, pushed };
}
