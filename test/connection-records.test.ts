/**
 * Every connection record is kept to the end of the capture, so what recurs across connections is kept
 * once: capability and flag lists, greetings, mailbox and user names are shared between records.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { analyzeCapture, type AnalyzeOptions } from '../src/analysis/analyzer.js';
import type { Exchange, ImapConnection } from '../src/imap/model.js';
import { KeyLog } from '../src/tls/keylog.js';
import { TcpFlow, writeCapture, type SynthPacket } from './helpers/synth.js';
import type { Segment } from '../src/decode/types.js';
import type { Connection } from '../src/tcp/types.js';
import { CAPTURES } from './helpers/env.js';

/** Pairs of records whose values of `pick` are equal in content. */
function equalPairs<T>(records: ImapConnection[], pick: (c: ImapConnection) => T | null | undefined): [T, T][] {
  const pairs: [T, T][] = [];
  for (let i = 0; i < records.length; i++) {
    for (let j = i + 1; j < records.length; j++) {
      const a = pick(records[i]!);
      const b = pick(records[j]!);
      if (a != null && b != null && JSON.stringify(a) === JSON.stringify(b)) pairs.push([a, b]);
    }
  }
  return pairs;
}

test('connections that were told the same capabilities and flags share one list (offlineimap, several connections)', async () => {
  const { connections } = await analyzeCapture(join(CAPTURES, 'offlineimap.pcapng'));
  const kinds = {
    capabilities: equalPairs(connections, (c) => (c.capabilities.length > 0 ? c.capabilities : null)),
    flags: equalPairs(connections, (c) => c.selected?.flags),
  };
  for (const [kind, pairs] of Object.entries(kinds)) {
    assert.ok(pairs.length > 0, `the capture has connections with equal ${kind}`);
    for (const [a, b] of pairs) assert.ok(a === b, `equal ${kind} are one shared value`);
  }
  // Strings are shared too (greetings, names), which JavaScript cannot observe; the lists must still be
  // what the server said.
  assert.ok(connections.every((c) => c.capabilities.length === 0 || c.capabilities.includes('IMAP4rev1')));
});

test('connections to one server share its endpoint; a list one connection learns stays its own', async () => {
  const { connections } = await analyzeCapture(join(CAPTURES, 'offlineimap.pcapng'));
  assert.ok(connections.length > 1);
  const server = connections[0]!.conn.server;
  for (const c of connections) {
    assert.deepEqual(c.conn.server, server);
    assert.ok(c.conn.server === server, `connection ${c.conn.id} shares the server's endpoint`);
  }
  // Records start from one shared empty list; one that learns mailboxes gets its own.
  const listing = connections.filter((c) => c.mailboxes.length > 0);
  const silent = connections.filter((c) => c.mailboxes.length === 0);
  assert.ok(listing.length > 0 && silent.length > 0, 'some connections listed mailboxes, some did not');
  for (const c of silent) assert.equal(c.mailboxes.length, 0);
  assert.equal(new Set(listing.map((c) => c.mailboxes)).size, listing.length, 'each listing connection has a list of its own');
  assert.ok(listing.every((c) => Object.isFrozen(c.mailboxes) === false));
});

test('a reader that keeps no connection records still counts every connection and what could not be read', async () => {
  // TLS without keys: the visibility notice is made from counts taken as each connection ends.
  for (const name of ['imaps-tls13.pcap', 'offlineimap.pcapng']) {
    const kept = await analyzeCapture(join(CAPTURES, name));
    const streamed = await analyzeCapture(join(CAPTURES, name), { keepConnections: false });
    assert.equal(streamed.connections.length, 0, `${name}: no records kept`);
    assert.ok(kept.connections.length > 0);
    assert.deepEqual(streamed.visibility, kept.visibility, `${name}: the same visibility`);
    assert.equal(streamed.visibility.imapConnections, kept.connections.length);
  }
  const tls = await analyzeCapture(join(CAPTURES, 'imaps-tls13.pcap'), { keepConnections: false });
  assert.equal(tls.visibility.encrypted, 1, 'the IMAPS connection without keys is counted as unreadable');
  assert.match(tls.visibility.notice ?? '', /TLS-encrypted and could not be read/);
});

/**
 * Ids of the records still alive among `ids`. A function of its own: a record looked at in the async test body
 * would stay in its suspended frame across the next await, and so be held by the test itself.
 */
function heldIds(records: WeakRef<Connection>[], ids: number[]): number[] {
  return records.map((r) => r.deref()?.id).filter((id): id is number => id !== undefined && ids.includes(id));
}

