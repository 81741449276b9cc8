import type { CaptureAnalysis } from '../analysis/analyzer.js';
import { concurrency } from '../analysis/concurrency.js';
import type { FetchStep } from '../analysis/fetches.js';
import { CommandStats } from '../analysis/stats.js';
import type { Exchange, ImapConnection } from '../imap/model.js';
import { clientName } from '../report/summary.js';

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

/** Extensions a command shape shows the client using. */
const EXTENSION_MARKERS: [RegExp, string][] = [
  [/^ID\b/, 'ID'], [/^ENABLE\b/, 'ENABLE'], [/^COMPRESS\b/, 'COMPRESS'], [/^IDLE\b/, 'IDLE'], [/^NAMESPACE\b/, 'NAMESPACE'],
  [/^UNSELECT\b/, 'UNSELECT'], [/^(UID )?MOVE\b/, 'MOVE'], [/^STARTTLS\b/, 'STARTTLS'], [/\bCONDSTORE\b|\bCHANGEDSINCE\b|\bMODSEQ\b/, 'CONDSTORE'],
  [/\bQRESYNC\b|\bVANISHED\b/, 'QRESYNC'], [/^(UID )?SEARCH RETURN\b/, 'ESEARCH'], [/\bRETURN \(.*SPECIAL-USE/, 'SPECIAL-USE'], [/^XLIST\b/, 'XLIST'],
  [/\bX-GM-/, 'X-GM-EXT-1'], [/^GETQUOTA/, 'QUOTA'], [/^(UID )?(SORT|THREAD)\b/, 'SORT/THREAD'], [/\bBINARY\[/, 'BINARY'], [/^APPEND\b/, 'APPEND'],
];

/** One connection with what it did (kept together so connection ids of different captures never mix). */
interface Member {
  info: ImapConnection;
  exchanges: Exchange[];
  steps: FetchStep[];
}

/**
 * Behaviour profiles from analyses: one per capture, or per client IP or user across all of them.
 * Needs the analyses' exchanges (keepExchanges) and, for fetch strategy, the FETCH steps.
 */
export function buildProfiles(inputs: { label: string; analysis: CaptureAnalysis; steps: FetchStep[] }[], by: GroupBy): BehaviourProfile[] {
  const groups = new Map<string, Member[]>();
  for (const { label, analysis, steps } of inputs) {
    const exchanges = groupByConn(analysis.exchanges ?? []);
    const fetchSteps = groupByConn(steps);
    if (by === 'capture') groups.set(label, []);
    for (const c of analysis.connections) {
      const key = by === 'capture' ? label : by === 'client-ip' ? `${label}: ${c.conn.client.ip}` : `${c.user ?? '(no user)'}`;
      if (!groups.has(key)) groups.set(key, []);
      groups.get(key)!.push({ info: c, exchanges: exchanges.get(c.conn.id) ?? [], steps: fetchSteps.get(c.conn.id) ?? [] });
    }
  }
  return [...groups.entries()].map(([label, members]) => profileOf(label, members));
}

function groupByConn<T extends { conn: number }>(items: readonly T[]): Map<number, T[]> {
  const out = new Map<number, T[]>();
  for (const item of items) {
    const list = out.get(item.conn);
    if (list) list.push(item);
    else out.set(item.conn, [item]);
  }
  return out;
}

function profileOf(label: string, members: Member[]): BehaviourProfile {
  const conns = members.map((m) => m.info);
  const connections = members.map(({ info, exchanges, steps }) => ({
    conn: info.conn.id,
    commands: exchanges.filter((e) => !e.requestMissing).map((e) => e.shape),
    fetches: steps.map((s) => s.items.join(' ')),
    bytes: { client: info.conn.stats.client.bytes, server: info.conn.stats.server.bytes },
  }));
  // Which connection reached the server first does not matter: order connections by what they did.
  connections.sort((a, b) => signature(a).localeCompare(signature(b)));
  const extensions = new Set<string>();
  const stats = new CommandStats();
  for (const { exchanges } of members) {
    for (const e of exchanges) {
      stats.add(e);
      for (const [re, name] of EXTENSION_MARKERS) if (re.test(e.shape)) extensions.add(name);
    }
  }
  for (const c of conns) for (const x of c.enabled) extensions.add(`ENABLE ${x.toUpperCase()}`);
  const latency: BehaviourProfile['latency'] = {};
  for (const s of [...stats.summaries()].sort((x, y) => x.command.localeCompare(y.command))) {
    latency[s.command] = { count: s.count, medianMs: s.medianMs, p95Ms: s.p95Ms };
  }
  return {
    label,
    connections,
    maxConcurrent: concurrency(conns.map((c) => c.conn)).max,
    extensions: [...extensions].sort(),
    clientIds: [...new Set(conns.map((c) => clientName(c.clientId)).filter((x): x is string => x !== null))].sort(),
    authMechanisms: [...new Set(conns.map((c) => c.authMechanism).filter((x): x is string => x !== null))].sort(),
    tls: conns.some((c) => c.tls !== null),
    latency,
    bytes: conns.reduce((s, c) => ({ client: s.client + c.conn.stats.client.bytes, server: s.server + c.conn.stats.server.bytes }), { client: 0, server: 0 }),
  };
}

export function signature(c: ConnectionProfile): string {
  return [...c.commands, '|', ...c.fetches].join('\n');
}
