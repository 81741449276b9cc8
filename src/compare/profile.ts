import { LifetimeColumns, openOverTime, rowTimes } from '../analysis/concurrency.js';
import { percentile } from '../analysis/stats.js';
import { Numbered } from '../util/intern.js';
import { listValues, permutedColumn, pushValue, uint32List, type Uint32List } from '../util/typed-list.js';
import type { CaptureBehaviour, ConnectionTraits, GroupBy } from './behaviour.js';

export type { GroupBy } from './behaviour.js';

/** What one connection did, with everything that varies between runs abstracted away. */
export interface ConnectionProfile {
  conn: number;
  /** Command shapes in order (see imap/shape.ts). */
  commands: string[];
  /** FETCH item sets in order, one per FETCH command. */
  fetches: string[];
  bytes: { client: number; server: number };
}

/** A client's behaviour in one capture (or one group of connections). */
export interface BehaviourProfile {
  label: string;
  /** In order of what they did (see ProfileConnections). */
  connections: ProfileConnections;
  maxConcurrent: number;
  /** IMAP extensions and optional features the client used. */
  extensions: string[];
  clientIds: string[];
  authMechanisms: string[];
  tls: boolean;
  /** Measures: reported side by side, never part of "same" (they vary run to run). */
  latency: Record<string, { count: number; medianMs: number | null; p95Ms: number | null }>;
  bytes: { client: number; server: number };
}

/**
 * The command and FETCH item-set sequences of every capture compared, each kept once and numbered. Connections with the
 * same command sequence, in whichever capture, form a class: they pair alike, and a folder sync repeats one sequence
 * over thousands of sessions.
 */
export type Sequences = Numbered<string[]>;

/**
 * A profile's connections in columns: a connection is its id, the numbers of its two sequences and its bytes, made into
 * a ConnectionProfile only when read. Which connection reached the server first does not matter: they are in order of
 * what they did (their commands, then their item sets), connections that did the same in the order they came.
 */
export class ProfileConnections implements Iterable<ConnectionProfile> {
  constructor(
    readonly sequences: Sequences,
    private readonly conns: Uint32Array,
    /** Each connection's command sequence (its class), a number in `sequences`. */
    readonly commandClasses: Uint32Array,
    /** Each connection's FETCH item sets, a number in `sequences`. */
    readonly fetchClasses: Uint32Array,
    private readonly clientBytes: Float64Array,
    private readonly serverBytes: Float64Array,
  ) {}

  get length(): number {
    return this.conns.length;
  }

  at(i: number): ConnectionProfile {
    return {
      conn: this.conns[i]!, commands: this.commands(i), fetches: this.sequences.values[this.fetchClasses[i]!]!,
      bytes: { client: this.clientBytes[i]!, server: this.serverBytes[i]! },
    };
  }

  commands(i: number): string[] {
    return this.sequences.values[this.commandClasses[i]!]!;
  }

  *[Symbol.iterator](): Generator<ConnectionProfile> {
    for (let i = 0; i < this.length; i++) yield this.at(i);
  }
}

/** One capture's behaviour with its sequences numbered among every capture's. */
interface Input {
  behaviour: CaptureBehaviour;
  /** Its sequence numbers, as numbers in the shared Sequences. */
  sequence: Uint32Array;
}

/** A group's connections: per capture (in the order read), its rows. */
type Members = Map<Input, Uint32List>;

/**
 * Behaviour profiles from captures' behaviour: one per capture, or per client IP or user across all of them (each
 * capture's behaviour gathered with the same `by`: its latencies are kept per group).
 */
export function buildProfiles(captures: { label: string; behaviour: CaptureBehaviour }[], by: GroupBy): BehaviourProfile[] {
  const sequences: Sequences = new Numbered<string[]>((sequence) => JSON.stringify(sequence));
  const groups = new Map<string, Members>();
  for (const { label, behaviour } of captures) {
    const { strings, connections } = behaviour;
    if (behaviour.by !== by) throw new Error(`compare: a capture's behaviour gathered by ${behaviour.by} cannot be grouped by ${by}`);
    const input = { behaviour, sequence: Uint32Array.from(behaviour.sequences, (s) => sequences.number(s.map((n) => strings[n]!))) };
    if (by === 'capture') groups.set(label, new Map());
    const keyOf = behaviour.groups.map((group) => (by === 'capture' ? label : by === 'client-ip' ? `${label}: ${group}` : group));
    for (let row = 0; row < connections.groups.length; row++) {
      const key = keyOf[connections.groups[row]!]!;
      let members = groups.get(key);
      if (!members) groups.set(key, (members = new Map()));
      let rows = members.get(input);
      if (!rows) members.set(input, (rows = uint32List()));
      pushValue(rows, row);
    }
  }
  return [...groups.entries()].map(([label, members]) => profileOf(label, members, sequences));
}

