/**
 * Generates a large synthetic IMAP capture for benchmarks: many concurrent sessions on port 143, interleaved
 * packet by packet in time order, with some loss, retransmission and reordering. Ethernet + IPv4, µs pcap.
 * Output is streamed, so memory stays flat whatever the size. Deterministic for a given seed.
 *
 *   node dist/bench/gen-capture.js --out FILE --mb 200 [--seed N] [--loss 0.001] [--reorder 0.002]
 *                                  [--concurrency 50] [--mix download|sync]
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import {
  LINKTYPE,
  TcpFlow,
  encodeFrameParts,
  pcapFileHeader,
  pcapRecordHeader,
  type Exchange,
  type SegmentFate,
  type SynthPacket,
} from '../test/helpers/synth.js';

// ---------------------------------------------------------------------------------------------------------------
// Deterministic randomness

/** mulberry32: small, fast, and good enough for test data. */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }

  /** Skewed towards the low end, as message sizes are. */
  logUniform(lo: number, hi: number): number {
    return Math.round(lo * Math.pow(hi / lo, this.next()));
  }
}

/** Mixes two numbers into a seed, so each message's content depends only on (session, uid). */
function mix(a: number, b: number): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(b + 0x632be5ab, 0xc2b2ae35);
  h ^= h >>> 16;
  return Math.imul(h, 0x7feb352d) >>> 0;
}

// ---------------------------------------------------------------------------------------------------------------
// Plausible mail text

const WORDS = (
  'the a to of and in for on with that this we our your please can will would could should about from meeting ' +
  'project report budget review schedule team customer invoice contract draft update status release server ' +
  'deadline quarter numbers attached below thanks regards agenda notes minutes issue ticket build deploy test ' +
  'results feedback proposal approval next week monday friday morning afternoon call discuss plan migration ' +
  'backup storage network access account password policy security audit vendor order shipment delivery price ' +
  'estimate timeline milestone risk change request office travel expenses receipt payment overdue reminder'
).split(' ');
const FIRST = ['Alice', 'Bob', 'Carol', 'Dmitri', 'Eve', 'Farah', 'Gunnar', 'Hiro', 'Ines', 'Jamal', 'Kirsten', 'Luis'];
const LAST = ['Meyer', 'Okafor', 'Novak', 'Schmidt', 'Tanaka', 'Silva', 'Johansson', 'Khan', 'Dubois', 'Rossi'];
const DOMAINS = ['example.com', 'example.org', 'example.net', 'mail.example.com', 'corp.example'];
const TOPICS = [
  'Q3 budget review', 'Weekly status report', 'Build failure on main', 'Lunch on Friday?', 'Updated contract draft',
  'Server maintenance window', 'Travel expenses', 'Customer feedback summary', 'Release notes 4.2', 'Security audit',
];
const SUBJECT_FORMS = ['%', 'Re: %', 'Re: %', 'Fwd: %', '[team] %', 'RE: AW: %'];

function sentence(rng: Rng, maxLen: number): string {
  let s = rng.pick(WORDS);
  s = s[0]!.toUpperCase() + s.slice(1);
  for (let w = rng.pick(WORDS); s.length + w.length + 2 < maxLen; w = rng.pick(WORDS)) s += ' ' + w;
  return s + '.';
}

/** A fixed pool of body lines (CRLF-terminated, ASCII): messages are drawn from it, which keeps generation fast. */
const LINE_POOL: Buffer[] = (() => {
  const rng = new Rng(0x1a2b3c);
  const lines: Buffer[] = [];
  for (let i = 0; i < 4096; i++) {
    const kind = rng.next();
    const text =
      kind < 0.1 ? '' : kind < 0.2 ? '> ' + sentence(rng, rng.int(30, 72)) : sentence(rng, rng.int(20, 76));
    lines.push(Buffer.from(text + '\r\n'));
  }
  return lines;
})();

/** The lines of a text body of about `target` bytes; the same seed always gives the same lines. */
function textLines(seed: number, target: number): Buffer[] {
  const rng = new Rng(seed);
  const lines: Buffer[] = [];
  for (let size = 0; size < target; ) {
    const line = LINE_POOL[rng.int(0, LINE_POOL.length - 1)]!;
    size += line.length;
    lines.push(line);
  }
  return lines;
}

