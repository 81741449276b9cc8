import { FEW_LIFETIMES, LifetimeColumns, mostOpenOfFew, openOverTime, rowTimes } from '../analysis/concurrency.js';
import { percentile } from '../analysis/stats.js';
import { Numbered } from '../util/intern.js';
import { listKey } from '../util/list-key.js';
import { permutedColumn } from '../util/typed-list.js';
import type { BehaviourColumns, CaptureBehaviour, ConnectionTraits, GroupBy } from './behaviour.js';

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

/** Profiles in order: an array, or past KEPT_PROFILES, each made when it is read (ProfilesMade). */
export interface Profiles extends Iterable<BehaviourProfile> {
  readonly length: number;
  at(index: number): BehaviourProfile | undefined;
}

/** Profiles kept once made, up to this many. */
export const KEPT_PROFILES = 64;

/**
 * Profiles made each time they are read, the first kept (every comparison reads it): grouped by client address, a
 * server's 150,000 clients' profiles held 107 MB, each a few figures and lists. Making one reads its range of the
 * columns and its latencies again, which the captures' behaviour still holds.
 */
class ProfilesMade implements Profiles {
  private first: BehaviourProfile | undefined;

  constructor(readonly length: number, private readonly make: (g: number) => BehaviourProfile) {}

  at(index: number): BehaviourProfile | undefined {
    if (!Number.isInteger(index) || index < 0 || index >= this.length) return undefined;
    return index === 0 ? (this.first ??= this.make(0)) : this.make(index);
  }

  *[Symbol.iterator](): Iterator<BehaviourProfile> {
    for (let g = 0; g < this.length; g++) yield this.at(g)!;
  }
}

/**
 * The command and FETCH item-set sequences of every capture compared, each kept once and numbered. Connections with the
 * same command sequence, in whichever capture, form a class: they pair alike, and a folder sync repeats one sequence
 * over thousands of sessions.
 */
export type Sequences = Numbered<string[]>;

/**
 * Every profile's connections, one profile after another: a profile's connections are a range of them. What is read
 * of a connection alone (its id, its bytes) stays in its capture's columns, found by where it came from.
 */
interface ConnectionColumns {
  /** Each connection's command sequence (its class), a number in the Sequences. */
  commandClasses: Uint32Array;
  /** Each connection's FETCH item sets, a number in the Sequences. */
  fetchClasses: Uint32Array;
  /** The capture (its number among those given) and the row it came from. */
  input: Uint32Array;
  row: Uint32Array;
}

/**
 * A profile's connections, a range of columns every profile shares (a server's capture grouped by address has a
 * profile per connection): a connection is its id, the numbers of its two sequences and its bytes, made into a
 * ConnectionProfile only when read. Which connection reached the server first does not matter: they are in order of
 * what they did (their commands, then their item sets), connections that did the same in the order they came.
 */
export class ProfileConnections implements Iterable<ConnectionProfile> {
  constructor(
    readonly sequences: Sequences, private readonly columns: ConnectionColumns, private readonly captures: readonly BehaviourColumns[],
    private readonly start: number, readonly length: number,
  ) {}

  at(i: number): ConnectionProfile {
    const k = this.start + i;
    const c = this.captures[this.columns.input[k]!]!;
    const row = this.columns.row[k]!;
    return { conn: c.lifetimes.ids[row]!, commands: this.commands(i), fetches: this.sequences.values[this.fetchClass(i)]!, bytes: { client: c.clientBytes[row]!, server: c.serverBytes[row]! } };
  }

  commands(i: number): string[] {
    return this.sequences.values[this.commandClass(i)]!;
  }

  /** The i-th connection's command sequence (its class), a number in `sequences`. */
  commandClass(i: number): number {
    return this.columns.commandClasses[this.start + i]!;
  }

  /** The i-th connection's FETCH item sets, a number in `sequences`. */
  fetchClass(i: number): number {
    return this.columns.fetchClasses[this.start + i]!;
  }

  /** Every connection's class, in order: a view. */
  get commandClasses(): Uint32Array {
    return this.columns.commandClasses.subarray(this.start, this.start + this.length);
  }

  *[Symbol.iterator](): Generator<ConnectionProfile> {
    for (let i = 0; i < this.length; i++) yield this.at(i);
  }
}

const NONE = 0xffffffff;