function profileOf(label: string, members: Members, sequences: Sequences): BehaviourProfile {
  const size = [...members.values()].reduce((n, rows) => n + rows.size, 0);
  const conns = new Uint32Array(size);
  const commandClasses = new Uint32Array(size);
  const fetchClasses = new Uint32Array(size);
  const clientBytes = new Float64Array(size);
  const serverBytes = new Float64Array(size);
  const lifetimes = new LifetimeColumns(size);
  const traits = new Set<ConnectionTraits>();
  const latencies = new Map<string, Float64Array[]>();
  let m = 0;
  for (const [{ behaviour, sequence }, list] of members) {
    const { connections: c } = behaviour;
    const usedTraits = new Set<number>();
    const usedGroups = new Set<number>();
    for (const row of listValues(list)) {
      conns[m] = c.lifetimes.ids[row]!;
      commandClasses[m] = sequence[c.commands[row]!]!;
      fetchClasses[m] = sequence[c.fetches[row]!]!;
      clientBytes[m] = c.clientBytes[row]!;
      serverBytes[m] = c.serverBytes[row]!;
      lifetimes.push({ id: conns[m]!, ...rowTimes(c.lifetimes, row) });
      usedTraits.add(c.traits[row]!);
      usedGroups.add(c.groups[row]!);
      m++;
    }
    for (const t of usedTraits) traits.add(behaviour.traits[t]!);
    for (const { group, name, ms } of behaviour.latencies) {
      if (!usedGroups.has(group)) continue;
      const command = behaviour.strings[name]!;
      const lists = latencies.get(command);
      if (lists) lists.push(ms);
      else latencies.set(command, [ms]);
    }
  }
  const order = orderByWhatTheyDid(sequences, commandClasses, fetchClasses);
  const extensions = new Set<string>();
  for (const t of traits) {
    for (const x of t.extensions) extensions.add(x);
    for (const x of t.enabled) extensions.add(`ENABLE ${x.toUpperCase()}`);
  }
  const distinctSorted = (values: (string | null)[]) => [...new Set(values.filter((x): x is string => x !== null))].sort();
  return {
    label,
    connections: new ProfileConnections(
      sequences, permutedColumn(conns, order), permutedColumn(commandClasses, order), permutedColumn(fetchClasses, order),
      permutedColumn(clientBytes, order), permutedColumn(serverBytes, order),
    ),
    maxConcurrent: openOverTime(lifetimes.take()).max,
    extensions: [...extensions].sort(),
    clientIds: distinctSorted([...traits].map((t) => t.clientName)),
    authMechanisms: distinctSorted([...traits].map((t) => t.authMechanism)),
    tls: [...traits].some((t) => t.tls),
    latency: latencyOf(latencies),
    bytes: { client: sum(clientBytes), server: sum(serverBytes) },
  };
}

/**
 * Connection indices in order of signature (their commands, then their item sets; compared as text), those alike in
 * the order given. Each distinct pair of sequences is ranked once.
 */
function orderByWhatTheyDid(sequences: Sequences, commandClasses: Uint32Array, fetchClasses: Uint32Array): Uint32Array {
  const count = sequences.values.length;
  const keyOf = (i: number) => commandClasses[i]! * count + fetchClasses[i]!;
  const signatures = new Map<number, string>();
  for (let i = 0; i < commandClasses.length; i++) {
    const key = keyOf(i);
    if (!signatures.has(key)) signatures.set(key, signature({ commands: sequences.values[commandClasses[i]!]!, fetches: sequences.values[fetchClasses[i]!]! }));
  }
  const keys = [...signatures.keys()].sort((x, y) => signatures.get(x)!.localeCompare(signatures.get(y)!));
  // Signatures the collation holds equal share a rank, so their connections stay in the order given, as a stable sort leaves them.
  const rank = new Map<number, number>();
  keys.forEach((key, k) => rank.set(key, k > 0 && signatures.get(keys[k - 1]!)!.localeCompare(signatures.get(key)!) === 0 ? rank.get(keys[k - 1]!)! : k));
  const ranks = Uint32Array.from({ length: commandClasses.length }, (_, i) => rank.get(keyOf(i))!);
  return Uint32Array.from({ length: ranks.length }, (_, i) => i).sort((x, y) => ranks[x]! - ranks[y]! || x - y);
}

/** Per command, by name: how many, and the median and 95th percentile (nearest rank) of those measured (not NaN). */
function latencyOf(latencies: Map<string, Float64Array[]>): BehaviourProfile['latency'] {
  const latency: BehaviourProfile['latency'] = {};
  for (const command of [...latencies.keys()].sort((x, y) => x.localeCompare(y))) {
    const lists = latencies.get(command)!;
    const count = lists.reduce((n, ms) => n + ms.length, 0);
    const measured = new Float64Array(count);
    let n = 0;
    for (const ms of lists) for (const x of ms) if (!Number.isNaN(x)) measured[n++] = x;
    const sorted = measured.subarray(0, n).sort();
    latency[command] = { count, medianMs: percentile(sorted, 50), p95Ms: percentile(sorted, 95) };
  }
  return latency;
}

function sum(values: Float64Array): number {
  let total = 0;
  for (const x of values) total += x;
  return total;
}

export function signature(c: Pick<ConnectionProfile, 'commands' | 'fetches'>): string {
  return [...c.commands, '|', ...c.fetches].join('\n');
}
