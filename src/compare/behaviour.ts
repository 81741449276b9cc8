/**
 * What compare reads of a capture, gathered as it streams: per connection, once it is drained (ended, its last
 * exchange gone by), its command shapes, FETCH item sets, extensions used, latencies and identity, and nothing of
 * its exchanges. Strings a capture repeats (shapes, command names, item sets) are kept once and referred to by
 * number, so the result is compact when it crosses from a worker thread.
 */
import { latencyMs } from '../analysis/stats.js';
import type { FetchStep } from '../analysis/fetches.js';
import type { Exchange, ImapConnection } from '../imap/model.js';
import { clientName } from '../report/summary.js';
import type { Connection, LateChanges, Side } from '../tcp/types.js';
import { Unsettled } from '../tcp/unsettled.js';

/** What compare reads of a connection's TCP record (a Connection is one). */
export type ConnectionFacts = Pick<Connection, 'id' | 'start' | 'end' | 'lastFrame'> & {
  client: { ip: string };
  stats: Record<Side, { bytes: number }>;
};

/** Extensions a command shape shows the client using. */
const EXTENSION_MARKERS: [RegExp, string][] = [
  [/^ID\b/, 'ID'], [/^ENABLE\b/, 'ENABLE'], [/^COMPRESS\b/, 'COMPRESS'], [/^IDLE\b/, 'IDLE'], [/^NAMESPACE\b/, 'NAMESPACE'],
  [/^UNSELECT\b/, 'UNSELECT'], [/^(UID )?MOVE\b/, 'MOVE'], [/^STARTTLS\b/, 'STARTTLS'], [/\bCONDSTORE\b|\bCHANGEDSINCE\b|\bMODSEQ\b/, 'CONDSTORE'],
  [/\bQRESYNC\b|\bVANISHED\b/, 'QRESYNC'], [/^(UID )?SEARCH RETURN\b/, 'ESEARCH'], [/\bRETURN \(.*SPECIAL-USE/, 'SPECIAL-USE'], [/^XLIST\b/, 'XLIST'],
  [/\bX-GM-/, 'X-GM-EXT-1'], [/^GETQUOTA/, 'QUOTA'], [/^(UID )?(SORT|THREAD)\b/, 'SORT/THREAD'], [/\bBINARY\[/, 'BINARY'], [/^APPEND\b/, 'APPEND'],
];

/** One connection as compare sees it. Numbers in `commands`, `names` and `fetches` index CaptureBehaviour.strings. */
export interface ConnectionBehaviour {
  /** Its TCP facts: id, client address, times (final once the capture is read), bytes. */
  conn: ConnectionFacts;
  user: string | null;
  clientName: string | null;
  authMechanism: string | null;
  enabled: string[];
  tls: boolean;
  /** Shapes of the commands whose request was captured, in request order. */
  commands: number[];
  /** Each exchange's command name and latency in milliseconds (NaN when not measured), in request order. */
  names: number[];
  latencies: number[];
  /** Item sets of its FETCH commands, in request order. */
  fetches: number[];
  /** Extensions its commands show it using (ENABLE's own are added from `enabled`). */
  extensions: string[];
}

export interface CaptureBehaviour {
  strings: string[];
  /** In the order they opened. */
  connections: ConnectionBehaviour[];
}

/** A connection's exchanges and FETCH steps while it is not drained. */
interface Open {
  commands: number[];
  names: number[];
  latencies: number[];
  steps: { step: FetchStep; created: number }[];
  extensions: Set<string>;
}

export class BehaviourCollector {
  private readonly strings: string[] = [];
  private readonly numbers = new Map<string, number>();
  /** Extensions each distinct shape shows (a capture repeats its shapes). */
  private readonly shapeExtensions = new Map<string, readonly string[]>();
  private readonly open = new Map<number, Open>();
  /** Facts of connections that ended, until they are drained, and until their end is final (settled). */
  private readonly ended = new Map<number, ConnectionFacts>();
  private readonly unsettled = new Unsettled<ConnectionFacts>();
  private readonly done: ConnectionBehaviour[] = [];

  private number(s: string): number {
    let n = this.numbers.get(s);
    if (n === undefined) {
      n = this.strings.push(s) - 1;
      this.numbers.set(s, n);
    }
    return n;
  }

  private openOf(id: number): Open {
    let o = this.open.get(id);
    if (!o) this.open.set(id, (o = nothingYet()));
    return o;
  }

  exchange(ex: Exchange): void {
    const o = this.openOf(ex.conn);
    if (!ex.requestMissing) o.commands.push(this.number(ex.shape));
    o.names.push(this.number(ex.command));
    o.latencies.push(latencyMs(ex) ?? NaN);
    for (const name of this.extensionsOf(ex.shape)) o.extensions.add(name);
  }

  private extensionsOf(shape: string): readonly string[] {
    let names = this.shapeExtensions.get(shape);
    if (!names) this.shapeExtensions.set(shape, (names = EXTENSION_MARKERS.filter(([re]) => re.test(shape)).map(([, name]) => name)));
    return names;
  }

  /**
   * FetchTrackerOptions.onStep. A step goes on as its exchange is reported (after exchange() saw it), and every exchange
   * is reported, at the latest when the input ends, before its connection is drained: so its connection is open here.
   */
  readonly step = (step: FetchStep, created: number): void => {
    this.openOf(step.conn).steps.push({ step, created });
  };

  /**
   * A connection ended (onConnectionClose, with settle as onConnectionSettled): what compare reads of its record is
   * copied, and its end completed when it is final, so the record itself can go. A caller that keeps the records
   * (and so has them completed in place) need not call it.
   */
  endedAt(c: ImapConnection): void {
    const { id, start, end, lastFrame, client, stats } = c.conn;
    const facts = { id, start, end, lastFrame, client: { ip: client.ip }, stats: { client: { bytes: stats.client.bytes }, server: { bytes: stats.server.bytes } } };
    this.ended.set(id, facts);
    this.unsettled.add(c.conn, facts);
  }

  readonly settle = (late: LateChanges): void => {
    const facts = this.unsettled.take(late.id);
    if (!facts) return;
    facts.end = late.end;
    facts.lastFrame = late.lastFrame;
  };

  /** The connection ended and each of its exchanges (and so each of its steps) went by. */
  drained(c: ImapConnection): void {
    const o = this.open.get(c.conn.id) ?? nothingYet();
    this.open.delete(c.conn.id);
    const conn = this.ended.get(c.conn.id) ?? c.conn;
    this.ended.delete(c.conn.id);
    this.done.push({
      conn, user: c.user, clientName: clientName(c.clientId), authMechanism: c.authMechanism, enabled: c.enabled, tls: c.tls !== null,
      commands: o.commands, names: o.names, latencies: o.latencies, fetches: this.itemSets(o.steps), extensions: [...o.extensions],
    });
  }

  /** Steps in request order (as FetchTracker.steps orders them: by request frame, then as created), as item sets. */
  private itemSets(steps: { step: FetchStep; created: number }[]): number[] {
    steps.sort((a, b) => (a.step.requestFrame ?? Infinity) - (b.step.requestFrame ?? Infinity) || a.created - b.created);
    return steps.map((s) => this.number(s.step.items.join(' ')));
  }

  result(): CaptureBehaviour {
    const connections = this.done.sort((a, b) => a.conn.id - b.conn.id);
    return { strings: this.strings, connections };
  }
}

function nothingYet(): Open {
  return { commands: [], names: [], latencies: [], steps: [], extensions: new Set() };
}