/** One capture's behaviour, its sequences numbered among every capture's and its groups among every profile. */
interface Input {
  label: string;
  behaviour: CaptureBehaviour;
  /** Its sequence numbers, as numbers in the shared Sequences. */
  sequence: Uint32Array;
  /** Its group numbers, as the profile each goes to. */
  profile: Uint32Array;
}

/**
 * Behaviour profiles from captures' behaviour: one per capture, or per client IP or user across all of them (each
 * capture's behaviour gathered with the same `by`). Each profile's connections are a range of one set of columns,
 * a group's connections in the order of the captures, then of their rows (ids).
 */
export function buildProfiles(captures: { label: string; behaviour: CaptureBehaviour }[], by: GroupBy): Profiles {
  const sequences: Sequences = new Numbered<string[]>(listKey);
  // At most a profile per group of each capture (grouped by capture, one with no connection has a profile too).
  const names = new ProfileNames(by, captures.reduce((n, c) => n + Math.max(1, c.behaviour.groups.length), 0));
  const inputs: Input[] = [];
  /** Grouped by capture, the capture a label's profile is made of: the last of that name. */
  const latest = new Map<string, number>();
  captures.forEach(({ label, behaviour }, k) => {
    if (behaviour.by !== by) throw new Error(`compare: a capture's behaviour gathered by ${behaviour.by} cannot be grouped by ${by}`);
    const { strings } = behaviour;
    names.add(label, behaviour.groups);
    if (by === 'capture') {
      names.number(0);
      latest.set(label, k);
    }
    // Profiles are numbered as their first connection comes, in order of id.
    const profile = new Uint32Array(behaviour.groups.length).fill(NONE);
    for (const group of behaviour.connections.groups) if (profile[group] === NONE) profile[group] = names.number(group);
    inputs.push({ label, behaviour, sequence: Uint32Array.from(behaviour.sequences, (seq) => sequences.number(seq.map((n) => strings[n]!))), profile });
  });
  const kept = inputs.map((input, k) => (by !== 'capture' || latest.get(input.label) === k ? input : null));
  // A counting sort of every row by profile, the captures' order kept within one.
  const profiles = names.count;
  const starts = new Uint32Array(profiles + 1);
  for (const input of kept) for (const group of input?.behaviour.connections.groups ?? []) starts[input!.profile[group]! + 1]!++;
  for (let g = 0; g < profiles; g++) starts[g + 1]! += starts[g]!;
  const size = starts[profiles]!;
  const columns: ConnectionColumns = { commandClasses: new Uint32Array(size), fetchClasses: new Uint32Array(size), input: new Uint32Array(size), row: new Uint32Array(size) };
  const next = starts.slice(0, profiles);
  kept.forEach((input, k) => {
    if (!input) return;
    const c = input.behaviour.connections;
    for (let row = 0; row < c.groups.length; row++) {
      const at = next[input.profile[c.groups[row]!]!]!++;
      columns.commandClasses[at] = input.sequence[c.commands[row]!]!;
      columns.fetchClasses[at] = input.sequence[c.fetches[row]!]!;
      columns.input[at] = k;
      columns.row[at] = row;
    }
  });
  const rangeOf = (g: number) => ({ start: starts[g]!, end: starts[g + 1]! });
  // Put in order once, with where each connection came from: a profile's figures are made over its range as it stands.
  for (let g = 0; g < profiles; g++) orderByWhatTheyDid(sequences, columns, rangeOf(g));
  const captureColumns = inputs.map((input) => input.behaviour.connections);
  const profileOf = (g: number): BehaviourProfile => {
    const range = rangeOf(g);
    const figures = figuresOf(range, columns, inputs, latenciesOf(range, columns, inputs));
    return { label: names.label(g), connections: new ProfileConnections(sequences, columns, captureColumns, range.start, range.end - range.start), ...figures };
  };
  return profiles <= KEPT_PROFILES ? Array.from({ length: profiles }, (_, g) => profileOf(g)) : new ProfilesMade(profiles, profileOf);
}

/**
 * The profiles' names, numbered as they first come: a capture's label, a client address in a capture ("label: address")
 * or a user. A profile is kept as the capture and group it was first seen in, its name made when it is read: grouped by
 * address, 200,000 names made up front and looked up by that text took 20 MB. Only names that can meet again are looked
 * up: labels, users in any capture, and addresses once a second capture of the same label comes (a capture's groups are
 * distinct).
 */
