/**
 * What compare reads of a capture, gathered as it streams: per connection, once it is drained (ended, its last
 * exchange gone by), its command shapes, FETCH item sets, extensions used, latencies and identity, and nothing of
 * its exchanges. What a capture repeats (shapes, command names, item sets, their sequences, identities) is kept
 * once and referred to by number, and each connection is a row of numbers: 78 bytes per session and 12 per exchange
 * (its latency and command name), whatever the grouping, and the result is compact when it crosses from a worker
 * thread. Given a spool, all but a session's 38 bytes of lifetime wait on disk while the capture is read.
 */
import { LifetimeColumns, type Lifetime, type Lifetimes } from '../analysis/concurrency.js';
import { latencyMs } from '../analysis/stats.js';
import type { FetchStep } from '../analysis/fetches.js';
import type { Exchange, ImapConnection } from '../imap/model.js';
import { clientName } from '../report/summary.js';
import type { Connection, LateChanges } from '../tcp/types.js';
import { Unsettled } from '../tcp/unsettled.js';
import { Numbered } from '../util/intern.js';
import { listKey } from '../util/list-key.js';
import { permutedColumn } from '../util/typed-list.js';
import { ChunkSpool, type ChunkedList } from '../util/chunk-spool.js';
import { SpooledColumns } from '../util/spooled-columns.js';
import { collectGarbage } from '../util/collect-garbage.js';
import { commandRows, OTHER_COMMANDS, otherCommandsWarning } from '../analysis/command-rows.js';
import type { WarningSink } from '../capture/types.js';
import { ELIDED_MARK } from '../imap/command.js';
import { DistinctTraits, distinctItemSets, distinctShapes, OTHER_SHAPES, otherItemSetsWarning, otherShapesWarning } from './distinct.js';

