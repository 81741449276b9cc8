import { concurrency } from '../analysis/concurrency.js';
import { percentile } from '../analysis/stats.js';
import type { CaptureBehaviour, ConnectionBehaviour } from './behaviour.js';

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
  connections: ConnectionProfile[];
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

export type GroupBy = 'capture' | 'client-ip' | 'user';

/** One connection with the strings of its capture (so connection ids and strings of different captures never mix). */
interface Member {
  c: ConnectionBehaviour;
  strings: readonly string[];
}

/** Behaviour profiles from captures' behaviour: one per capture, or per client IP or user across all of them. */
export function buildProfiles(inputs: { label: string; behaviour: CaptureBehaviour }[], by: GroupBy): BehaviourProfile[] {
  const groups = new Map<string, Member[]>();
  for (const { label, behaviour } of inputs) {
    if (by === 'capture') groups.set(label, []);
    for (const c of behaviour.connections) {
      const key = by === 'capture' ? label : by === 'client-ip' ? `${label}: ${c.conn.client.ip}` : `${c.user ?? '(no user)'}`;
      if (!groups.has(key)) groups.set(key, []);
      groups.get(key)!.push({ c, strings: behaviour.strings });
    }
  }
  return [...groups.entries()].map(([label, members]) => profileOf(label, members));
}

function profileOf(label: string, members: Member[]): BehaviourProfile {
  const conns = members.map((m) => m.c);
  const connections = members.map(({ c, strings }) => ({
    conn: c.conn.id,
    commands: c.commands.map((n) => strings[n]!),
    fetches: c.fetches.map((n) => strings[n]!),
    bytes: { client: c.conn.stats.client.bytes, server: c.conn.stats.server.bytes },
  }));
  // Which connection reached the server first does not matter: order connections by what they did.
  connections.sort((a, b) => signature(a).localeCompare(signature(b)));
  const extensions = new Set<string>();
  for (const c of conns) {
    for (const x of c.extensions) extensions.add(x);
    for (const x of c.enabled) extensions.add(`ENABLE ${x.toUpperCase()}`);
  }
  return {
    label,
    connections,
    maxConcurrent: concurrency(conns.map((c) => c.conn)).max,
    extensions: [...extensions].sort(),
    clientIds: [...new Set(conns.map((c) => c.clientName).filter((x): x is string => x !== null))].sort(),
    authMechanisms: [...new Set(conns.map((c) => c.authMechanism).filter((x): x is string => x !== null))].sort(),
    tls: conns.some((c) => c.tls),
    latency: latencyOf(members),
    bytes: conns.reduce((s, c) => ({ client: s.client + c.conn.stats.client.bytes, server: s.server + c.conn.stats.server.bytes }), { client: 0, server: 0 }),
  };
}

/** Per command, by name: how many, and the median and 95th percentile (nearest rank) of those measured. */
function latencyOf(members: readonly Member[]): BehaviourProfile['latency'] {
  const byCommand = new Map<string, { count: number; measured: number[] }>();
  for (const { c, strings } of members) {
    c.names.forEach((n, i) => {
      const name = strings[n]!;
      let s = byCommand.get(name);
      if (!s) byCommand.set(name, (s = { count: 0, measured: [] }));
      s.count++;
      if (!Number.isNaN(c.latencies[i])) s.measured.push(c.latencies[i]!);
    });
  }
  const latency: BehaviourProfile['latency'] = {};
  for (const command of [...byCommand.keys()].sort((x, y) => x.localeCompare(y))) {
    const { count, measured } = byCommand.get(command)!;
    const sorted = Float64Array.from(measured).sort();
    latency[command] = { count, medianMs: percentile(sorted, 50), p95Ms: percentile(sorted, 95) };
  }
  return latency;
}

export function signature(c: ConnectionProfile): string {
  return [...c.commands, '|', ...c.fetches].join('\n');
}
