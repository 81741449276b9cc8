/**
 * Waits that are not latency: IDLE's idle period, the upload of an APPEND after "+", the client's SASL
 * answers. Checked on captures/append-idle.pcap against frame times tshark reads from the same file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { CAPTURES, CLI, NO_TSHARK, hasTshark, tshark, unavailable } from './helpers/env.js';
import { TcpFlow, writeCapture, type SynthPacket } from './helpers/synth.js';
import { analyzeCapture } from '../src/analysis/analyzer.js';

const CAP = join(CAPTURES, 'append-idle.pcap');

interface Segment { frame: number; time: number; stream: number; text: string }

/** Every TCP segment with payload: frame, epoch time (µs precision as text), stream and payload text. */
function segments(): Segment[] {
  return tshark(['-r', CAP, '-Y', 'tcp.len > 0', '-T', 'fields', '-e', 'frame.number', '-e', 'frame.time_epoch', '-e', 'tcp.stream', '-e', 'tcp.payload'])
    .trim().split('\n').map((l) => {
      const [frame, time, stream, hex] = l.split('\t');
      return { frame: Number(frame), time: Number(time), stream: Number(stream), text: Buffer.from(hex!.replace(/:/g, ''), 'hex').toString('latin1') };
    });
}

function json(args: string[]): any {
  const r = spawnSync(process.execPath, [CLI, ...args, CAP], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

const close = (actual: number | null, expected: number, what: string) =>
  assert.ok(actual !== null && Math.abs(actual - expected) < 0.002, `${what}: ${actual} ms, expected ${expected.toFixed(3)} ms`);

test('IDLE: latency is the time to "+ idling"; the idle period, the push and the client\'s reaction are reported apart', { skip: unavailable(!hasTshark && NO_TSHARK) }, () => {
  const seg = segments();
  const at = (re: RegExp) => seg.find((s) => re.test(s.text)) ?? assert.fail(`no segment ${re}`);
  const idle = at(/^X7 IDLE/);
  const idling = seg.find((s) => s.stream === idle.stream && s.frame > idle.frame && /^\+ idling/.test(s.text))!;
  const push = seg.find((s) => s.stream === idle.stream && s.frame > idling.frame && /^\* \d+ EXISTS/.test(s.text))!;
  const done = at(/^DONE/);
  const next = at(/^X8 LOGOUT/);
  const ms = (a: Segment, b: Segment) => (b.time - a.time) * 1000;

  const exchanges = json(['commands', '--json']).exchanges as { tag: string; latencyMs: number }[];
  close(exchanges.find((e) => e.tag === 'X7')!.latencyMs, ms(idle, idling), 'IDLE latency');

  const summary = json(['summary', '--json']);
  assert.equal(summary.idle.count, 1);
  assert.deepEqual(summary.idle.pushed, { EXISTS: 1 });
  close(summary.idle.medianMs, ms(idling, done), 'idle period');
  close(summary.idle.longestMs, ms(idling, done), 'longest idle period');
  close(summary.idle.reactionToDoneMs, ms(push, done), 'push to DONE');
  close(summary.idle.reactionToNextCommandMs, ms(push, next), 'push to next command');
  const idleStats = summary.commands.find((c: { command: string }) => c.command === 'IDLE');
  close(idleStats.maxMs, ms(idle, idling), 'IDLE in the latency table');
});

test('APPEND: the server\'s time is the wait for "+" plus the wait after the upload, not the upload', { skip: unavailable(!hasTshark && NO_TSHARK) }, () => {
  const seg = segments();
  const append = seg.find((s) => /^X3 APPEND/.test(s.text))!;
  const plus = seg.find((s) => s.stream === append.stream && s.frame > append.frame && /^\+/.test(s.text))!;
  const ok = seg.find((s) => /X3 OK/.test(s.text))!;
  const lastUpload = seg.filter((s) => s.stream === append.stream && s.frame > plus.frame && s.frame < ok.frame && !/^[*+]|OK/.test(s.text)).pop()!;
  const ms = (a: Segment, b: Segment) => (b.time - a.time) * 1000;
  const x3 = (json(['commands', '--json']).exchanges as { tag: string; latencyMs: number }[]).find((e) => e.tag === 'X3')!;
  close(x3.latencyMs, ms(append, plus) + ms(lastUpload, ok), 'APPEND latency');
  assert.ok(x3.latencyMs < ms(append, ok), 'the upload is not part of the latency');

  const turns = json(['summary', '--json']).turns as { command: string; count: number; withContinuation: number; roundTrips: number }[];
  const appendTurns = turns.find((t) => t.command === 'APPEND')!;
  // X3 and Y3 waited for "+"; X4 used a non-synchronizing literal; X5's literal was refused.
  assert.equal(appendTurns.count, 4);
  assert.equal(appendTurns.withContinuation, 2);
  assert.equal(turns.find((t) => t.command === 'AUTHENTICATE')!.roundTrips, 1);
});

test('an IDLE a connection ended with waits for no next command: the statistics keep nothing of connections gone', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'imapscope-idle-end-'));
  try {
    // 50 sessions that go away while idling (a phone), then one that sends a command after its IDLE.
    const packets: SynthPacket[] = [];
    for (let i = 0; i <= 50; i++) {
      const f = new TcpFlow({ client: { ip: `10.0.0.${i + 1}`, port: 40000 }, server: { ip: '10.0.1.1', port: 143 }, start: 1_700_000_000 + i, rtt: 0.001 });
      packets.push(...f.handshake(), ...f.send('server', '* OK ready\r\n'), ...f.send('client', 'a1 IDLE\r\n'), ...f.send('server', '+ idling\r\n'), ...f.send('server', '* 4 EXISTS\r\n'));
      if (i === 50) packets.push(...f.send('client', 'DONE\r\n'), ...f.send('server', 'a1 OK done\r\n'), ...f.send('client', 'a2 NOOP\r\n'), ...f.send('server', 'a2 OK done\r\n'));
      packets.push(...f.close('fin', 'client'));
    }
    const path = join(dir, 'idle-end.pcap');
    writeCapture(path, { format: 'pcap', packets: packets.sort((a, b) => Number(a.t) - Number(b.t)) });
    const a = await analyzeCapture(path, { keepConnections: false });
    const idle = a.turnStats.idle();
    assert.equal(idle.count, 51);
    assert.deepEqual(idle.pushed, { EXISTS: 51 });
    assert.ok(idle.reactionToNextCommandMs !== null, 'the session that went on is measured');
    assert.equal((a.turnStats as unknown as { awaitingNext: Map<number, unknown> }).awaitingNext.size, 0, 'no IDLE of a connection gone still waits');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
