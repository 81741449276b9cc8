import type { CaptureAnalysis } from '../analysis/analyzer.js';
import { concurrency } from '../analysis/concurrency.js';
import type { FetchStep } from '../analysis/fetches.js';
import { latencyMs, percentile } from '../analysis/stats.js';
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

/**
 * Behaviour profiles from analyses: one per capture, or per client IP or user across all of them.
 * Needs the analyses' exchanges (keepExchanges) and, for fetch strategy, the FETCH steps.
 */
export function buildProfiles(inputs: { label: string; analysis: CaptureAnalysis; steps: FetchStep[] }[], by: GroupBy): BehaviourProfile[] {
  const groups = new Map<string, { conns: ImapConnection[]; exchanges: Exchange[]; steps: FetchStep[] }>();
  for (const { label, analysis, steps } of inputs) {
    for (const c of analysis.connections) {
      const key = by === 'capture' ? label : by === 'client-ip' ? `${label}: ${c.conn.client.ip}` : `${c.user ?? '(no user)'}`;
      let g = groups.get(key);
      if (!g) groups.set(key, (g = { conns: [], exchanges: [], steps: [] }));
      g.conns.push(c);
      g.exchanges.push(...(analysis.exchanges ?? []).filter((e) => e.conn === c.conn.id));
      g.steps.push(...steps.filter((s) => s.conn === c.conn.id));
    }
    if (by === 'capture' && !groups.has(label)) groups.set(label, { conns: [], exchanges: [], steps: [] });
  }
  return [...groups.entries()].map(([label, g]) => profileOf(label, g.conns, g.exchanges, g.steps));
}

function profileOf(label: string, conns: ImapConnection[], exchanges: Exchange[], steps: FetchStep[]): BehaviourProfile {
  const connections = conns.map((c) => ({
    conn: c.conn.id,
    commands: exchanges.filter((e) => e.conn === c.conn.id && !e.requestMissing).map((e) => e.shape),
    fetches: steps.filter((s) => s.conn === c.conn.id).map((s) => s.items.join(' ')),
    bytes: { client: c.conn.stats.client.bytes, server: c.conn.stats.server.bytes },
  }));
  // Which connection reached the server first does not matter: order connections by what they did.
  connections.sort((a, b) => signature(a).localeCompare(signature(b)));
  const extensions = new Set<string>();
  for (const e of exchanges) for (const [re, name] of EXTENSION_MARKERS) if (re.test(e.shape)) extensions.add(name);
  for (const c of conns) for (const x of c.enabled) extensions.add(`ENABLE ${x.toUpperCase()}`);
  const latency: BehaviourProfile['latency'] = {};
  const byCommand = new Map<string, number[]>();
  for (const e of exchanges) {
    const ms = latencyMs(e);
    if (ms === null) continue;
    byCommand.set(e.command, [...(byCommand.get(e.command) ?? []), ms]);
  }
  for (const [cmd, values] of [...byCommand].sort()) {
    const sorted = values.sort((a, b) => a - b);
    latency[cmd] = { count: sorted.length, medianMs: percentile(sorted, 50), p95Ms: percentile(sorted, 95) };
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
