/**
 * Captures that stress one dimension each, for the scaling table of bench/run.ts (docs/benchmarks.md):
 *
 *   open N        N IMAP connections, each sends one command and gets no answer; none is ever closed
 *   idling N      N IMAP connections as a mail client leaves them: logged in, INBOX selected, IDLE answered by
 *                 "+ idling", then nothing more; none is ever closed. All open first, then one goes idle every
 *                 --interval seconds (default 1 ms: 200,000 take 200 s, as clients that come and stay)
 *   idling-tls N  N IMAPS connections replaying the recorded session of captures/imaps-tls13.pcap (TLS 1.3) to its
 *                 SELECT's completion, then nothing more; none is ever closed. Scheduled as `idling`. Read with the key
 *                 log captures/imaps-tls13.keys (SCALE_OPTIONS), every one is decrypted: they share the client random
 *   midway-tls N  N IMAPS connections of which the capture holds only the middle: no TCP handshake, no TLS hello, the
 *                 records of frames 24 to 30 of the recorded session, then nothing (a capture started on a busy
 *                 server); nothing can be decrypted
 *   idling-compress N  as `idling`, with COMPRESS=DEFLATE on after the LOGIN (each message sync-flushed, as peers do):
 *                 a push client such as a phone's
 *   syn-flood N   N SYNs to the IMAP port, each from a client of its own, none answered (a SYN flood at a mail server, a
 *                 scan): N conversations open at once that never carry a byte
 *   chatty N      100 connections open at once, N commands among them, each answered (a UID FETCH of one message's
 *                 flags), round by round; none is ever closed: what a view keeps per finished exchange of a connection
 *                 that is still open
 *   closed N      N short sessions one after another (LOGIN, SELECT, FETCH, LOGOUT), each closed; one every
 *                 10 ms, or every --interval seconds
 *   busy N        the same, one every millisecond: a busy server's rate (each ended one lingers 5 minutes, so
 *                 past 32,768 the cap on lingering conversations is what holds memory)
 *   named N       N short sessions one after another, as `closed`, each naming a client of its own by ID (name and
 *                 version) and refused an AUTHENTICATE of a mechanism of its own before its LOGIN: names read off the wire
 *                 that `compare` and the per-client figures keep
 *   pipelined N   one connection, N pipelined commands, no answer to any
 *   untagged N    one command answered by N untagged FETCH responses
 *   literals N    one FETCH response carrying N sections, each a literal (one message of N line pieces)
 *   mailboxes N   one connection selecting N mailboxes in turn and fetching a message in each
 *   parts N       one message whose BODYSTRUCTURE has N parts, then each part fetched in one command (N up to about
 *                 25,000: a BODYSTRUCTURE is one line, and a line is kept up to 1 MiB)
 *   expunged N    a mailbox of N messages, each UID fetched, then every message expunged from the front
 *   held N        one response of N segments of 20 bytes whose first is captured last, none of the client's ACKs
 *                 captured: each waits behind the hole the first leaves (up to the cap on segments held, 4,096)
 *   outstanding N 4,000 FETCH commands pipelined, then N responses, untagged FETCH responses to the first and
 *                 continuation requests by turns, then every completion: each response is matched against the
 *                 commands outstanding
 *   refetched N   one message's From header fetched N times, 500 commands a flight (a client polling one message):
 *                 a message whose pieces the fetch views merge from many runs
 *   appended N    one APPEND of N short messages, each a non-synchronizing literal (MULTIAPPEND with LITERAL+, as a
 *                 migration tool uploads): one client command of N line pieces
 *
 *   node dist/bench/scale-captures.js --kind open --count 200000 --out FILE
 *   node dist/bench/scale-captures.js --kind closed --count 300000 --interval 0.001 --out FILE
 *
 * Ethernet/IPv4 classic pcap, streamed to disk; deterministic. Each returns the number of command exchanges
 * imapscope must report, for --check.
 */