/** Extensions a command shape shows the client using. */
const EXTENSION_MARKERS: [RegExp, string][] = [
  [/^ID\b/, 'ID'], [/^ENABLE\b/, 'ENABLE'], [/^COMPRESS\b/, 'COMPRESS'], [/^IDLE\b/, 'IDLE'], [/^NAMESPACE\b/, 'NAMESPACE'],
  [/^UNSELECT\b/, 'UNSELECT'], [/^(UID )?MOVE\b/, 'MOVE'], [/^STARTTLS\b/, 'STARTTLS'], [/\bCONDSTORE\b|\bCHANGEDSINCE\b|\bMODSEQ\b/, 'CONDSTORE'],
  [/\bQRESYNC\b|\bVANISHED\b/, 'QRESYNC'], [/^(UID )?SEARCH RETURN\b/, 'ESEARCH'], [/\bRETURN \(.*SPECIAL-USE/, 'SPECIAL-USE'], [/^XLIST\b/, 'XLIST'],
  [/\bX-GM-/, 'X-GM-EXT-1'], [/^GETQUOTA/, 'QUOTA'], [/^(UID )?(SORT|THREAD)\b/, 'SORT/THREAD'], [/\bBINARY\[/, 'BINARY'], [/^APPEND\b/, 'APPEND'],
];

/** How connections are grouped into profiles: per capture, or per client address or user. */
export type GroupBy = 'capture' | 'client-ip' | 'user';

/**
 * What a connection's client is and used, kept once per distinct combination: a capture's connections repeat a
 * handful of them (its address and user are its group, kept apart: a server's capture has thousands of each).
 */
export interface ConnectionTraits {
  clientName: string | null;
  authMechanism: string | null;
  enabled: readonly string[];
  tls: boolean;
  /** Extensions its commands show it using (ENABLE's own are added from `enabled`). */
  extensions: string[];
}

/**
 * The connections in columns, in order of id: a number or two each where an object and five lists took 1.3 KiB
 * (33,267 sessions held 43 MiB). `commands` and `fetches` index CaptureBehaviour.sequences, `traits` its traits,
 * `groups` its groups.
 */
export interface BehaviourColumns {
  /** Ids and times (final once the capture is read). */
  lifetimes: Lifetimes;
  clientBytes: Float64Array;
  serverBytes: Float64Array;
  commands: Uint32Array;
  fetches: Uint32Array;
  traits: Uint32Array;
  groups: Uint32Array;
  /** Where its exchanges start in LatencyColumns, and how many it has. */
  firstExchange: Uint32Array;
  exchanges: Uint32Array;
}

/**
 * Each exchange of the drained connections, in columns, a connection's together (BehaviourColumns.firstExchange): its
 * command name (a number in CaptureBehaviour.strings) and its latency in milliseconds (NaN when not measured). Kept
 * per exchange, not per group and name: grouped by address, a server's capture has a group per connection.
 */
export interface LatencyColumns {
  names: Uint32Array;
  ms: Float64Array;
}

export interface CaptureBehaviour {
  /** What its groups are. */
  by: GroupBy;
  /** Command shapes, command names and FETCH item sets, each kept once. */
  strings: string[];
  /**
   * Distinct sequences of numbers into `strings`: the command shapes a connection sent, in request order (of those whose
   * request was captured), or its FETCH commands' item sets, in request order.
   */
  sequences: number[][];
  traits: ConnectionTraits[];
  /** The groups' keys: empty when grouped by capture, else the client's address or user (or "(no user)"). */
  groups: string[];
  connections: BehaviourColumns;
  latencies: LatencyColumns;
}

/** A drained connection's row beside its lifetime (in the order BehaviourCollector.drained pushes it). */
const ROW_COLUMNS = { clientBytes: Float64Array, serverBytes: Float64Array, commands: Uint32Array, fetches: Uint32Array, traits: Uint32Array, groups: Uint32Array, exchanges: Uint32Array };
/** Each exchange of a drained connection, after the last one's: its command name's number and its latency. */
const LATENCY_COLUMNS = { names: Uint32Array, ms: Float64Array };

/** What compare reads of a connection's record when it ends, until it is drained. */
interface Ended extends Lifetime {
  ip: string;
  clientBytes: number;
  serverBytes: number;
}

/**
 * Numbers of an open connection: a plain list while short (when 200,000 connections end together, each has a few),
 * then a list of the collector's ChunkSpool, whose values lie outside the collected heap (which V8 lets grow to twice
 * what it keeps) and, with a spool, past a chunk on disk: 100 connections that never close, with 10,000 FETCHes each,
 * kept 48 bytes a command in plain lists, and the heap peaked at 190 MB; in typed lists, 200 MiB of peak RSS for
 * 1,000,000 commands.
 */
const PLAIN_NUMBERS = 96;

type Numbers = number[] | ChunkedList;

/** What an open connection's lists start as: one frozen empty list, replaced by its own at the first numbers. */
const NO_NUMBERS: number[] = Object.freeze([]) as unknown as number[];

export class BehaviourCollector {
  private readonly strings = new Numbered<string>((s) => s);
  private readonly sequences = new Numbered<number[]>(listKey);
  private readonly traits = new Numbered<ConnectionTraits>((t) => JSON.stringify(t));
  private readonly groups = new Numbered<string>((key) => key);
  /** Extensions each distinct shape shows (a capture repeats its shapes). */
  private readonly shapeExtensions = new Map<string, readonly string[]>();
  private readonly commandRows = commandRows();
  private readonly shapes = distinctShapes();
  private readonly itemSetRows = distinctItemSets();
  private readonly told: DistinctTraits;
  /**
   * What a connection not yet drained reported, by its id, each kept only once there is some (a Map each: an object per
   * connection holding the three cost 48 bytes, and 200,000 idle mail clients have nothing but exchanges). Its
   * exchanges: three numbers each (its shape's number, or -1 when its request was not captured; its name's number; its
   * latency, NaN when not measured).
   */
  private readonly openExchanges = new Map<number, Numbers>();
  /**
   * Its FETCH steps as they went by, three numbers each: request frame (Infinity: not captured), when created, and the
   * number of its item set. A FetchStep kept whole until the drain cost about 230 bytes.
   */
  private readonly openSteps = new Map<number, Numbers>();
  /** The extensions its commands showed. */
  private readonly openExtensions = new Map<number, Set<string>>();
  /** What was read of connections that ended, until they are drained. */
  private readonly ended = new Map<number, Ended>();
  /**
   * Until its end is final: what was read of an ended connection, and once it is drained its row (a number; a closed
   * conversation lingers a while, 30,000 of them at a session every 10 ms).
   */
  private readonly unsettled = new Unsettled<Ended | number>();
  /** Kept in memory: a row's end is completed when it is final, after the connection was drained. */
  private readonly lifetimes = new LifetimeColumns();
  /** The rest of each drained connection's row, and each of its exchanges, go to the spool until the end. */
  private readonly rows: SpooledColumns<typeof ROW_COLUMNS>;
  private readonly latencies: SpooledColumns<typeof LATENCY_COLUMNS>;
  /** The numbers of connections not yet drained, once more than a few. */
  private readonly openNumbers: ChunkSpool;

  /**
   * A connection's group is known when it is drained, from `by`. With `spool` (a path, and the same followed by
   * ".latencies" and ".open": none may exist), the drained connections' rows are written there until result() reads
   * them back, and the long lists of numbers of connections not yet drained until they are.
   */
  constructor(private readonly by: GroupBy = 'capture', spool: string | null = null, private readonly warn: WarningSink = () => {}) {
    this.rows = new SpooledColumns(ROW_COLUMNS, spool);
    this.latencies = new SpooledColumns(LATENCY_COLUMNS, spool === null ? null : `${spool}.latencies`);
    this.openNumbers = new ChunkSpool(spool === null ? null : `${spool}.open`);
    this.told = new DistinctTraits(warn);
  }

  exchange(ex: Exchange): void {
    const name = this.commandRows.row(ex.command);
    if (this.commandRows.firstPooled(name)) this.warn({ frame: ex.requestFrame, conn: ex.conn, message: otherCommandsWarning(ex.command) });
    const shape = ex.requestMissing ? ex.shape : this.shapeOf(ex, name);
    this.pushThree(this.openExchanges, ex.conn, ex.requestMissing ? -1 : this.strings.number(shape), this.strings.number(name), latencyMs(ex) ?? NaN);
    for (const extension of this.extensionsOf(shape)) {
      let extensions = this.openExtensions.get(ex.conn);
      if (!extensions) this.openExtensions.set(ex.conn, (extensions = new Set()));
      extensions.add(extension);
    }
  }

  /**
   * The shape a command is compared by: its own, or past the caps on names that are not IMAP's and on shapes told apart,
   * its row's name (each new one was kept: a client that names mailboxes or header fields by the thousand).
   */
  private shapeOf(ex: Exchange, name: string): string {
    if (name === OTHER_COMMANDS) return OTHER_COMMANDS;
    const row = this.shapes.row(ex.shape);
    if (row !== OTHER_SHAPES) return ex.shape;
    if (this.shapes.firstPooled(row)) this.warn({ frame: ex.requestFrame, conn: ex.conn, message: otherShapesWarning(ex.shape, name) });
    return `${name}${ELIDED_MARK}`;
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
    this.pushThree(this.openSteps, step.conn, step.requestFrame ?? Infinity, created, this.strings.number(this.itemSetOf(step)));
  };

  /** A step's item set as compared: its own, or past the cap on item sets told apart, theirs together. */
  private itemSetOf(step: FetchStep): string {
    const items = step.items.join(' ');
    const row = this.itemSetRows.row(items);
    if (this.itemSetRows.firstPooled(row)) this.warn({ frame: step.requestFrame, conn: step.conn, message: otherItemSetsWarning(items) });
    return row;
  }

  /**
   * A connection ended (onConnectionClose, with settle as onConnectionSettled): what compare reads of its record is
   * copied, and its end completed when it is final, so the record itself can go. A caller that keeps the records
   * complete (settled) need not call it: the record is read as it stands when the connection is drained.
   */
  endedAt(c: ImapConnection): void {
    const facts = endedFacts(c.conn);
    this.ended.set(facts.id, facts);
    this.unsettled.add(c.conn, facts);
  }

  readonly settle = (late: LateChanges): void => {
    const waiting = this.unsettled.take(late.id);
    if (waiting === undefined) return;
    if (typeof waiting === 'number') this.lifetimes.settle(waiting, late);
    else {
      waiting.end = late.end;
      waiting.lastFrame = late.lastFrame;
    }
  };

  /** The connection ended and each of its exchanges (and so each of its steps) went by: it becomes a row. */
  drained(c: ImapConnection): void {
    const id = c.conn.id;
    const exchanges = this.numbersOf(this.taken(this.openExchanges, id));
    const steps = this.numbersOf(this.taken(this.openSteps, id));
    const extensions = this.openExtensions.get(id);
    this.openExtensions.delete(id);
    const facts = this.ended.get(id) ?? endedFacts(c.conn);
    this.ended.delete(id);
    const row = this.lifetimes.push(facts);
    // Its end may still move: from now on its row is settled.
    if (this.unsettled.take(id) !== undefined) this.unsettled.add(c.conn, row);
    const commands: number[] = [];
    for (let k = 0; k < exchanges.length; k += 3) if (exchanges[k]! >= 0) commands.push(exchanges[k]!);
    const traits = this.traits.number({
      clientName: this.told.clientName(clientName(c.clientId), id),
      authMechanism: this.told.authMechanism(c.authMechanism, id),
      enabled: this.told.enabled(c.enabled, id),
      tls: c.tls !== null,
      extensions: [...(extensions ?? [])].sort(),
    });
    const group = this.groups.number(this.by === 'capture' ? '' : this.by === 'client-ip' ? facts.ip : c.user ?? '(no user)');
    // In the order of ROW_COLUMNS.
    this.rows.push([facts.clientBytes, facts.serverBytes, this.sequences.number(commands), this.sequences.number(this.itemSets(steps)), traits, group, exchanges.length / 3]);
    for (let k = 0; k < exchanges.length; k += 3) this.latencies.push([exchanges[k + 1]!, exchanges[k + 2]!]);
  }

  /** Three more numbers on the connection's list in `lists`: a new plain list while short, then one of the spool's. */
  private pushThree(lists: Map<number, Numbers>, id: number, a: number, b: number, c: number): void {
    const list = lists.get(id) ?? NO_NUMBERS;
    // A list of just its numbers (concat makes it to size): a push onto an empty list reserves room for 20, which an
    // idle connection's one or two exchanges would keep (112 bytes more each).
    if (Array.isArray(list)) lists.set(id, list.length < PLAIN_NUMBERS ? list.concat(a, b, c) : this.openNumbers.list(list.concat(a, b, c)));
    else {
      this.openNumbers.push(list, a);
      this.openNumbers.push(list, b);
      this.openNumbers.push(list, c);
    }
  }

  /** The connection's list in `lists` (empty if none), no longer kept there. */
  private taken(lists: Map<number, Numbers>, id: number): Numbers {
    const list = lists.get(id) ?? NO_NUMBERS;
    lists.delete(id);
    return list;
  }

  private numbersOf(list: Numbers): ArrayLike<number> {
    return Array.isArray(list) ? list : this.openNumbers.values(list);
  }

  /** Steps (openSteps) in request order, as FetchTracker.steps orders them: by request frame, then as created; as item sets. */
  private itemSets(steps: ArrayLike<number>): number[] {
    const order = Array.from({ length: steps.length / 3 }, (_, i) => 3 * i);
    order.sort((a, b) => steps[a]! - steps[b]! || steps[a + 1]! - steps[b + 1]!);
    return order.map((at) => steps[at + 2]!);
  }

  /** The pass failed: the spool's files are closed and removed. */
  abandon(): void {
    this.rows.abandon();
    this.latencies.abandon();
    this.openNumbers.remove();
  }

  /** What was gathered, the connections in order of id. Gather no more after. */
  result(): CaptureBehaviour {
    const ids = this.lifetimes.ids;
    const order = Uint32Array.from({ length: ids.length }, (_, i) => i).sort((x, y) => ids[x]! - ids[y]!);
    // The pass's garbage goes before the spooled rows come back: they would come on top of it.
    collectGarbage();
    const rows = this.rows.take();
    const latencies = this.latencies.take();
    // Each row's exchanges follow the last row's, in the order drained: where they start, before the rows go in order
    // of id.
    const firstExchange = new Uint32Array(rows.size);
    for (let row = 1; row < rows.size; row++) firstExchange[row] = firstExchange[row - 1]! + rows.exchanges[row - 1]!;
    // Every connection was drained before the result (the input ended): no list is read after.
    this.openNumbers.remove();
    return {
      by: this.by,
      strings: this.strings.values,
      sequences: this.sequences.values,
      traits: this.traits.values,
      groups: this.groups.values,
      connections: {
        lifetimes: this.lifetimes.take(order),
        clientBytes: permutedColumn(rows.clientBytes, order),
        serverBytes: permutedColumn(rows.serverBytes, order),
        commands: permutedColumn(rows.commands, order),
        fetches: permutedColumn(rows.fetches, order),
        traits: permutedColumn(rows.traits, order),
        groups: permutedColumn(rows.groups, order),
        firstExchange: permutedColumn(firstExchange, order),
        exchanges: permutedColumn(rows.exchanges, order),
      },
      latencies: { names: latencies.names, ms: latencies.ms },
    };
  }
}

function endedFacts(conn: Connection): Ended {
  const { id, start, end, lastFrame, client, stats } = conn;
  return { id, start, end, lastFrame, ip: client.ip, clientBytes: stats.client.bytes, serverBytes: stats.server.bytes };
}

/** Each connection's id, command shapes, FETCH item sets and traits, in order of id: the columns read back as words. */
export function* connectionsOf(b: CaptureBehaviour): Generator<{ id: number; commands: string[]; fetches: string[]; traits: ConnectionTraits }> {
  const c = b.connections;
  const words = (sequence: number) => b.sequences[sequence]!.map((n) => b.strings[n]!);
  for (let i = 0; i < c.lifetimes.size; i++) {
    yield { id: c.lifetimes.ids[i]!, commands: words(c.commands[i]!), fetches: words(c.fetches[i]!), traits: b.traits[c.traits[i]!]! };
  }
}