test('a closed connection whose record nobody keeps is freed while the capture is still read (offlineimap)', async () => {
  const { readCapture } = await import('../src/capture/reader.js');
  const { PacketDecoder } = await import('../src/decode/decoder.js');
  const { TcpTracker } = await import('../src/tcp/tracker.js');
  const { collectGarbage } = await import('./helpers/gc.js');
  // The capture's segments, read first, so that the tracker below can be fed one by one between turns of the
  // event loop (a weakly held object stays alive until the turn that saw it ends).
  const segments: Segment[] = [];
  const decoder = new PacketDecoder(() => {});
  await readCapture(join(CAPTURES, 'offlineimap.pcapng'), (frame) => {
    const seg = decoder.decode(frame);
    if (seg) segments.push(seg);
  }, () => {});
  const records: WeakRef<Connection>[] = [];
  const closed: number[] = [];
  const tracker = new TcpTracker({
    open: (conn) => { records.push(new WeakRef(conn)); },
    data: () => {},
    gap: () => {},
    close: (conn) => { closed.push(conn.id); },
  }, () => {}, { ports: new Set([143]), maxHeldBytes: 1 << 20 });
  let checked = 0;
  for (const seg of segments) {
    tracker.segment(seg);
    if (closed.length === checked) continue;
    checked = closed.length;
    await collectGarbage();
    // Every record of a connection that closed before this one is gone: the tracker (still reading) holds none.
    assert.deepEqual(heldIds(records, closed.slice(0, -1)), [], 'records of connections closed earlier are held');
  }
  assert.ok(checked > 2, 'several connections closed while the capture was read');
  tracker.end();
});

/**
 * What the analysis reports per connection, read as a streaming view reads it (no records kept: a session is made at a
 * connection's first byte, gap or close) and as the library keeps it (every session made at the open).
 */
async function bothWays(path: string, options: AnalyzeOptions = {}): Promise<{ atOpen: unknown; atFirstByte: unknown }> {
  const run = async (keepConnections: boolean) => {
    const closed: ImapConnection[] = [];
    const exchanges: Exchange[] = [];
    const analysis = await analyzeCapture(path, { ...options, keepConnections, onConnectionClose: (c) => { closed.push(c); }, onExchange: (ex) => { exchanges.push(ex); } });
    if (keepConnections) assert.deepEqual(closed.map((c) => c.conn.id).sort((a, b) => a - b), analysis.connections.map((c) => c.conn.id));
    return { closed, exchanges, warnings: analysis.warnings, visibility: analysis.visibility };
  };
  return { atOpen: await run(true), atFirstByte: await run(false) };
}

test('sessions made at a connection\'s first byte report what sessions made at its open report (every recording, and SYNs that never carry one)', async () => {
  for (const name of ['seed-alice.pcap', 'seed-bob.pcap', 'curl.pcap', 'fetchmail.pcap', 'mbsync.pcap', 'append-idle.pcap', 'offlineimap.pcapng']) {
    const { atOpen, atFirstByte } = await bothWays(join(CAPTURES, name));
    assert.deepEqual(atFirstByte, atOpen, name);
  }
  for (const name of ['imaps-tls13', 'starttls-tls12']) {
    const keys = KeyLog.parse(readFileSync(join(CAPTURES, `${name}.keys`), 'utf8'));
    const { atOpen, atFirstByte } = await bothWays(join(CAPTURES, `${name}.pcap`), { keys });
    assert.deepEqual(atFirstByte, atOpen, name);
  }
  // SYNs never answered, one answered by a reset, a connection the capture joined midway, one that speaks, one the
  // view does not follow (connections: only the even ids), and one whose first bytes the capture lost (a gap first).
  const flows = Array.from({ length: 7 }, (_, i) => new TcpFlow({ client: { ip: `10.0.0.${i + 1}`, port: 40000 + i }, server: { ip: '192.0.2.1', port: 143 }, start: 1_700_000_000 + i }));
  const [syn0, syn1, reset, midway, speaks, unfollowed, gapFirst] = flows as [TcpFlow, TcpFlow, TcpFlow, TcpFlow, TcpFlow, TcpFlow, TcpFlow];
  const packets: SynthPacket[] = [syn0.handshake()[0]!, syn1.handshake()[0]!, reset.handshake()[0]!, ...reset.close('rst', 'server'),
    ...midway.send('client', 'a1 NOOP\r\n'), ...midway.send('server', 'a1 OK done\r\n'),
    ...speaks.handshake(), ...speaks.send('server', '* OK ready\r\n'), ...speaks.send('client', 'a1 LOGIN u p\r\n'), ...speaks.send('server', 'a1 OK in\r\n'),
    ...unfollowed.handshake(), ...unfollowed.send('server', '* OK ready\r\n'), ...speaks.close('fin'),
    ...gapFirst.handshake(), ...gapFirst.send('server', `* OK ${'x'.repeat(3000)}\r\n`, (i) => (i === 0 ? 'unseen' : 'ok')),
    ...gapFirst.send('client', 'a1 NOOP\r\n'), ...gapFirst.send('server', 'a1 OK done\r\n')];
  const dir = mkdtempSync(join(tmpdir(), 'imapscope-first-byte-'));
  try {
    const path = join(dir, 'syns.pcap');
    writeCapture(path, { format: 'pcap', packets });
    const { atOpen, atFirstByte } = await bothWays(path, { connections: (c) => c.id % 2 === 0 || c.id === 3 });
    assert.deepEqual(atFirstByte, atOpen);
    const reported = (atFirstByte as { closed: ImapConnection[] }).closed;
    assert.deepEqual(reported.map((c) => [c.conn.id, c.conn.state, c.greeting?.text ?? null]).sort(),
      [[0, 'open', null], [2, 'reset', null], [3, 'open', null], [4, 'closed', 'ready'], [6, 'open', null]]);
    const gapped = reported.find((c) => c.conn.id === 6)!;
    assert.deepEqual([gapped.commands, gapped.conn.stats.server.gaps], [1, 1], 'the gap came first, then the exchange, to one session');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