function measureText(seed: number, target: number): { size: number; lines: number } {
  const lines = textLines(seed, target);
  return { size: lines.reduce((n, l) => n + l.length, 0), lines: lines.length };
}

const B64_LINE = 76;

function base64Shape(rawBytes: number): { size: number; lines: number } {
  const chars = 4 * Math.ceil(rawBytes / 3);
  const lines = Math.ceil(chars / B64_LINE);
  return { size: chars + 2 * lines, lines };
}

/** Random bytes that attachments are cut from (cheaper than drawing every byte). */
const RANDOM_POOL: Buffer = (() => {
  const rng = new Rng(0x5eed);
  const pool = Buffer.alloc(256 * 1024);
  for (let i = 0; i < pool.length; i += 4) pool.writeUInt32LE((rng.next() * 4294967296) >>> 0, i);
  return pool;
})();

/** A base64 body of `rawBytes` bytes starting like a PDF, in 76-column CRLF lines. */
function base64Body(seed: number, rawBytes: number): Buffer {
  const from = seed % Math.max(1, RANDOM_POOL.length - rawBytes);
  const raw = Buffer.concat([Buffer.from('%PDF-1.4\n'), RANDOM_POOL.subarray(from, from + rawBytes)], rawBytes);
  const b64 = Buffer.from(raw.toString('base64'), 'latin1');
  const out = Buffer.alloc(base64Shape(rawBytes).size);
  let at = 0;
  for (let i = 0; i < b64.length; i += B64_LINE) {
    at += b64.copy(out, at, i, Math.min(i + B64_LINE, b64.length));
    at += out.write('\r\n', at, 'latin1');
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Messages

/** One message of a mailbox; its content is regenerated from `seed` whenever it is needed. */
export interface Message {
  uid: number;
  seed: number;
  flags: string;
  /** Header fields in order; HEADER.FIELDS fetches pick from these. */
  headers: Field[];
  text: { target: number; size: number; lines: number };
  attachment?: { name: string; raw: number; size: number };
  boundary: string;
  /** RFC822.SIZE: the whole message. */
  size: number;
}

const FETCHED_FIELDS = ['FROM', 'TO', 'SUBJECT', 'DATE', 'MESSAGE-ID'];

function address(rng: Rng): string {
  const first = rng.pick(FIRST);
  const last = rng.pick(LAST);
  return `${first} ${last} <${first.toLowerCase()}.${last.toLowerCase()}@${rng.pick(DOMAINS)}>`;
}

function rfc2822Date(ms: number): string {
  return new Date(ms).toUTCString().replace('GMT', '+0000');
}

/** INTERNALDATE: the message's Date header in IMAP's date-time form ("01-Jan-2024 10:00:00 +0000"). */
function internalDate(m: Message): string {
  const d = new Date(m.headers.find(([n]) => n === 'Date')![1]);
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(d.getUTCDate())}-${months[d.getUTCMonth()]}-${d.getUTCFullYear()} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} +0000`;
}

type Field = [name: string, value: string];

const TEXT_PART_HEADERS: Field[] = [
  ['Content-Type', 'text/plain; charset=utf-8'],
  ['Content-Transfer-Encoding', '7bit'],
];

function headerBlock(fields: Field[]): Buffer {
  return Buffer.from(fields.map(([n, v]) => `${n}: ${v}\r\n`).join('') + '\r\n');
}

export function makeMessage(sessionSeed: number, uid: number, user: string): Message {
  const seed = mix(sessionSeed, uid);
  const rng = new Rng(seed);
  const target = rng.logUniform(2_000, 200_000);
  const multipart = target > 10_000 && rng.chance(0.35);
  const boundary = `----=_Part_${seed.toString(16)}_${uid}`;
  const from = address(rng);
  const date = rfc2822Date(Date.UTC(2024, 0, 1) + uid * 3_600_000 + rng.int(0, 3_599_999));
  const headers: Field[] = [
    ['Return-Path', `<${from.replace(/.*</, '').replace('>', '')}>`],
    ['Received', `from mx${rng.int(1, 9)}.example.net by imap.example.com with LMTP; ${date}`],
    ['Date', date],
    ['From', from],
    ['To', `${user} <${user}@example.com>`],
    ['Subject', rng.pick(SUBJECT_FORMS).replace('%', rng.pick(TOPICS))],
    ['Message-ID', `<${seed.toString(36)}.${uid}@${rng.pick(DOMAINS)}>`],
    ['MIME-Version', '1.0'],
    ...(multipart ? [['Content-Type', `multipart/mixed; boundary="${boundary}"`] as Field] : TEXT_PART_HEADERS),
  ];
  const textTarget = multipart ? rng.int(500, 6_000) : target;
  const text = { target: textTarget, ...measureText(seed, textTarget) };
  const raw = Math.floor(((target - textTarget) * 3) / 4);
  const attachment = multipart ? { name: `invoice-${uid}.pdf`, raw, size: base64Shape(raw).size } : undefined;
  const flags = rng.pick(['\\Seen', '\\Seen', '\\Seen', '\\Seen \\Answered', '', '\\Flagged \\Seen']);
  const message: Message = { uid, seed, flags, headers, text, boundary, size: 0 };
  if (attachment) message.attachment = attachment;
  message.size = messageLayout(message).reduce((n, piece) => n + pieceSize(message, piece), 0);
  return message;
}

type Piece = Buffer | 'text' | 'attachment';

/** The message as fixed pieces plus placeholders for the generated bodies. */
function messageLayout(m: Message): Piece[] {
  const head = headerBlock(m.headers);
  if (!m.attachment) return [head, 'text'];
  const b = m.boundary;
  const name = m.attachment.name;
  return [
    head,
    Buffer.from(`This is a multi-part message in MIME format.\r\n\r\n--${b}\r\n`),
    headerBlock(TEXT_PART_HEADERS),
    'text',
    Buffer.from(`\r\n--${b}\r\n`),
    headerBlock([
      ['Content-Type', `application/pdf; name="${name}"`],
      ['Content-Disposition', `attachment; filename="${name}"`],
      ['Content-Transfer-Encoding', 'base64'],
    ]),
    'attachment',
    Buffer.from(`\r\n--${b}--\r\n`),
  ];
}

function pieceSize(m: Message, p: Piece): number {
  if (p === 'text') return m.text.size;
  if (p === 'attachment') return m.attachment!.size;
  return p.length;
}

export function renderMessage(m: Message): Buffer {
  const parts = messageLayout(m).map((p) => {
    if (p === 'text') return Buffer.concat(textLines(m.seed, m.text.target), m.text.size);
    if (p === 'attachment') return base64Body(m.seed, m.attachment!.raw);
    return p;
  });
  return Buffer.concat(parts, m.size);
}

export function bodyStructure(m: Message): string {
  const text = `("TEXT" "PLAIN" ("CHARSET" "utf-8") NIL NIL "7BIT" ${m.text.size} ${m.text.lines} NIL NIL NIL NIL)`;
  if (!m.attachment) return text;
  const { name, size } = m.attachment;
  const att =
    `("APPLICATION" "PDF" ("NAME" "${name}") NIL NIL "BASE64" ${size} NIL ` +
    `("ATTACHMENT" ("FILENAME" "${name}")) NIL NIL)`;
  return `(${text}${att} "MIXED" ("BOUNDARY" "${m.boundary}") NIL NIL NIL)`;
}

function headerFields(m: Message): Buffer {
  return headerBlock(m.headers.filter(([n]) => FETCHED_FIELDS.includes(n.toUpperCase())));
}

// ---------------------------------------------------------------------------------------------------------------
// IMAP sessions

/**
 * What the sessions do. `download`: list 10–40 messages, then fetch most of them whole as big literals.
 * `sync`: a folder sync as a desktop client does it — one UID FETCH of the newest 50 messages with
 * (UID RFC822.SIZE FLAGS INTERNALDATE BODYSTRUCTURE BODY.PEEK[HEADER.FIELDS (…)]): thousands of short
 * FETCH responses and no big literal.
 */
export type TrafficMix = 'download' | 'sync';

export interface SessionPlan {
  seed: number;
  mix: TrafficMix;
  user: string;
  uidValidity: number;
  /** All UIDs of INBOX, ascending. */
  uids: number[];
  /** The newest messages, listed with BODYSTRUCTURE and headers; bodies are fetched from these. */
  listed: Message[];
  /** Indexes into `listed` fetched with BODY[], in order. */
  fetches: number[];
  /** Messages APPENDed to Sent, and after which fetch (index into `fetches`) each is sent. */
  appends: { after: number; message: Message }[];
  /** APPEND with non-synchronizing literals ({N+}) instead of waiting for the continuation. */
  literalPlus: boolean;
  /** Rough count of payload bytes of both directions (for sizing the capture). */
  payloadBytes: number;
}

export function planSession(seed: number, mix: TrafficMix = 'download'): SessionPlan {
  const rng = new Rng(seed);
  const user = `${rng.pick(FIRST).toLowerCase()}${rng.int(1, 999)}`;
  const uids: number[] = [];
  const count = rng.int(40, 600);
  for (let uid = rng.int(1, 3000); uids.length < count; uid += rng.chance(0.1) ? rng.int(2, 40) : 1) {
    uids.push(uid); // the occasional jump is where messages were expunged
  }
  const listed = uids.slice(mix === 'sync' ? -50 : -rng.int(10, 40)).map((uid) => makeMessage(seed, uid, user));
  const fetches = mix === 'sync' ? [] : listed.map((_, i) => i).filter(() => rng.chance(0.8));
  const nextUid = uids[uids.length - 1]! + 1;
  const appends = mix === 'sync' ? [] : Array.from({ length: rng.int(0, 3) }, (_, k) => ({
    after: rng.int(0, Math.max(0, fetches.length - 1)),
    message: makeMessage(seed ^ 0x5e47, nextUid + k, user),
  }));
  const payloadBytes =
    (mix === 'sync' ? 1_500 * listed.length : 0) +
    4_000 +
    8 * uids.length +
    600 * listed.length +
    fetches.reduce((n, i) => n + listed[i]!.size + 150, 0) +
    appends.reduce((n, a) => n + a.message.size + 150, 0);
  return {
    seed,
    mix,
    user,
    uidValidity: 1_600_000_000 + rng.int(0, 99_999_999),
    uids,
    listed,
    fetches,
    appends,
    literalPlus: rng.chance(0.5),
    payloadBytes,
  };
}

const asBytes = (x: string | Buffer): Buffer => (typeof x === 'string' ? Buffer.from(x, 'latin1') : x);

const CAPS = 'IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ AUTH=PLAIN';
const POST_LOGIN_CAPS = `${CAPS} SORT THREAD=REFERENCES MULTIAPPEND UIDPLUS MOVE SPECIAL-USE CONDSTORE`;

/**
 * The dialogue of one session, as alternating exchanges: each client command followed by the server's reply
 * (with APPEND's continuation round trip when the literal is synchronizing). Delays model think/server time.
 */
export function* imapSession(plan: SessionPlan): Generator<Exchange, number> {
  const rng = new Rng(plan.seed ^ 0x7177);
  let tag = 0;
  const client = (line: string | Buffer): Exchange => ({ from: 'client', data: line, delay: rng.int(1, 150) / 1000 });
  const server = (text: string | Buffer): Exchange => ({ from: 'server', data: text, delay: rng.int(100, 3000) / 1e6 });
  function* command(cmd: string, untagged: string | Buffer, done: string): Generator<Exchange> {
    const t = `A${String(++tag).padStart(4, '0')}`;
    yield client(`${t} ${cmd}\r\n`);
    yield server(Buffer.concat([asBytes(untagged), Buffer.from(`${t} ${done}\r\n`)]));
  }
  function* append(m: Message): Generator<Exchange> {
    const t = `A${String(++tag).padStart(4, '0')}`;
    const cmd = `${t} APPEND Sent (\\Seen) {${m.size}${plan.literalPlus ? '+' : ''}}\r\n`;
    const literal = Buffer.concat([renderMessage(m), Buffer.from('\r\n')]);
    if (plan.literalPlus) {
      yield client(Buffer.concat([Buffer.from(cmd), literal]));
    } else {
      yield client(cmd);
      yield server('+ OK\r\n');
      yield { from: 'client', data: literal };
    }
    yield server(`${t} OK [APPENDUID ${plan.uidValidity + 1} ${m.uid}] Append completed.\r\n`);
  }

  const seqOf = (uid: number): number => plan.uids.indexOf(uid) + 1;
  const uidNext = plan.uids[plan.uids.length - 1]! + 1;

  yield { from: 'server', data: `* OK [CAPABILITY ${CAPS}] Dovecot ready.\r\n` };
  yield* command('CAPABILITY', `* CAPABILITY ${CAPS}\r\n`, 'OK Pre-login capabilities listed.');
  const login = `LOGIN "${plan.user}" "secret-${plan.seed % 1000}"`;
  yield* command(login, '', `OK [CAPABILITY ${POST_LOGIN_CAPS}] Logged in`);
  yield* command(
    'SELECT INBOX',
    '* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n' +
      '* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)] Flags permitted.\r\n' +
      `* ${plan.uids.length} EXISTS\r\n* 0 RECENT\r\n` +
      `* OK [UIDVALIDITY ${plan.uidValidity}] UIDs valid\r\n* OK [UIDNEXT ${uidNext}] Predicted next UID\r\n`,
    'OK [READ-WRITE] Select completed (0.002 + 0.000 + 0.001 secs).',
  );
  yield* command('UID SEARCH ALL', `* SEARCH ${plan.uids.join(' ')}\r\n`, 'OK Search completed (0.001 + 0.000 secs).');

  const first = plan.listed[0]!.uid;
  const last = plan.listed[plan.listed.length - 1]!.uid;
  const fields = `BODY.PEEK[HEADER.FIELDS (${FETCHED_FIELDS.join(' ')})]`;
  const sync = plan.mix === 'sync';
  const listing = plan.listed.map((m) => {
    const h = headerFields(m);
    const date = sync ? `INTERNALDATE "${internalDate(m)}" ` : '';
    const head =
      `* ${seqOf(m.uid)} FETCH (UID ${m.uid} RFC822.SIZE ${m.size} FLAGS (${m.flags}) ${date}` +
      `BODYSTRUCTURE ${bodyStructure(m)} BODY[HEADER.FIELDS (${FETCHED_FIELDS.join(' ')})] {${h.length}}\r\n`;
    return Buffer.concat([Buffer.from(head), h, Buffer.from(')\r\n')]);
  });
  yield* command(
    `UID FETCH ${first}:${last} (UID RFC822.SIZE FLAGS ${sync ? 'INTERNALDATE ' : ''}BODYSTRUCTURE ${fields})`,
    Buffer.concat(listing),
    'OK Fetch completed (0.004 + 0.000 + 0.003 secs).',
  );

  for (let k = 0; k < plan.fetches.length; k++) {
    const m = plan.listed[plan.fetches[k]!]!;
    const setsSeen = m.flags.includes('\\Seen') ? '' : 'FLAGS (\\Seen) ';
    const head = `* ${seqOf(m.uid)} FETCH (UID ${m.uid} RFC822.SIZE ${m.size} ${setsSeen}BODY[] {${m.size}}\r\n`;
    const reply = Buffer.concat([Buffer.from(head), renderMessage(m), Buffer.from(')\r\n')]);
    yield* command(`UID FETCH ${m.uid} (UID RFC822.SIZE BODY[])`, reply, 'OK Fetch completed (0.001 + 0.000 secs).');
    for (const a of plan.appends.filter((x) => x.after === k)) yield* append(a.message);
  }
  if (plan.fetches.length === 0) for (const a of plan.appends) yield* append(a.message);

  yield* command('LOGOUT', '* BYE Logging out\r\n', 'OK Logout completed (0.001 + 0.000 secs).');
  return tag;
}

// ---------------------------------------------------------------------------------------------------------------
// Packets of concurrent sessions

export interface NetworkDamage {
  /** Probability that a data segment is lost (70% retransmitted later, 20% captured twice, 10% never captured). */
  loss: number;
  /** Probability that a data segment arrives after the next one. */
  reorder: number;
}

interface FateCounts {
  lost: number;
  dup: number;
  unseen: number;
  late: number;
}

function fateDrawer(rng: Rng, d: NetworkDamage, counts: FateCounts): () => SegmentFate {
  return () => {
    const r = rng.next();
    if (r < d.loss) {
      const kind = rng.next();
      const fate = kind < 0.7 ? 'lost' : kind < 0.9 ? 'dup' : 'unseen';
      counts[fate]++;
      return fate;
    }
    if (r < d.loss + d.reorder) {
      counts.late++;
      return 'late';
    }
    return 'ok';
  };
}

/** One running session: hands out its packets in time order, generating them one exchange at a time. */
class SessionStream {
  private queue: SynthPacket[];
  private pos = 0;
  private script: Generator<Exchange, number>;
  private ended = false;
  commands = 0;
  /** Estimated file bytes still to come (for sizing the capture). */
  remaining: number;

  constructor(
    private readonly flow: TcpFlow,
    plan: SessionPlan,
    private readonly fate: () => SegmentFate,
  ) {
    this.script = imapSession(plan);
    this.queue = flow.handshake();
    this.remaining = plan.payloadBytes * FRAME_OVERHEAD;
  }

  /** The next packet, or undefined once the connection is closed. */
  peek(): SynthPacket | undefined {
    while (this.pos >= this.queue.length && !this.ended) this.refill();
    return this.queue[this.pos];
  }

  take(): SynthPacket {
    return this.queue[this.pos++]!;
  }

  private refill(): void {
    this.pos = 0;
    const step = this.script.next();
    if (step.done) {
      this.commands = step.value;
      this.queue = this.flow.close('fin', 'server'); // servers close after LOGOUT
      this.ended = true;
      return;
    }
    const x = step.value;
    if (x.delay) this.flow.wait(x.delay);
    this.queue = this.flow.send(x.from, x.data, this.fate);
  }
}

/** File bytes per payload byte: record + Ethernet/IP/TCP headers per 1448-byte segment, plus ACKs. */
const FRAME_OVERHEAD = 1.08;
const SERVERS = ['192.0.2.10', '192.0.2.11', '198.51.100.25'];

function startSession(
  index: number,
  start: number,
  rng: Rng,
  damage: NetworkDamage,
  counts: FateCounts,
  mix: TrafficMix,
): SessionStream {
  const plan = planSession(rng.int(0, 0x7fffffff), mix);
  const bandwidth = rng.pick([20e6, 50e6, 100e6, 200e6]); // bits per second
  const wrapIsn = index % 10 === 3; // some connections cross 2^32 early
  const flow = new TcpFlow({
    // The second and third octets come from the index, so no two sessions share a client address and port.
    client: { ip: `10.${1 + ((index >> 8) % 250)}.${index & 255}.${rng.int(2, 250)}`, port: 32768 + (index % 28000) },
    server: { ip: rng.pick(SERVERS), port: 143 },
    clientIsn: rng.int(0, 0xffffffff),
    serverIsn: wrapIsn ? 0xffffffff - rng.int(0, 20_000) : rng.int(0, 0xffffffff),
    start,
    rtt: rng.int(1_000, 60_000) / 1e6,
    spacing: (1448 * 8) / bandwidth,
  });
  return new SessionStream(flow, plan, fateDrawer(rng, damage, counts));
}

// ---------------------------------------------------------------------------------------------------------------
// Output

/** Collects records into large chunks and writes them, waiting for the stream to drain when it asks to. */
class ChunkedWriter {
  private parts: Buffer[] = [];
  private pending = 0;
  private failure: Error | undefined;
  written = 0;

  constructor(
    private readonly stream: WriteStream,
    private readonly chunk = 1 << 20,
  ) {
    stream.on('error', (err) => (this.failure = err)); // reported at the next flush instead of crashing
  }

  /** Queues bytes (kept by reference until the next flush). */
  push(b: Buffer): void {
    this.parts.push(b);
    this.pending += b.length;
    this.written += b.length;
  }

  get due(): boolean {
    return this.pending >= this.chunk;
  }

  async flush(): Promise<void> {
    if (this.failure) throw this.failure;
    if (this.pending === 0) return;
    const ok = this.stream.write(Buffer.concat(this.parts, this.pending));
    this.parts = [];
    this.pending = 0;
    if (!ok) await once(this.stream, 'drain');
  }

  async close(): Promise<void> {
    await this.flush();
    this.stream.end();
    await finished(this.stream);
  }
}

export interface GenerateOptions extends Partial<NetworkDamage> {
  out: string;
  /** Target size in MiB; the file ends within a session or so of it. */
  mb: number;
  seed?: number;
  /** Sessions open at once. */
  concurrency?: number;
  /** What the sessions do (default: download). */
  mix?: TrafficMix;
  /** Capture start, seconds since the epoch. */
  start?: number;
}

export interface GenerateSummary extends FateCounts {
  packets: number;
  sessions: number;
  commands: number;
  bytes: number;
  /** Capture span in seconds. */
  duration: number;
}

export async function generateCapture(o: GenerateOptions): Promise<GenerateSummary> {
  const rng = new Rng(o.seed ?? 1);
  const damage = { loss: o.loss ?? 0.001, reorder: o.reorder ?? 0.002 };
  const target = o.mb * 1024 * 1024;
  const start = o.start ?? 1_717_000_000;
  const counts: FateCounts = { lost: 0, dup: 0, unseen: 0, late: 0 };
  const summary = { packets: 0, sessions: 0, commands: 0 };
  const out = new ChunkedWriter(createWriteStream(o.out));
  out.push(pcapFileHeader(LINKTYPE.ETHERNET));

  const active: SessionStream[] = [];
  const committed = (): number => active.reduce((n, s) => n + s.remaining, out.written);
  const open = (at: number): void => {
    active.push(startSession(summary.sessions++, at, rng, damage, counts, o.mix ?? 'download'));
  };
  for (let i = 0; i < (o.concurrency ?? 50) && committed() < target; i++) open(start + rng.int(0, 200_000) / 1e6);

  let now = start;
  while (active.length > 0) {
    const i = earliest(active);
    const s = active[i]!;
    const p = s.take();
    const parts = encodeFrameParts(p, LINKTYPE.ETHERNET, summary.packets);
    const length = parts.reduce((n, b) => n + b.length, 0);
    out.push(pcapRecordHeader(p.t, length, length));
    parts.forEach((b) => out.push(b));
    s.remaining = Math.max(0, s.remaining - 16 - length);
    now = p.t as number;
    summary.packets++;
    if (out.due) await out.flush();
    if (s.peek() === undefined) {
      summary.commands += s.commands;
      active.splice(i, 1);
      if (committed() < target) open(now + rng.int(0, 50_000) / 1e6); // a new client replaces the one that left
    }
  }
  await out.close();
  return { ...summary, ...counts, bytes: out.written, duration: now - start };
}

/** Index of the session whose next packet is earliest (ties: the lower index, for determinism). */
function earliest(active: SessionStream[]): number {
  let best = 0;
  let bestT = Infinity;
  active.forEach((s, i) => {
    const t = s.peek()!.t as number;
    if (t < bestT) {
      best = i;
      bestT = t;
    }
  });
  return best;
}

// ---------------------------------------------------------------------------------------------------------------
// CLI

function numberOption(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} must be a non-negative number, got '${value}'`);
  return n;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      out: { type: 'string' },
      mb: { type: 'string' },
      seed: { type: 'string' },
      loss: { type: 'string' },
      reorder: { type: 'string' },
      concurrency: { type: 'string' },
      mix: { type: 'string' },
    },
  });
  if (values.mix !== undefined && values.mix !== 'download' && values.mix !== 'sync') throw new Error(`--mix is download or sync, got '${values.mix}'`);
  if (!values.out) throw new Error('usage: gen-capture --out FILE --mb N [--seed N] [--loss P] [--reorder P]');
  const t0 = performance.now();
  const s = await generateCapture({
    out: values.out,
    mb: numberOption(values.mb, 'mb', 200),
    seed: numberOption(values.seed, 'seed', 1),
    loss: numberOption(values.loss, 'loss', 0.001),
    reorder: numberOption(values.reorder, 'reorder', 0.002),
    concurrency: Math.max(1, numberOption(values.concurrency, 'concurrency', 50)),
    mix: values.mix as TrafficMix | undefined,
  });
  const secs = (performance.now() - t0) / 1000;
  process.stderr.write(
    `${values.out}: ${(s.bytes / 1048576).toFixed(1)} MiB, ${s.packets} packets, ${s.sessions} sessions, ` +
      `${s.commands} commands, ${s.duration.toFixed(3)} s of traffic\n` +
      `damage: ${s.lost} lost+retransmitted, ${s.dup} duplicated, ${s.unseen} never captured, ${s.late} reordered\n` +
      `generated in ${secs.toFixed(1)} s (${(s.bytes / 1048576 / secs).toFixed(0)} MiB/s)\n`,
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    process.stderr.write(`gen-capture: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