import { createWriteStream } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { readCapture } from '../src/capture/reader.js';
import { PacketDecoder } from '../src/decode/decoder.js';
import type { Side } from '../src/tcp/types.js';
import { Deflate, Z_SYNC_FLUSH } from 'pako';
import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { LINKTYPE, TcpFlow, encodeFrameParts, pcapFileHeader, pcapRecordHeader, type SynthPacket } from '../test/helpers/synth.js';

export type ScaleKind = 'open' | 'idling' | 'idling-tls' | 'midway-tls' | 'idling-compress' | 'syn-flood' | 'chatty' | 'closed' | 'busy' | 'named' | 'pipelined' | 'untagged' | 'literals' | 'mailboxes' | 'parts' | 'expunged' | 'held' | 'outstanding' | 'refetched' | 'appended';
export const SCALE_KINDS: readonly ScaleKind[] = ['open', 'idling', 'idling-tls', 'midway-tls', 'idling-compress', 'syn-flood', 'chatty', 'closed', 'busy', 'named', 'pipelined', 'untagged', 'literals', 'mailboxes', 'parts', 'expunged', 'held', 'outstanding', 'refetched', 'appended'];

/** The recorded IMAPS session `idling-tls` replays, and its key log. */
const RECORDED_IMAPS = fileURLToPath(new URL('../../captures/imaps-tls13.pcap', import.meta.url));
export const RECORDED_IMAPS_KEYS = fileURLToPath(new URL('../../captures/imaps-tls13.keys', import.meta.url));
/** Its frames up to the tagged OK of its SELECT (captures/imaps-tls13/ has the server's log of the session). */
const RECORDED_IMAPS_IDLE_AFTER = 23;

/** Options a view needs to read a dimension's captures. */
export const SCALE_OPTIONS: Partial<Record<ScaleKind, string[]>> = { 'idling-tls': ['--keylog', RECORDED_IMAPS_KEYS] };

export interface ScaleSummary {
  kind: ScaleKind;
  count: number;
  packets: number;
  bytes: number;
  /** Command exchanges a correct dissector reports. */
  exchanges: number;
}

/** Writes packets in the order given (each case produces them in time order). */
class PcapOut {
  private readonly stream;
  private parts: Buffer[] = [];
  private size = 0;
  packets = 0;
  bytes = 0;

  constructor(path: string) {
    this.stream = createWriteStream(path);
    this.push(pcapFileHeader(LINKTYPE.ETHERNET));
  }

  private push(b: Buffer): void {
    this.parts.push(b);
    this.size += b.length;
    this.bytes += b.length;
  }

  async write(packets: SynthPacket[]): Promise<void> {
    for (const p of packets) {
      const parts = encodeFrameParts(p, LINKTYPE.ETHERNET, this.packets++);
      const length = parts.reduce((n, b) => n + b.length, 0);
      this.push(pcapRecordHeader(p.t, length, length));
      for (const b of parts) this.push(b);
    }
    if (this.size >= 1 << 20) await this.flush();
  }

  private async flush(): Promise<void> {
    const ok = this.stream.write(Buffer.concat(this.parts, this.size));
    this.parts = [];
    this.size = 0;
    if (!ok) await once(this.stream, 'drain');
  }

  async close(): Promise<void> {
    await this.flush();
    this.stream.end();
    await finished(this.stream);
  }
}

/** The answer to a FETCH of sections 1 to N of message 1: one response, a 5-octet literal each; then the close. */
async function sectionsOfOneMessage(out: PcapOut, f: TcpFlow, count: number, tag: string): Promise<void> {
  await out.write(f.send('server', '* 1 FETCH (UID 1'));
  await inBatches(count, (j) => ` BODY[${j + 1}] {5}\r\npart${j % 10}`, (text) => out.write(f.send('server', text)));
  await out.write([...f.send('server', `)\r\n${tag} OK done\r\n`), ...f.close('fin', 'client')]);
}

