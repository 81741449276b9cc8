/**
 * What the server's own protocol log (Dovecot rawlog, stitched into per-connection byte streams by
 * scripts/record) says happened: an independent reading of the bytes, deliberately simple, so that
 * the dissector is checked against something it did not compute itself.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { inflateRawSync, constants } from 'node:zlib';
import { CAPTURES } from './env.js';

export interface TruthConnection {
  clientPort: number;
  user: string;
  toServer: Buffer;
  toClient: Buffer;
}

export interface TruthCapture {
  name: string;
  path: string;
  connections: TruthConnection[];
}

export function recordedCaptures(): TruthCapture[] {
  if (!existsSync(CAPTURES)) return [];
  return readdirSync(CAPTURES, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(CAPTURES, d.name, 'manifest.json')))
    .map((d) => {
      const dir = join(CAPTURES, d.name);
      const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { capture: string; connections: { clientPort: number; user: string; toServer: string; toClient: string }[] };
      return {
        name: d.name,
        path: join(CAPTURES, m.capture),
        connections: m.connections.map((c) => ({ clientPort: c.clientPort, user: c.user, toServer: readFileSync(join(dir, c.toServer)), toClient: readFileSync(join(dir, c.toClient)) })),
      };
    });
}

/**
 * Lines of an IMAP byte stream, literal contents skipped; after COMPRESS the rest is inflated first.
 * A synchronizing literal of a command the server refused (`refused` tags) never came, so is not skipped.
 */
export function protocolLines(stream: Buffer, compressedFrom: number | null, refused: ReadonlySet<string> = new Set()): string[] {
  let bytes = stream;
  if (compressedFrom !== null) {
    const rest = stream.subarray(compressedFrom);
    bytes = Buffer.concat([stream.subarray(0, compressedFrom), rest.length ? inflateRawSync(rest, { finishFlush: constants.Z_SYNC_FLUSH }) : Buffer.alloc(0)]);
  }
  const lines: string[] = [];
  let pos = 0;
  while (pos < bytes.length) {
    const lf = bytes.indexOf(10, pos);
    const end = lf < 0 ? bytes.length : lf;
    const line = bytes.toString('latin1', pos, end).replace(/\r$/, '');
    lines.push(line);
    pos = end + 1;
    const lit = /\{(\d+)(\+?)\}$/.exec(line);
    const neverSent = lit && lit[2] === '' && refused.has(line.split(' ')[0]!);
    if (lit && !neverSent && !/^\S+ (OK|NO|BAD) /.test(line)) pos += Number(lit[1]);
  }
  return lines;
}

/** Offset just after the line that ends `marker`'s line in a stream (e.g. after "a OK … COMPRESS" reply). */
export function offsetAfterLine(stream: Buffer, re: RegExp): number | null {
  const text = stream.toString('latin1');
  const m = re.exec(text);
  if (!m) return null;
  const lf = text.indexOf('\n', m.index);
  return lf < 0 ? null : lf + 1;
}

export interface TruthExchange {
  tag: string;
  command: string;
  status: string;
  /** Untagged responses the server sent for it (between the previous tagged completion and its own). */
  untagged: number;
}

/** Every tagged completion in the server stream, with the command the client sent under that tag. */
export function truthExchanges(c: TruthConnection): { exchanges: TruthExchange[]; untagged: number } {
  const compressAt = (s: Buffer, re: RegExp) => offsetAfterLine(s, re);
  const compressTag = /^(\S+) COMPRESS DEFLATE\r?$/im.exec(c.toServer.toString('latin1'))?.[1];
  const c2sCompress = compressAt(c.toServer, /^\S+ COMPRESS DEFLATE\r?$/im);
  const s2cCompress = compressTag === undefined ? null : compressAt(c.toClient, new RegExp(`^${compressTag.replace(/\W/g, '\\$&')} OK`, 'm'));
  const serverLines = protocolLines(c.toClient, s2cCompress);
  const refused = new Set(serverLines.map((l) => /^([^*+\s]\S*) (NO|BAD)\b/.exec(l)?.[1]).filter((t): t is string => t !== undefined));
  const clientLines = protocolLines(c.toServer, c2sCompress, refused);
  const commands = new Map<string, string>();
  for (const line of clientLines) {
    const m = /^(\S+) (UID \S+|\S+)/i.exec(line);
    if (m && !commands.has(m[1]!)) commands.set(m[1]!, m[2]!.toUpperCase());
  }
  const exchanges: TruthExchange[] = [];
  let untagged = 0;
  // Which command each untagged line answers, read from the logs alone: a `* n FETCH (… UID u …)` line
  // answers the first unfinished FETCH whose set names u (UID FETCH) or n; any other line the first
  // unfinished command. Dovecot runs pipelined FETCHes together, so their data interleave.
  const sent = clientLines.map((l) => /^(\S+) (UID )?(\S+) ?(\S*)/i.exec(l)).filter((m) => m !== null && !/^(DONE|\*)$/i.test(m[1]!))
    .map((m) => ({ tag: m![1]!, uid: !!m![2], name: m![3]!.toUpperCase(), set: m![4]! }));
  const unfinished = [...sent];
  const credit = new Map<string, number>();
  serverLines.forEach((line, i) => {
    const m = /^([^*+\s]\S*) (OK|NO|BAD)\b/.exec(line);
    if (m) {
      exchanges.push({ tag: m[1]!, command: commands.get(m[1]!) ?? '?', status: m[2]!, untagged: credit.get(m[1]!) ?? 0 });
      const at = unfinished.findIndex((c) => c.tag === m[1]);
      if (at >= 0) unfinished.splice(at, 1);
      return;
    }
    if (!line.startsWith('* ')) return;
    untagged++;
    if (i === 0) return; // the greeting
    const fetch = /^\* (\d+) FETCH \((?:.*\bUID (\d+))?/i.exec(line);
    const owner = (fetch ? unfinished.find((c) => c.name === 'FETCH' && inSet(c.set, Number(c.uid && fetch[2] ? fetch[2] : fetch[1]))) : undefined) ?? unfinished[0];
    if (owner) credit.set(owner.tag, (credit.get(owner.tag) ?? 0) + 1);
  });
  return { exchanges, untagged };
}

/** `1:4,7` contains n? (`*` as infinity.) */
function inSet(set: string, n: number): boolean {
  return set.split(',').some((r) => {
    const [a, b = a] = r.split(':').map((x) => (x === '*' ? Infinity : Number(x)));
    return n >= Math.min(a!, b!) && n <= Math.max(a!, b!);
  });
}