class ProfileNames {
  /** Each profile's first capture and its group there. */
  private readonly firstInput: Uint32Array;
  private readonly firstGroup: Uint32Array;
  private made = 0;
  /** Each capture's label and groups, by its number. */
  private readonly captures: { label: string; groups: readonly string[] }[] = [];
  /** By capture and by user: the profile of each name. */
  private readonly byName = new Map<string, number>();
  /** By address: per label, the profile of each address, once a second capture has that label (null before). */
  private readonly byAddress = new Map<string, Map<string, number> | null>();

  constructor(private readonly by: GroupBy, most: number) {
    this.firstInput = new Uint32Array(most);
    this.firstGroup = new Uint32Array(most);
  }

  get count(): number {
    return this.made;
  }

  /** Capture `k` comes next, with its label and groups. */
  add(label: string, groups: readonly string[]): void {
    if (this.by === 'client-ip') {
      if (!this.byAddress.has(label)) this.byAddress.set(label, null);
      else if (this.byAddress.get(label) === null) this.byAddress.set(label, this.addressesSoFar(label));
    }
    this.captures.push({ label, groups });
  }

  /** The profile of `group` (a number in its groups; by capture, none) of the capture added last. */
  number(group: number): number {
    const k = this.captures.length - 1;
    const { label, groups } = this.captures[k]!;
    const table = this.by === 'client-ip' ? this.byAddress.get(label) : this.byName;
    const key = this.by === 'capture' ? label : groups[group]!;
    let n = table?.get(key);
    if (n === undefined) {
      n = this.made++;
      this.firstInput[n] = k;
      this.firstGroup[n] = group;
      table?.set(key, n);
    }
    return n;
  }

  /** The profile of each address seen so far in captures labelled `label`. */
  private addressesSoFar(label: string): Map<string, number> {
    const addresses = new Map<string, number>();
    for (let g = 0; g < this.count; g++) {
      const { label: own, groups } = this.captures[this.firstInput[g]!]!;
      if (own === label) addresses.set(groups[this.firstGroup[g]!]!, g);
    }
    return addresses;
  }

  label(g: number): string {
    const { label, groups } = this.captures[this.firstInput[g]!]!;
    if (this.by === 'capture') return label;
    const group = groups[this.firstGroup[g]!]!;
    return this.by === 'client-ip' ? `${label}: ${group}` : group;
  }
}

/** A command's exchanges in one profile: how many, and the latencies of those measured, in a column of their own. */
interface NameLatencies {
  count: number;
  measured: Float64Array;
  filled: number;
}

const NO_LATENCIES = new Float64Array(0);

/**
 * A profile's latencies by command name, from its connections' exchanges (each connection's are together in its
 * capture's columns). Counted first, then filled: a profile of a large capture has hundreds of thousands, and lists of
 * them as arrays took twice the room, and their copies for sorting as much again.
 */
function latenciesOf(range: { start: number; end: number }, columns: ConnectionColumns, inputs: Input[]): Map<string, NameLatencies> {
  const byName = new Map<string, NameLatencies>();
  const each = (visit: (name: string, ms: number) => void) => {
    for (let at = range.start; at < range.end; at++) {
      const { strings, latencies, connections } = inputs[columns.input[at]!]!.behaviour;
      const row = columns.row[at]!;
      const first = connections.firstExchange[row]!;
      for (let e = first; e < first + connections.exchanges[row]!; e++) visit(strings[latencies.names[e]!]!, latencies.ms[e]!);
    }
  };
  each((name, ms) => {
    let n = byName.get(name);
    if (!n) byName.set(name, (n = { count: 0, measured: NO_LATENCIES, filled: 0 }));
    n.count++;
    if (!Number.isNaN(ms)) n.filled++;
  });
  for (const n of byName.values()) {
    n.measured = new Float64Array(n.filled);
    n.filled = 0;
  }
  each((name, ms) => {
    if (Number.isNaN(ms)) return;
    const n = byName.get(name)!;
    n.measured[n.filled++] = ms;
  });
  return byName;
}