/** `count` lines, made by `line`, handed to `write` a thousand at a time. */
async function inBatches(count: number, line: (i: number) => string, write: (text: string) => Promise<void>): Promise<void> {
  for (let i = 0; i < count; i += 1000) {
    const lines: string[] = [];
    for (let j = i; j < Math.min(count, i + 1000); j++) lines.push(line(j));
    await write(lines.join(''));
  }
}

function flow(index: number, start: number, o: { mss?: number; spacing?: number } = {}): TcpFlow {
  return new TcpFlow({
    client: { ip: `10.${1 + ((index >> 16) & 0x7f)}.${(index >> 8) & 255}.${index & 255}`, port: 20000 + (index % 40000) },
    server: { ip: '192.0.2.10', port: 143 },
    clientIsn: (index * 2654435761) >>> 0,
    serverIsn: (index * 40503 + 7) >>> 0,
    start,
    rtt: 0.001,
    ...o,
  });
}

/** Seconds between the starts of two closed sessions, unless told; and of two busy ones. */
export const CLOSED_INTERVAL = 0.01;
const BUSY_INTERVAL = 0.001;

/** Connections of the `chatty` case. */
const CHATTY_CONNECTIONS = 100;

/** Seconds between two connections going idle, unless told. */
export const IDLING_INTERVAL = 0.001;

/** Raw deflate as a COMPRESS=DEFLATE peer sends it: each message sync-flushed. */
function deflater(): (text: string) => Buffer {
  const d = new Deflate({ raw: true });
  let out: Buffer[] = [];
  d.onData = (chunk: Uint8Array) => { out.push(Buffer.from(chunk)); };
  return (text) => {
    d.push(Buffer.from(text, 'latin1'), Z_SYNC_FLUSH);
    const bytes = Buffer.concat(out);
    out = [];
    return bytes;
  };
}

/**
 * What each side of a recorded session sent in frames `from` to `to`, in order, for replaying it from other clients (the
 * client is the side sending to `serverPort`).
 */
export async function recordedPieces(capture: string, serverPort: number, from: number, to: number): Promise<[Side, Buffer][]> {
  const pieces: [Side, Buffer][] = [];
  const decoder = new PacketDecoder(() => {});
  await readCapture(capture, (frame) => {
    const seg = frame.number >= from && frame.number <= to ? decoder.decode(frame) : null;
    if (seg && seg.payload.length > 0) pieces.push([seg.dstPort === serverPort ? 'client' : 'server', Buffer.from(seg.payload)]);
  }, () => {});
  return pieces;
}

/** The four exchanges of the i-th short session of `closed` and `busy`, or of `named` (a client and a mechanism of its own). */
function shortSession(kind: ScaleKind, i: number): [string, string][] {
  const start: [string, string][] = kind === 'named'
    ? [[`a1 ID ("name" "client-${i}" "version" "1.${i}")`, '* ID NIL\r\na1 OK done\r\n'], [`a2 AUTHENTICATE X-MECHANISM-${i}`, 'a2 NO unsupported\r\n'], ['a3 LOGIN user secret', 'a3 OK logged in\r\n']]
    : [['a1 LOGIN user secret', 'a1 OK logged in\r\n'], ['a2 SELECT INBOX', '* 3 EXISTS\r\n* OK [UIDVALIDITY 7] ok\r\na2 OK [READ-WRITE] done\r\n'],
      ['a3 UID FETCH 1:3 (FLAGS)', '* 1 FETCH (UID 1 FLAGS ())\r\n* 2 FETCH (UID 2 FLAGS ())\r\n* 3 FETCH (UID 3 FLAGS ())\r\na3 OK\r\n']];
  return [...start, ['a4 LOGOUT', '* BYE\r\na4 OK\r\n']];
}

/** The recorded IMAPS session's pieces, up to its SELECT's completion unless told. */
const recordedImaps = (from = 1, to = RECORDED_IMAPS_IDLE_AFTER) => recordedPieces(RECORDED_IMAPS, 993, from, to);

export async function generateScaleCapture(kind: ScaleKind, count: number, path: string, interval = kind.startsWith('idling') || kind === 'midway-tls' ? IDLING_INTERVAL : CLOSED_INTERVAL): Promise<ScaleSummary> {
  const out = new PcapOut(path);
  let exchanges = 0;
  const t0 = 1_717_000_000;
  switch (kind) {
    case 'open':
      // Interleaved: every connection is open before the first one speaks.
      for (let i = 0; i < count; i++) await out.write(flow(i, t0 + i * 1e-5).handshake());
      for (let i = 0; i < count; i++) {
        const f = flow(i, t0 + count * 1e-5 + i * 1e-5);
        f.handshake(); // advances its sequence numbers as the real one did
        await out.write([...f.send('server', '* OK ready\r\n'), ...f.send('client', `a${i} NOOP\r\n`)]);
        exchanges++;
      }
      break;
    case 'idling':
      // Handshakes first, as `open`; then each connection in turn, `interval` apart, ends idling, its IDLE outstanding
      // (reported at the end of the input).
      for (let i = 0; i < count; i++) await out.write(flow(i, t0 + i * 1e-5).handshake());
      for (let i = 0; i < count; i++) {
        const f = flow(i, t0 + count * 1e-5 + i * interval);
        f.handshake();
        await out.write([
          ...f.send('server', '* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ AUTH=PLAIN] ready\r\n'),
          ...f.send('client', `a1 LOGIN user${i} secret\r\n`),
          ...f.send('server', 'a1 OK [CAPABILITY IMAP4rev1 SASL-IR ID ENABLE IDLE SORT THREAD=REFERENCES MOVE CONDSTORE] Logged in\r\n'),
          ...f.send('client', 'a2 SELECT INBOX\r\n'),
          ...f.send('server', '* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)] Flags permitted.\r\n' +
            `* ${40 + (i % 500)} EXISTS\r\n* 0 RECENT\r\n* OK [UIDVALIDITY ${1_600_000_000 + i}] UIDs valid\r\n* OK [UIDNEXT ${100 + (i % 500)}] Predicted next UID\r\n` +
            'a2 OK [READ-WRITE] Select completed.\r\n'),
          ...f.send('client', 'a3 IDLE\r\n'),
          ...f.send('server', '+ idling\r\n'),
        ]);
        exchanges += 3;
      }
      break;
    case 'idling-tls': {
      // As `idling`, each connection saying what the recorded client and server said (CAPABILITY, LOGIN, SELECT).
      const pieces = await recordedImaps();
      for (let i = 0; i < count; i++) await out.write(flow(i, t0 + i * 1e-5).handshake());
      for (let i = 0; i < count; i++) {
        const f = flow(i, t0 + count * 1e-5 + i * interval);
        f.handshake();
        await out.write(pieces.flatMap(([side, bytes]) => f.send(side, bytes)));
        exchanges += 3;
      }
      break;
    }
    case 'midway-tls': {
      // Its application records after the handshake, as a capture begun then holds them: no SYN, no hello.
      const pieces = await recordedImaps(RECORDED_IMAPS_IDLE_AFTER + 1, 30);
      for (let i = 0; i < count; i++) {
        const f = flow(i, t0 + i * interval);
        await out.write(pieces.flatMap(([side, bytes]) => f.send(side, bytes)));
      }
      break;
    }
    case 'idling-compress': {
      for (let i = 0; i < count; i++) await out.write(flow(i, t0 + i * 1e-5).handshake());
      for (let i = 0; i < count; i++) {
        const f = flow(i, t0 + count * 1e-5 + i * interval);
        f.handshake();
        const deflate = { client: deflater(), server: deflater() };
        const compressed = (side: Side, text: string) => f.send(side, deflate[side](text));
        await out.write([
          ...f.send('server', '* OK [CAPABILITY IMAP4rev1 LITERAL+ IDLE COMPRESS=DEFLATE AUTH=PLAIN] ready\r\n'),
          ...f.send('client', `a1 LOGIN user${i} secret\r\n`),
          ...f.send('server', 'a1 OK [CAPABILITY IMAP4rev1 IDLE COMPRESS=DEFLATE MOVE CONDSTORE] Logged in\r\n'),
          ...f.send('client', 'a2 COMPRESS DEFLATE\r\n'),
          ...f.send('server', 'a2 OK DEFLATE active\r\n'),
          ...compressed('client', 'a3 SELECT INBOX\r\n'),
          ...compressed('server', `* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n* ${40 + (i % 500)} EXISTS\r\n* 0 RECENT\r\n` +
            `* OK [UIDVALIDITY ${1_600_000_000 + i}] UIDs valid\r\n* OK [UIDNEXT ${100 + (i % 500)}] Predicted next UID\r\na3 OK [READ-WRITE] Select completed.\r\n`),
          ...compressed('client', 'a4 IDLE\r\n'),
          ...compressed('server', '+ idling\r\n'),
        ]);
        exchanges += 4;
      }
      break;
    }
    case 'syn-flood':
      for (let i = 0; i < count; i++) await out.write(flow(i, t0 + i * 1e-5).handshake().slice(0, 1));
      break;
    case 'chatty': {
      const flows = Array.from({ length: CHATTY_CONNECTIONS }, (_, i) => flow(i, t0 + i * 1e-5));
      await out.write(flows.flatMap((f) => [...f.handshake(), ...f.send('server', '* OK ready\r\n')]));
      for (let n = 0; n < count; n++) {
        const f = flows[n % CHATTY_CONNECTIONS]!;
        await out.write([...f.send('client', `c${n} UID FETCH ${n + 1} (FLAGS)\r\n`), ...f.send('server', `* 1 FETCH (UID ${n + 1} FLAGS (\\Seen))\r\nc${n} OK done\r\n`)]);
      }
      exchanges = count;
      break;
    }
    case 'closed':
    case 'busy':
    case 'named':
      for (let i = 0; i < count; i++) {
        const f = flow(i, t0 + i * (kind === 'busy' ? BUSY_INTERVAL : interval));
        const packets = [...f.handshake(), ...f.send('server', '* OK ready\r\n')];
        for (const [cmd, reply] of shortSession(kind, i)) packets.push(...f.send('client', `${cmd}\r\n`), ...f.send('server', reply));
        exchanges += 4;
        packets.push(...f.close('fin', 'server'));
        await out.write(packets);
      }
      break;
    case 'pipelined': {
      const f = flow(0, t0);
      await out.write([...f.handshake(), ...f.send('server', '* OK ready\r\n')]);
      const batch = 1000;
      for (let i = 0; i < count; i += batch) {
        const lines: string[] = [];
        for (let j = i; j < Math.min(count, i + batch); j++) lines.push(`p${j} NOOP\r\n`);
        await out.write(f.send('client', lines.join('')));
      }
      exchanges = count;
      break;
    }
    case 'untagged': {
      const f = flow(0, t0);
      await out.write([...f.handshake(), ...f.send('server', '* OK ready\r\n'), ...f.send('client', 'a1 FETCH 1:* (FLAGS)\r\n')]);
      const batch = 1000;
      for (let i = 0; i < count; i += batch) {
        const lines: string[] = [];
        for (let j = i; j < Math.min(count, i + batch); j++) lines.push(`* ${j + 1} FETCH (FLAGS (\\Seen))\r\n`);
        await out.write(f.send('server', lines.join('')));
      }
      await out.write([...f.send('server', 'a1 OK done\r\n'), ...f.close('fin', 'client')]);
      exchanges = 1;
      break;
    }
    case 'literals': {
      const f = flow(0, t0);
      await out.write([...f.handshake(), ...f.send('server', '* OK ready\r\n'), ...f.send('client', `a1 UID FETCH 1 (UID BODY.PEEK[1:${count}])\r\n`)]);
      await sectionsOfOneMessage(out, f, count, 'a1');
      exchanges = 1;
      break;
    }
    case 'parts': {
      const f = flow(0, t0);
      const part = '("text" "plain" NIL NIL NIL "7bit" 5 1)';
      await out.write([...f.handshake(), ...f.send('server', '* OK ready\r\n'), ...f.send('client', 'a1 UID FETCH 1 (UID BODYSTRUCTURE)\r\n')]);
      await out.write(f.send('server', `* 1 FETCH (UID 1 BODYSTRUCTURE (${part.repeat(count)} "mixed"))\r\na1 OK done\r\n`));
      const items = Array.from({ length: count }, (_, i) => `BODY.PEEK[${i + 1}]`).join(' ');
      await out.write(f.send('client', `a2 UID FETCH 1 (UID ${items})\r\n`));
      await sectionsOfOneMessage(out, f, count, 'a2');
      exchanges = 2;
      break;
    }
    case 'expunged': {
      const f = flow(0, t0);
      await out.write([...f.handshake(), ...f.send('server', '* OK ready\r\n'), ...f.send('client', 's1 SELECT INBOX\r\n'),
        ...f.send('server', `* ${count} EXISTS\r\n* OK [UIDVALIDITY 7] ok\r\ns1 OK [READ-WRITE] done\r\n`), ...f.send('client', 'a1 FETCH 1:* (UID)\r\n')]);
      await inBatches(count, (i) => `* ${i + 1} FETCH (UID ${i + 100})\r\n`, (text) => out.write(f.send('server', text)));
      await out.write([...f.send('server', 'a1 OK done\r\n'), ...f.send('client', 'a2 EXPUNGE\r\n')]);
      await inBatches(count, () => '* 1 EXPUNGE\r\n', (text) => out.write(f.send('server', text)));
      await out.write([...f.send('server', 'a2 OK done\r\n'), ...f.close('fin', 'client')]);
      exchanges = 3;
      break;
    }
    case 'held': {
      // A microsecond apart, all of them come well within the 3 s a hole waits for a retransmission no ACK proves.
      const f = flow(0, t0, { mss: 20, spacing: 1e-6 });
      await out.write([...f.handshake(), ...f.send('server', '* OK ready\r\n'), ...f.send('client', 'a1 FETCH 1:* (FLAGS)\r\n')]);
      const lines: string[] = [];
      for (let length = 0, i = 1; length < 20 * (count - 1); i++) {
        lines.push(`* ${i} FETCH (FLAGS ())\r\n`);
        length += lines[lines.length - 1]!.length;
      }
      const segments = f.send('server', lines.join('') + 'a1 OK done\r\n').filter((p) => p.payload !== undefined);
      const first = segments.shift()!;
      first.t = f.now + 1e-6; // after the last
      segments.push(first);
      for (let i = 0; i < segments.length; i += 1000) await out.write(segments.slice(i, i + 1000));
      await out.write(f.close('fin', 'client'));
      exchanges = 1;
      break;
    }
    case 'outstanding': {
      const f = flow(0, t0);
      const pipelined = 4000;
      await out.write([...f.handshake(), ...f.send('server', '* OK ready\r\n')]);
      await inBatches(pipelined, (i) => `f${i} FETCH 1:* (FLAGS)\r\n`, (text) => out.write(f.send('client', text)));
      await inBatches(count, (i) => (i % 2 === 0 ? `* ${i + 1} FETCH (FLAGS (\\Seen))\r\n` : '+ go on\r\n'), (text) => out.write(f.send('server', text)));
      await inBatches(pipelined, (i) => `f${i} OK done\r\n`, (text) => out.write(f.send('server', text)));
      await out.write(f.close('fin', 'client'));
      exchanges = pipelined;
      break;
    }
    case 'refetched': {
      const f = flow(0, t0);
      const header = 'From: a@b\r\n\r\n';
      await out.write([...f.handshake(), ...f.send('server', '* OK ready\r\n'), ...f.send('client', 's SELECT INBOX\r\n'),
        ...f.send('server', '* 1 EXISTS\r\n* OK [UIDVALIDITY 7] ok\r\ns OK [READ-WRITE] done\r\n')]);
      for (let i = 0; i < count; i += 500) {
        const flight = Math.min(500, count - i);
        await inBatches(flight, (j) => `f${i + j} UID FETCH 1 (UID BODY.PEEK[HEADER.FIELDS (FROM)])\r\n`, (text) => out.write(f.send('client', text)));
        await inBatches(flight, (j) => `* 1 FETCH (UID 1 BODY[HEADER.FIELDS (FROM)] {${header.length}}\r\n${header})\r\nf${i + j} OK done\r\n`, (text) => out.write(f.send('server', text)));
      }
      await out.write(f.close('fin', 'client'));
      exchanges = count + 1;
      break;
    }
    case 'appended': {
      const f = flow(0, t0);
      const mail = 'Subject: m\r\n\r\nhello\r\n';
      await out.write([...f.handshake(), ...f.send('server', '* OK [CAPABILITY IMAP4rev1 LITERAL+ MULTIAPPEND] ready\r\n'), ...f.send('client', 'a1 APPEND INBOX')]);
      await inBatches(count, () => ` (\\Seen) {${mail.length}+}\r\n${mail}`, (text) => out.write(f.send('client', text)));
      await out.write([...f.send('client', '\r\n'), ...f.send('server', 'a1 OK done\r\n'), ...f.close('fin', 'client')]);
      exchanges = 1;
      break;
    }
    case 'mailboxes': {
      const f = flow(0, t0);
      await out.write([...f.handshake(), ...f.send('server', '* OK ready\r\n')]);
      for (let i = 0; i < count; i++) {
        await out.write([
          ...f.send('client', `s${i} SELECT box${i}\r\n`),
          ...f.send('server', `* 1 EXISTS\r\n* OK [UIDVALIDITY ${i + 1}] ok\r\ns${i} OK [READ-WRITE] done\r\n`),
          ...f.send('client', `f${i} UID FETCH 1 (UID FLAGS)\r\n`),
          ...f.send('server', `* 1 FETCH (UID 1 FLAGS (\\Seen))\r\nf${i} OK done\r\n`),
        ]);
      }
      await out.write(f.close('fin', 'client'));
      exchanges = 2 * count;
      break;
    }
  }
  await out.close();
  return { kind, count, packets: out.packets, bytes: out.bytes, exchanges };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { kind: { type: 'string' }, count: { type: 'string' }, out: { type: 'string' }, interval: { type: 'string' } } });
  const kind = values.kind as ScaleKind;
  const count = Number(values.count);
  const interval = values.interval === undefined ? undefined : Number(values.interval);
  if (!SCALE_KINDS.includes(kind) || !Number.isSafeInteger(count) || count < 1 || !values.out || !(interval === undefined || interval > 0)) {
    throw new Error(`usage: scale-captures --kind ${SCALE_KINDS.join('|')} --count N [--interval SECONDS] --out FILE`);
  }
  const s = await generateScaleCapture(kind, count, values.out, interval);
  process.stderr.write(`${values.out}: ${s.kind} ${s.count}: ${s.packets} packets, ${(s.bytes / 1048576).toFixed(1)} MiB, ${s.exchanges} exchanges\n`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    process.stderr.write(`scale-captures: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