/** A profile's figures over its range of the columns (its connections not yet in order). */
function figuresOf(
  range: { start: number; end: number }, columns: ConnectionColumns, inputs: Input[], latencies: Map<string, NameLatencies>,
): Omit<BehaviourProfile, 'label' | 'connections'> {
  const size = range.end - range.start;
  // Only to count the most open at once: one connection (or none) needs no sweep, and a few only their times.
  const lifetimes = size > FEW_LIFETIMES ? new LifetimeColumns(size) : null;
  const few: number[] | null = size > 1 && lifetimes === null ? [] : null;
  const traits = new Set<ConnectionTraits>();
  const bytes = { client: 0, server: 0 };
  for (let at = range.start; at < range.end; at++) {
    const { behaviour } = inputs[columns.input[at]!]!;
    const c = behaviour.connections;
    const row = columns.row[at]!;
    traits.add(behaviour.traits[c.traits[row]!]!);
    lifetimes?.push({ id: c.lifetimes.ids[row]!, ...rowTimes(c.lifetimes, row) });
    few?.push(c.lifetimes.startSec[row]!, c.lifetimes.startNsec[row]!, c.lifetimes.endSec[row]!, c.lifetimes.endNsec[row]!);
    bytes.client += c.clientBytes[row]!;
    bytes.server += c.serverBytes[row]!;
  }
  const extensions = new Set<string>();
  for (const t of traits) {
    for (const x of t.extensions) extensions.add(x);
    for (const x of t.enabled) extensions.add(`ENABLE ${x.toUpperCase()}`);
  }
  const distinctSorted = (values: (string | null)[]) => [...new Set(values.filter((x): x is string => x !== null))].sort();
  return {
    maxConcurrent: lifetimes ? openOverTime(lifetimes.take()).max : few ? mostOpenOfFew(few) : size,
    extensions: [...extensions].sort(),
    clientIds: distinctSorted([...traits].map((t) => t.clientName)),
    authMechanisms: distinctSorted([...traits].map((t) => t.authMechanism)),
    tls: [...traits].some((t) => t.tls),
    latency: latencyOf(latencies),
    bytes,
  };
}

/**
 * A range of the columns put in order of signature (commands, then item sets; compared as text), connections alike in
 * the order they are in. Each distinct pair of sequences is ranked once; connections that all did the same stay put.
 */
function orderByWhatTheyDid(sequences: Sequences, columns: ConnectionColumns, range: { start: number; end: number }): void {
  const commandClasses = columns.commandClasses.subarray(range.start, range.end);
  const fetchClasses = columns.fetchClasses.subarray(range.start, range.end);
  const count = sequences.values.length;
  const keyOf = (i: number) => commandClasses[i]! * count + fetchClasses[i]!;
  const firsts = new Map<number, number>();
  for (let i = 0; i < commandClasses.length; i++) if (!firsts.has(keyOf(i))) firsts.set(keyOf(i), i);
  // Connections that all did the same need no signature (one of 400,000 commands is a string of 15 MB).
  if (firsts.size <= 1) return;
  const signatures = new Map<number, string>();
  for (const [key, i] of firsts) signatures.set(key, signature({ commands: sequences.values[commandClasses[i]!]!, fetches: sequences.values[fetchClasses[i]!]! }));
  const keys = [...signatures.keys()].sort((x, y) => signatures.get(x)!.localeCompare(signatures.get(y)!));
  // Signatures the collation holds equal share a rank, so their connections stay in the order given, as a stable sort leaves them.
  const rank = new Map<number, number>();
  keys.forEach((key, k) => rank.set(key, k > 0 && signatures.get(keys[k - 1]!)!.localeCompare(signatures.get(key)!) === 0 ? rank.get(keys[k - 1]!)! : k));
  const ranks = Uint32Array.from({ length: commandClasses.length }, (_, i) => rank.get(keyOf(i))!);
  const order = Uint32Array.from({ length: ranks.length }, (_, i) => i).sort((x, y) => ranks[x]! - ranks[y]! || x - y);
  for (const column of Object.values(columns) as Uint32Array[]) {
    const part = column.subarray(range.start, range.end);
    part.set(permutedColumn(part, order));
  }
}

/** Per command, by name: how many, and the median and 95th percentile (nearest rank) of those measured (not NaN). */
function latencyOf(latencies: Map<string, NameLatencies>): BehaviourProfile['latency'] {
  const latency: BehaviourProfile['latency'] = {};
  for (const command of [...latencies.keys()].sort((x, y) => x.localeCompare(y))) {
    const { count, measured } = latencies.get(command)!;
    const sorted = measured.sort(); // in place: the column is the profile's own
    latency[command] = { count, medianMs: percentile(sorted, 50), p95Ms: percentile(sorted, 95) };
  }
  return latency;
}

export function signature(c: Pick<ConnectionProfile, 'commands' | 'fetches'>): string {
  return [...c.commands, '|', ...c.fetches].join('\n');
}
