/**
 * `imapscope check`: every rule passing and failing on the project's recorded captures, the rules-file
 * loader (JSON and YAML, strict validation), the option parsing (commander's negatable --no-bad), the
 * JUnit XML checked for well-formedness and shape, and exit codes from real child processes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { analyzeCapture, type CaptureAnalysis } from '../src/analysis/analyzer.js';
import { latencyMs } from '../src/analysis/stats.js';
import { evaluate, evaluateRule, MAX_FAILURES, type CheckReport, type Rule } from '../src/check/rules.js';
import { loadRulesFile, parseRules } from '../src/check/load.js';
import { junitXml, xmlEscape } from '../src/check/junit.js';
import { registerCheck } from '../src/cli/commands/check.js';
import { annotations, rulesFromOptions, type CheckOptions } from '../src/cli/run/check.js';
import { UsageError } from '../src/cli/errors.js';
import { RulesError } from '../src/check/errors.js';
import { CAPTURES, CLI, ROOT } from './helpers/env.js';

const RULES = join(ROOT, 'test', 'fixtures', 'rules');
const cap = (name: string) => join(CAPTURES, name);

const cache = new Map<string, Promise<CaptureAnalysis>>();
function analysis(path: string): Promise<CaptureAnalysis> {
  let p = cache.get(path);
  if (!p) {
    p = analyzeCapture(path, { ports: [143, 993], keepExchanges: true });
    cache.set(path, p);
  }
  return p;
}

async function check(rule: Rule, name: string) {
  return evaluateRule(rule, await analysis(cap(name)));
}

/** A copy of a classic pcap with only its first `frames` records (a capture stopped mid-session). */
function truncatedPcap(src: string, frames: number, dest: string): void {
  const buf = readFileSync(src);
  const magic = buf.readUInt32LE(0);
  const le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  let off = 24;
  for (let i = 0; i < frames; i++) {
    const incl = le ? buf.readUInt32LE(off + 8) : buf.readUInt32BE(off + 8);
    off += 16 + incl;
  }
  writeFileSync(dest, buf.subarray(0, off));
}

const tmp = mkdtempSync(join(tmpdir(), 'imapscope-check-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

// ---------------------------------------------------------------------------------------------- rules

test('max-connections: seed-alice has 3; a limit of 2 names the third connection and the frame it opened', async () => {
  assert.equal((await check({ kind: 'max-connections', max: 3 }, 'seed-alice.pcap')).passed, true);
  assert.equal((await check({ kind: 'max-connections', max: 3 }, 'offlineimap.pcapng')).passed, true);
  const r = await check({ kind: 'max-connections', max: 2 }, 'seed-alice.pcap');
  assert.equal(r.passed, false);
  assert.equal(r.failures.length, 1);
  const a = await analysis(cap('seed-alice.pcap'));
  const third = a.connections[2]!;
  assert.equal(r.failures[0]!.conn, third.conn.id);
  assert.equal(r.failures[0]!.requestFrame, third.conn.firstFrame);
  assert.match(r.message, /3 IMAP connections/);
});

test('max-concurrent: seed-alice peaks at 2 (A and B), offlineimap at 3; the failure names who was open', async () => {
  assert.equal((await check({ kind: 'max-concurrent', max: 2 }, 'seed-alice.pcap')).passed, true);
  const r = await check({ kind: 'max-concurrent', max: 1 }, 'seed-alice.pcap');
  assert.equal(r.passed, false);
  assert.equal(r.failures.length, 1, 'only B opened while another was open; C came after A ended');
  assert.equal(r.failures[0]!.conn, 1);
  assert.match(r.failures[0]!.detail, /while connection 0 was open \(2 at once\)/);
  assert.equal((await check({ kind: 'max-concurrent', max: 3 }, 'offlineimap.pcapng')).passed, true);
  const o = await check({ kind: 'max-concurrent', max: 2 }, 'offlineimap.pcapng');
  assert.equal(o.passed, false);
  assert.match(o.failures[0]!.detail, /\(3 at once\)/);
});

test('no-bad: seed-alice passes; append-idle fails at the FETCH answered BAD, with tag and frames', async () => {
  assert.equal((await check({ kind: 'no-bad' }, 'seed-alice.pcap')).passed, true);
  const r = await check({ kind: 'no-bad' }, 'append-idle.pcap');
  assert.equal(r.passed, false);
  assert.equal(r.failures.length, 1);
  const f = r.failures[0]!;
  const ex = (await analysis(cap('append-idle.pcap'))).exchanges!.find((e) => e.status === 'BAD')!;
  assert.deepEqual(
    { conn: f.conn, tag: f.tag, command: f.command, requestFrame: f.requestFrame, responseFrame: f.responseFrame },
    { conn: ex.conn, tag: 'X6', command: 'FETCH', requestFrame: ex.requestFrame, responseFrame: ex.responseFrame },
  );
  assert.ok(f.requestFrame! > 0 && f.responseFrame! > f.requestFrame!);
  assert.match(f.detail, /^BAD /);
});

test('no-no: append-idle\'s APPEND to a missing mailbox fails it, unless APPEND is excepted', async () => {
  assert.equal((await check({ kind: 'no-no', except: [] }, 'seed-alice.pcap')).passed, true);
  const r = await check({ kind: 'no-no', except: [] }, 'append-idle.pcap');
  assert.equal(r.passed, false);
  assert.equal(r.failures[0]!.command, 'APPEND');
  assert.equal(r.failures[0]!.tag, 'X5');
  assert.match(r.failures[0]!.detail, /^NO \[TRYCREATE\]/);
  const ok = await check({ kind: 'no-no', except: ['APPEND'] }, 'append-idle.pcap');
  assert.equal(ok.passed, true);
  assert.match(ok.message, /1 NO to APPEND allowed/);
});

test('all-completed: whole captures pass; a capture cut mid-session fails at the unanswered command', async () => {
  assert.equal((await check({ kind: 'all-completed' }, 'seed-alice.pcap')).passed, true);
  assert.equal((await check({ kind: 'all-completed' }, 'append-idle.pcap')).passed, true);
  const a = await analysis(cap('seed-alice.pcap'));
  // Cut after the request of A16 UID FETCH, before its tagged response.
  const fetch = a.exchanges!.find((e) => e.tag === 'A16')!;
  const cut = join(tmp, 'seed-alice-cut.pcap');
  truncatedPcap(cap('seed-alice.pcap'), fetch.requestFrame!, cut);
  const r = evaluateRule({ kind: 'all-completed' }, await analyzeCapture(cut, { keepExchanges: true }));
  assert.equal(r.passed, false);
  assert.equal(r.failures.length, 1);
  assert.deepEqual([r.failures[0]!.tag, r.failures[0]!.command, r.failures[0]!.requestFrame, r.failures[0]!.responseFrame], ['A16', 'UID FETCH', fetch.requestFrame, null]);
});

test('no-plaintext-auth: TLS captures pass; LOGIN (seed-alice) and AUTHENTICATE PLAIN (curl) fail at the auth command', async () => {
  assert.equal((await check({ kind: 'no-plaintext-auth' }, 'starttls-tls12.pcap')).passed, true);
  assert.equal((await check({ kind: 'no-plaintext-auth' }, 'imaps-tls13.pcap')).passed, true);
  const s = await check({ kind: 'no-plaintext-auth' }, 'seed-alice.pcap');
  assert.equal(s.passed, false);
  assert.deepEqual(s.failures.map((f) => [f.conn, f.tag, f.command]), [[0, 'A2', 'LOGIN'], [1, 'B2', 'LOGIN'], [2, 'C2', 'LOGIN']]);
  const c = await check({ kind: 'no-plaintext-auth' }, 'curl.pcap');
  assert.equal(c.failures.length, 5);
  assert.ok(c.failures.every((f) => f.command === 'AUTHENTICATE' && f.tag === 'A002' && f.requestFrame !== null));
  assert.match(c.failures[0]!.detail, /PLAIN sent without TLS/);
});

test('latency: percentile and max bounds per command; failures list the slow commands, slowest first', async () => {
  const a = await analysis(cap('seed-alice.pcap'));
  const pass = evaluateRule({ kind: 'latency', command: 'SELECT', stat: { kind: 'percentile', p: 95 }, maxMs: 10_000 }, a);
  assert.equal(pass.passed, true);
  assert.match(pass.message, /SELECT p95 [\d.]+ ms over 7 commands/);
  const fail = evaluateRule({ kind: 'latency', command: 'UID FETCH', stat: { kind: 'max' }, maxMs: 0.001 }, a);
  assert.equal(fail.passed, false);
  assert.equal(fail.failures.length, 5, 'every UID FETCH took more than 1 µs');
  const took = fail.failures.map((f) => Number(/took ([\d.]+) ms/.exec(f.detail)![1]));
  assert.deepEqual(took, [...took].sort((x, y) => y - x));
  assert.ok(fail.failures.every((f) => f.command === 'UID FETCH' && f.requestFrame !== null && f.responseFrame !== null));
  // A percentile over its bound lists only the commands above the bound.
  const ms = a.exchanges!.filter((e) => e.command === 'UID FETCH').map((e) => latencyMs(e)!).sort((x, y) => x - y);
  const between = (ms[1]! + ms[2]!) / 2; // the nearest-rank median of 5 is the 3rd: just above this bound
  const median = evaluateRule({ kind: 'latency', command: 'UID FETCH', stat: { kind: 'percentile', p: 50 }, maxMs: between }, a);
  assert.equal(median.passed, false);
  assert.equal(median.failures.length, 3);
  assert.equal(evaluateRule({ kind: 'latency', command: 'UID FETCH', stat: { kind: 'percentile', p: 50 }, maxMs: ms[2]! }, a).passed, true, 'the bound is inclusive');
  // A bound on a command the capture lacks holds (require-command says whether it must be there).
  assert.equal(evaluateRule({ kind: 'latency', command: 'MOVE', stat: { kind: 'max' }, maxMs: 1 }, a).passed, true);
});

test('require-command / forbid-command: COMPRESS is in mbsync, not in seed-alice', async () => {
  assert.equal((await check({ kind: 'require-command', command: 'COMPRESS' }, 'mbsync.pcap')).passed, true);
  const missing = await check({ kind: 'require-command', command: 'COMPRESS' }, 'seed-alice.pcap');
  assert.equal(missing.passed, false);
  assert.equal(missing.failures.length, 1);
  assert.equal(missing.failures[0]!.conn, null);
  assert.equal((await check({ kind: 'forbid-command', command: 'COMPRESS' }, 'seed-alice.pcap')).passed, true);
  const forbidden = await check({ kind: 'forbid-command', command: 'COMPRESS' }, 'mbsync.pcap');
  assert.equal(forbidden.passed, false);
  assert.deepEqual([forbidden.failures[0]!.tag, forbidden.failures[0]!.command, forbidden.failures[0]!.conn], ['2', 'COMPRESS', 0]);
});

test('require-capability: IDLE is announced; STARTTLS is not (after login); nothing is visible in IMAPS', async () => {
  assert.equal((await check({ kind: 'require-capability', capability: 'idle' }, 'seed-alice.pcap')).passed, true, 'case-insensitive');
  assert.equal((await check({ kind: 'require-capability', capability: 'STARTTLS' }, 'starttls-tls12.pcap')).passed, true);
  const r = await check({ kind: 'require-capability', capability: 'STARTTLS' }, 'seed-alice.pcap');
  assert.equal(r.passed, false);
  assert.equal(r.failures.length, 3);
  assert.ok(r.failures.every((f) => f.command === 'CAPABILITY' && f.responseFrame !== null), 'points at the CAPABILITY exchange');
  const tls = await check({ kind: 'require-capability', capability: 'IDLE' }, 'imaps-tls13.pcap');
  assert.equal(tls.passed, false, 'cannot be verified, so it does not hold');
  assert.match(tls.message, /no server capabilities visible/);
});

test('sequences: ordered subsequence in one connection, required or forbidden', async () => {
  const seq = (commands: string[], present: boolean): Rule => ({ kind: 'sequence', commands, present });
  assert.equal((await check(seq(['CAPABILITY', 'LOGIN', 'SELECT'], true), 'seed-alice.pcap')).passed, true);
  assert.equal((await check(seq(['LOGIN', 'COMPRESS', 'UID FETCH'], true), 'mbsync.pcap')).passed, true);
  // EXAMINE then SELECT happens in no single connection of seed-alice (C examines and never selects).
  const r = await check(seq(['LOGIN', 'EXAMINE', 'SELECT'], true), 'seed-alice.pcap');
  assert.equal(r.passed, false);
  assert.equal(r.failures[0]!.conn, 2);
  assert.equal(r.failures[0]!.tag, 'C5');
  assert.match(r.failures[0]!.detail, /then no SELECT/);
  // Order matters: LOGIN before CAPABILITY appears nowhere (each connection asks CAPABILITY first, only once).
  assert.equal((await check(seq(['LOGIN', 'CAPABILITY'], true), 'seed-alice.pcap')).passed, false);
  // Forbidden: SELECT then UID FETCH happens on conns 0 and 1.
  assert.equal((await check(seq(['SELECT', 'EXPUNGE'], false), 'seed-alice.pcap')).passed, true);
  const f = await check(seq(['SELECT', 'UID FETCH'], false), 'seed-alice.pcap');
  assert.equal(f.passed, false);
  assert.deepEqual(f.failures.map((x) => x.conn).sort(), [0, 1]);
  assert.ok(f.failures.every((x) => x.command === 'UID FETCH' && x.requestFrame !== null));
});

test('several captures: a rule passes only when it holds in each; failures name their capture', async () => {
  const report = evaluate([{ kind: 'no-bad' }, { kind: 'max-connections', max: 3 }], [await analysis(cap('seed-alice.pcap')), await analysis(cap('append-idle.pcap'))]);
  assert.equal(report.passed, false);
  const [noBad, maxConn] = report.results;
  assert.equal(noBad!.passed, false);
  assert.deepEqual(noBad!.failures.map((f) => f.capture), [cap('append-idle.pcap')]);
  assert.equal(noBad!.captures.length, 2);
  assert.equal(maxConn!.passed, true);
});

test('failures are capped per rule and capture, the count kept', async () => {
  const a = await analysis(cap('seed-alice.pcap'));
  const many = { ...a, exchanges: Array.from({ length: MAX_FAILURES + 5 }, (_, i) => ({ ...a.exchanges![0]!, tag: `Z${i}`, status: 'BAD' as const })) };
  const r = evaluateRule({ kind: 'no-bad' }, many);
  assert.equal(r.failures.length, MAX_FAILURES);
  assert.equal(r.failureCount, MAX_FAILURES + 5);
  assert.match(r.message, /first 100 listed/);
});

test('max-concurrent with many open at once: the first failures listed, each naming the ten lowest ids open and counting the rest', async () => {
  const a = await analysis(cap('seed-alice.pcap'));
  const base = a.connections[0]!;
  const n = MAX_FAILURES + 50;
  // Ids in another order than the starts, so the lowest open ids are not simply the first opened.
  const idOf = (i: number) => (i * 7) % n;
  const connections = Array.from({ length: n }, (_, i) => ({
    ...base, conn: { ...base.conn, id: idOf(i), firstFrame: i + 1, start: { sec: 1000 + i, nsec: 0, digits: 6 }, end: { sec: 9000, nsec: 0, digits: 6 } },
  }));
  const r = evaluateRule({ kind: 'max-concurrent', max: 1 }, { ...a, connections });
  assert.equal(r.failureCount, n - 1);
  assert.equal(r.failures.length, MAX_FAILURES);
  assert.match(r.message, new RegExp(`${n} connections open at once .*; ${n - 1} connections opened over the bound \\(first 100 listed\\)`));
  r.failures.forEach((f, k) => {
    const others = Array.from({ length: k + 1 }, (_, j) => idOf(j)).sort((x, y) => x - y);
    const names = others.length <= 10 ? others.join(', ') : `${others.slice(0, 10).join(', ')} and ${others.length - 10} more`;
    assert.equal(f.conn, idOf(k + 1));
    assert.equal(f.detail, `opened at frame ${k + 2} while ${k === 0 ? 'connection' : 'connections'} ${names} ${k === 0 ? 'was' : 'were'} open (${k + 2} at once)`);
  });
});

// ------------------------------------------------------------------------------------------ rules file

test('rules file: the YAML and JSON forms of the same rules load the same, and all hold on seed-alice', async () => {
  const yaml = loadRulesFile(join(RULES, 'desktop-client.yaml'));
  const json = loadRulesFile(join(RULES, 'desktop-client.json'));
  assert.deepEqual(yaml, json);
  assert.equal(yaml.length, 19);
  assert.deepEqual(yaml.find((r) => r.kind === 'sequence'), { kind: 'sequence', commands: ['CAPABILITY', 'LOGIN', 'SELECT'], present: true, name: 'login then select' });
  assert.deepEqual(yaml.filter((r) => r.kind === 'latency' && r.command === 'LOGIN'), [{ kind: 'latency', command: 'LOGIN', stat: { kind: 'max' }, maxMs: 5000 }]);
  const report = evaluate(yaml, [await analysis(cap('seed-alice.pcap'))]);
  assert.deepEqual(report.results.filter((r) => !r.passed).map((r) => r.message), []);
});

test('rules file: every mistake is a RulesError (not a command-line class) naming the file and the place', () => {
  const bad: [string, RegExp][] = [
    ['invalid-unknown-key.yaml', /invalid-unknown-key\.yaml: maxConnection: unknown rule/],
    ['invalid-syntax.yaml', /invalid-syntax\.yaml: invalid YAML: .*line \d+/],
    ['invalid-value.json', /invalid-value\.json: maxConcurrent: expected a whole number >= 0, got -1/],
    ['invalid-stat.yaml', /latency\.SELECT\.median: unknown statistic/],
  ];
  for (const [file, re] of bad) {
    assert.throws(() => loadRulesFile(join(RULES, file)), (e: unknown) => e instanceof RulesError && !(e instanceof UsageError) && re.test(e.message) && !e.message.includes('\n'), file);
  }
  assert.throws(() => loadRulesFile(join(RULES, 'nope.yaml')), /cannot read rules file .*no such file/);
  assert.throws(() => loadRulesFile(RULES), /is a directory/);
  const cases: [string, RegExp][] = [
    ['', /is empty/],
    ['- noBad', /mapping of rules/],
    ['noBad: yes', /noBad: expected true or false/],
    ['noBad: true\nnoBad: false', /invalid YAML/],
    ['requireSequences: [[]]', /requireSequences\[0\]: an empty sequence/],
    ['requireSequences: [{cmds: [A]}]', /requireSequences\[0\]\.cmds: unknown key/],
    ['noNo: {except: APPEND}', /noNo\.except: expected a list/],
    ['latency: {SELECT: {p0: 5}}', /unknown statistic 'p0'/],
    ['latency: {SELECT: {p95: -1}}', /expected milliseconds/],
    ['version: 2', /only version 1/],
    ['a: &a [*a]', /invalid YAML|unknown rule/],
    ['? [noBad]\n: true', /invalid YAML: a key must be text, not a list, a mapping or binary data \(line 1\)/],
    ['noBad: true\nlatency:\n  ? {SELECT: 1}\n  : {p95: 5}', /invalid YAML: a key must be text, not a list, a mapping or binary data \(line 3\)/],
    ['a: &x [1]\n? *x\n: 1', /invalid YAML: a key must be text, not a list, a mapping or binary data \(line 2\)/],
    ['latency:\n  SELECT: {!!binary , median: 10}', /invalid YAML: a key must be text, not a list, a mapping or binary data \(line 2\)/],
  ];
  for (const [text, re] of cases) assert.throws(() => parseRules(text, 'r.yaml'), (e: unknown) => e instanceof RulesError && re.test(e.message), text);
  assert.throws(() => parseRules('{"noBad": tru}', 'r.json'), /r\.json: invalid JSON/);
  // A name from the file is escaped: the error stays one line.
  assert.throws(() => parseRules('{"no\\nBad": true, "latency": {"SELECT": {"p\\n9": 1}}}', 'r.json'), (e: unknown) => e instanceof RulesError && e.message === 'rules file r.json: no\\nBad: unknown rule (known: maxConnections, maxConcurrent, noBad, noNo, allCompleted, noPlaintextAuth, latency, requireCommands, forbidCommands, requireCapabilities, requireSequences, forbidSequences)');
  assert.throws(() => parseRules('{"latency": {"SELECT": {"p\\n9": 1}}}', 'r.json'), (e: unknown) => e instanceof RulesError && !e.message.includes('\n') && /unknown statistic 'p\\n9'/.test(e.message));
  assert.deepEqual(parseRules('latency: {"uid  fetch": {P99.9: 40}}', 'r.yml'), [{ kind: 'latency', command: 'UID FETCH', stat: { kind: 'percentile', p: 99.9 }, maxMs: 40 }]);
});

// ----------------------------------------------------------------------------------------- options

function parsedRules(args: string[]): Rule[] {
  const program = new Command('imapscope').exitOverride();
  registerCheck(program);
  const cmd = program.commands.find((c) => c.name() === 'check')!;
  cmd.exitOverride();
  let captured: CheckOptions | undefined;
  cmd.action((_captures: string[], opts: CheckOptions) => { captured = opts; });
  program.parse(['check', 'x.pcap', ...args], { from: 'user' });
  return rulesFromOptions(captured!);
}

test('options: --no-bad and --no-plaintext-auth turn the rules on (commander\'s negatable options read right)', () => {
  assert.deepEqual(parsedRules(['--no-bad']), [{ kind: 'no-bad' }]);
  assert.deepEqual(parsedRules(['--no-plaintext-auth']), [{ kind: 'no-plaintext-auth' }]);
  assert.deepEqual(parsedRules(['--max-connections', '3']), [{ kind: 'max-connections', max: 3 }], 'no --no-bad, no no-bad rule');
  assert.deepEqual(parsedRules([]), []);
});

test('options: repeatable flags, latency syntax, sequences, NO exceptions; rules file first, duplicates dropped', () => {
  const rules = parsedRules([
    '--require-command', 'logout', '--require-command', 'uid fetch', '--forbid-command', 'EXPUNGE',
    '--max-latency', 'SELECT=200', '--max-latency', 'UID FETCH:p95=50ms', '--max-latency', 'list:P99=1.5',
    '--require-sequence', 'CAPABILITY,LOGIN,SELECT', '--forbid-sequence', 'select, expunge',
    '--allow-no', 'append', '--all-completed', '--max-concurrent', '2', '--require-capability', 'IDLE',
    '--rules', join(RULES, 'hardened.yaml'),
  ]);
  const names = rules.map((r) => JSON.stringify(r));
  assert.deepEqual(rules.slice(0, 6).map((r) => r.kind), ['max-connections', 'max-concurrent', 'no-bad', 'all-completed', 'no-plaintext-auth', 'require-capability'], 'file rules come first');
  for (const want of [
    { kind: 'require-command', command: 'LOGOUT' }, { kind: 'require-command', command: 'UID FETCH' }, { kind: 'forbid-command', command: 'EXPUNGE' },
    { kind: 'latency', command: 'SELECT', stat: { kind: 'max' }, maxMs: 200 },
    { kind: 'latency', command: 'UID FETCH', stat: { kind: 'percentile', p: 95 }, maxMs: 50 },
    { kind: 'latency', command: 'LIST', stat: { kind: 'percentile', p: 99 }, maxMs: 1.5 },
    { kind: 'sequence', commands: ['CAPABILITY', 'LOGIN', 'SELECT'], present: true },
    { kind: 'sequence', commands: ['SELECT', 'EXPUNGE'], present: false },
    { kind: 'no-no', except: ['APPEND'] },
    { kind: 'max-concurrent', max: 2 },
  ]) assert.ok(names.includes(JSON.stringify(want)), JSON.stringify(want));
  assert.equal(rules.filter((r) => r.kind === 'all-completed').length, 1, 'all-completed from file and flag counted once');
  for (const bad of [['--max-latency', 'SELECT'], ['--max-latency', 'SELECT=fast'], ['--max-latency', 'SELECT:median=5'], ['--max-connections', 'many'], ['--require-sequence', 'A,,B']]) {
    assert.throws(() => parsedRules(bad), UsageError, bad.join(' '));
  }
});

// --------------------------------------------------------------------------------------------- JUnit

interface XmlElement { name: string; attrs: Record<string, string>; children: XmlElement[]; text: string }

/** A small strict XML parser: well-formedness (nesting, quoting, entities, legal characters), no DTDs. */
function parseXml(xml: string): XmlElement {
  // eslint-disable-next-line no-control-regex
  assert.ok(!/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/.test(xml), 'only XML 1.0 characters');
  let i = 0;
  const decl = /^<\?xml version="1\.0" encoding="UTF-8"\?>\s*/.exec(xml);
  assert.ok(decl, 'XML declaration');
  i = decl[0].length;
  const decode = (s: string, where: string) => {
    assert.ok(!/[<]/.test(s), `raw < in ${where}`);
    return s.replace(/&([^;]*);?/g, (m, ent: string) => {
      const known: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
      if (m.endsWith(';') && ent in known) return known[ent]!;
      if (m.endsWith(';') && /^#(\d+|x[0-9a-fA-F]+)$/.test(ent)) return String.fromCodePoint(ent[1] === 'x' ? parseInt(ent.slice(2), 16) : Number(ent.slice(1)));
      assert.fail(`bad entity ${m} in ${where}`);
    });
  };
  const element = (): XmlElement => {
    const open = /^<([A-Za-z_][\w.-]*)((?:\s+[A-Za-z_][\w.-]*\s*=\s*"[^"]*")*)\s*(\/?)>/.exec(xml.slice(i));
    assert.ok(open, `start tag at ${i}: ${xml.slice(i, i + 40)}`);
    i += open[0].length;
    const attrs: Record<string, string> = {};
    for (const m of open[2]!.matchAll(/([A-Za-z_][\w.-]*)\s*=\s*"([^"]*)"/g)) {
      assert.ok(!(m[1]! in attrs), `duplicate attribute ${m[1]}`);
      attrs[m[1]!] = decode(m[2]!, `attribute ${m[1]}`);
    }
    const el: XmlElement = { name: open[1]!, attrs, children: [], text: '' };
    if (open[3] === '/') return el;
    for (;;) {
      const lt = xml.indexOf('<', i);
      assert.ok(lt >= 0, `unclosed <${el.name}>`);
      el.text += decode(xml.slice(i, lt), `<${el.name}> text`);
      i = lt;
      if (xml.startsWith('</', i)) {
        const close = /^<\/([A-Za-z_][\w.-]*)\s*>/.exec(xml.slice(i));
        assert.ok(close && close[1] === el.name, `</${el.name}> expected at ${i}`);
        i += close[0].length;
        return el;
      }
      el.children.push(element());
    }
  };
  const root = element();
  assert.match(xml.slice(i), /^\s*$/, 'nothing after the root element');
  return root;
}

/** The JUnit shape Jenkins / GitLab / GitHub reporters read. */
function assertJunitShape(root: XmlElement): { suites: XmlElement[]; cases: XmlElement[] } {
  assert.equal(root.name, 'testsuites');
  const suites = root.children;
  assert.ok(suites.length > 0);
  let tests = 0;
  let failures = 0;
  const cases: XmlElement[] = [];
  for (const s of suites) {
    assert.equal(s.name, 'testsuite');
    assert.ok(s.attrs.name, 'testsuite name');
    const tc = s.children.filter((c) => c.name === 'testcase');
    assert.equal(tc.length, s.children.length, 'a testsuite holds test cases only');
    const failed = tc.filter((c) => c.children.some((x) => x.name === 'failure'));
    assert.equal(Number(s.attrs.tests), tc.length, 'testsuite tests=');
    assert.equal(Number(s.attrs.failures), failed.length, 'testsuite failures=');
    assert.equal(Number(s.attrs.errors), 0);
    for (const c of tc) {
      assert.ok(c.attrs.name && c.attrs.classname, 'testcase name and classname');
      for (const child of c.children) {
        assert.ok(['failure', 'system-out'].includes(child.name), child.name);
        if (child.name === 'failure') {
          assert.ok(child.attrs.message, 'failure message');
          assert.ok(child.attrs.type);
        }
      }
      assert.ok(c.children.filter((x) => x.name === 'failure').length <= 1);
    }
    tests += tc.length;
    failures += failed.length;
    cases.push(...tc);
  }
  assert.equal(Number(root.attrs.tests), tests, 'testsuites tests=');
  assert.equal(Number(root.attrs.failures), failures, 'testsuites failures=');
  return { suites, cases };
}

test('JUnit: one testsuite per capture, one testcase per rule, failures with where to look; counts match', async () => {
  const rules = loadRulesFile(join(RULES, 'hardened.yaml'));
  // The encrypted part is not checked here (allowEncrypted): the policy is about what happens before TLS.
  const report = evaluate(rules, [await analysis(cap('seed-alice.pcap')), await analysis(cap('starttls-tls12.pcap'))], { allowEncrypted: true });
  const { suites, cases } = assertJunitShape(parseXml(junitXml(report)));
  assert.deepEqual(suites.map((s) => s.attrs.name), [cap('seed-alice.pcap'), cap('starttls-tls12.pcap')]);
  assert.equal(cases.length, rules.length * 2);
  const seed = suites[0]!.children;
  const plain = seed.find((c) => c.attrs.name === 'no-plaintext-auth')!;
  const failure = plain.children.find((c) => c.name === 'failure')!;
  assert.match(failure.attrs.message!, /clear-text authentication on 3 connections/);
  assert.match(failure.text, /conn 0, tag A2, LOGIN, request frame \d+, response frame \d+: LOGIN sent without TLS/);
  assert.equal(failure.text.split('\n').length, 3);
  assert.equal(seed.find((c) => c.attrs.name === 'no-bad')!.children.some((c) => c.name === 'failure'), false);
  assert.equal(suites[1]!.attrs.failures, '0', 'starttls-tls12 keeps the hardened policy (STARTTLS announced, no login before TLS)');
});

test('JUnit: wire text with markup, quotes and control bytes stays well-formed and readable', () => {
  const evil = 'x<y>&"z\' \u0000\u001b[31m \ud800 ]]>';
  const report: CheckReport = {
    passed: false,
    captures: ['a&b<c>.pcap'],
    results: [{
      rule: 'no-bad', kind: 'no-bad', passed: false, message: evil,
      failures: [{ capture: 'a&b<c>.pcap', conn: 1, tag: '<t>', command: 'FETCH', requestFrame: 3, responseFrame: 4, detail: evil }],
      captures: [{ capture: 'a&b<c>.pcap', passed: false, message: evil, failureCount: 1,
        failures: [{ capture: 'a&b<c>.pcap', conn: 1, tag: '<t>', command: 'FETCH', requestFrame: 3, responseFrame: 4, detail: evil }] }],
    }],
  };
  const root = parseXml(junitXml(report));
  const { cases } = assertJunitShape(root);
  const f = cases[0]!.children[0]!;
  assert.ok(f.attrs.message!.startsWith('x<y>&"z\' \\x00\\x1b[31m'), f.attrs.message);
  assert.match(f.text, /tag <t>/);
  assert.equal(xmlEscape('a"b'), 'a&quot;b');
  const lines = annotations(report);
  assert.equal(lines.length, 1);
  assert.match(lines[0]!, /^::error file=a&b<c>\.pcap,title=imapscope check%3A no-bad::conn 1, tag <t>, FETCH, request frame 3, response frame 4: /);
  assert.ok(!lines[0]!.includes('\u001b') && !lines[0]!.includes('\n'));
});

// ------------------------------------------------------------------------------ child processes (CLI)

function run(args: string[], cwd = ROOT) {
  const r = spawnSync(process.execPath, [CLI, 'check', ...args], { cwd, encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('CLI: exit 0 when every rule holds (table with PASS), 1 when one fails (FAIL rows and a failure table)', () => {
  const ok = run([cap('seed-alice.pcap'), '--rules', join(RULES, 'desktop-client.yaml')]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /PASS\s+│ max-concurrent 2/);
  assert.match(ok.stdout, /check passed: 19 rules hold/);
  const bad = run([cap('append-idle.pcap'), '--no-bad', '--max-concurrent', '2']);
  assert.equal(bad.code, 1, bad.stderr);
  assert.match(bad.stdout, /FAIL\s+│ no-bad/);
  assert.match(bad.stdout, /PASS\s+│ max-concurrent 2/);
  // Numbers are right-aligned, text left-aligned.
  assert.match(bad.stdout, /│ no-bad\s+│\s+0 │ X6\s+│ FETCH\s+│\s+\d+ │\s+\d+ │ BAD /);
  assert.match(bad.stdout, /check failed: 1 of 2 rules failed/);
});

test('CLI: --json has the documented shape; --annotate writes ::error lines (to stderr with --json)', () => {
  const r = run([cap('append-idle.pcap'), '--rules', join(RULES, 'uploads.yaml'), '--json', '--annotate']);
  assert.equal(r.code, 1, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.equal(j.passed, false);
  assert.deepEqual(Object.keys(j.results[0]).sort(), ['failures', 'message', 'passed', 'rule']);
  const noBad = j.results.find((x: { rule: string }) => x.rule === 'no-bad');
  assert.deepEqual(Object.keys(noBad.failures[0]).sort(), ['capture', 'command', 'conn', 'detail', 'requestFrame', 'responseFrame', 'tag']);
  assert.equal(noBad.failures[0].tag, 'X6');
  assert.equal(j.results.find((x: { rule: string }) => x.rule === 'no-no except APPEND').passed, true);
  const ann = r.stderr.split('\n').filter((l) => l.startsWith('::error '));
  assert.equal(ann.length, 1);
  assert.match(ann[0]!, /^::error file=.*append-idle\.pcap,title=imapscope check%3A no-bad::conn 0, tag X6, FETCH, request frame \d+, response frame \d+: BAD /);
  const text = run([cap('seed-alice.pcap'), '--forbid-command', 'LOGIN', '--annotate']);
  assert.equal(text.code, 1);
  assert.equal(text.stdout.split('\n').filter((l) => l.startsWith('::error file=')).length, 3);
});

test('CLI: --junit writes exactly the named file (even when checks fail), into /dev/null or a pipe, and refuses a directory, a symlink to a file or another device', () => {
  const dir = join(tmp, 'junit');
  mkdirSync(dir);
  const file = join(dir, 'report.xml');
  const r = run([cap('seed-alice.pcap'), cap('offlineimap.pcapng'), '--rules', join(RULES, 'hardened.yaml'), '--junit', file]);
  assert.equal(r.code, 1, r.stderr);
  assert.deepEqual(readdirSync(dir), ['report.xml'], 'nothing else written');
  const { suites } = assertJunitShape(parseXml(readFileSync(file, 'utf8')));
  assert.equal(suites.length, 2);
  const isDir = run([cap('seed-alice.pcap'), '--no-bad', '--junit', dir]);
  assert.equal(isDir.code, 2);
  assert.match(isDir.stderr, /^imapscope: --junit: .* is a directory/);
  assert.equal(isDir.stderr.trim().split('\n').length, 1);
  assert.deepEqual(readdirSync(dir), ['report.xml']);
  const target = join(tmp, 'elsewhere.xml');
  writeFileSync(target, 'keep');
  symlinkSync(target, join(dir, 'link.xml'));
  const link = run([cap('seed-alice.pcap'), '--no-bad', '--junit', join(dir, 'link.xml')]);
  assert.equal(link.code, 2);
  assert.equal(readFileSync(target, 'utf8'), 'keep');
  const noParent = run([cap('seed-alice.pcap'), '--no-bad', '--junit', join(dir, 'missing', 'r.xml')]);
  assert.equal(noParent.code, 2);
  assert.match(noParent.stderr, /cannot write/);
  // /dev/null (here through a link: refused or renamed over, the link would show it) is written into, as a shell would;
  // another device is refused, through a link too.
  symlinkSync('/dev/null', join(dir, 'null.xml'));
  const toNull = run([cap('seed-alice.pcap'), '--no-bad', '--junit', join(dir, 'null.xml')]);
  assert.equal(toNull.code, 0, toNull.stderr);
  assert.ok(lstatSync(join(dir, 'null.xml')).isSymbolicLink() && statSync('/dev/null').isCharacterDevice());
  symlinkSync('/dev/zero', join(dir, 'zero.xml'));
  const toZero = run([cap('seed-alice.pcap'), '--no-bad', '--junit', join(dir, 'zero.xml')]);
  assert.equal(toZero.code, 2);
  assert.match(toZero.stderr, /^imapscope: --junit: .*zero\.xml is not a file, a pipe, a terminal or \/dev\/null; name a file to write/);
  assert.deepEqual(readdirSync(dir).sort(), ['link.xml', 'null.xml', 'report.xml', 'zero.xml']);
});

test('CLI: exit 2 with one line for no rules, an invalid or unreadable rules file, a bad option value', () => {
  for (const args of [
    [cap('seed-alice.pcap')],
    [cap('seed-alice.pcap'), '--rules', join(RULES, 'invalid-unknown-key.yaml')],
    [cap('seed-alice.pcap'), '--rules', join(RULES, 'invalid-syntax.yaml')],
    [cap('seed-alice.pcap'), '--rules', join(RULES, 'invalid-list-key.yaml')],
    [cap('seed-alice.pcap'), '--rules', join(RULES, 'missing.yaml')],
    [cap('seed-alice.pcap'), '--max-latency', 'SELECT'],
    [cap('seed-alice.pcap'), '--max-concurrent', '-1'],
  ]) {
    const r = run(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.ok(!r.stderr.includes('    at '), 'no stack trace');
  }
});

test('CLI: commander usage errors (missing capture, unknown option) exit 2, not 1 ("a check failed")', () => {
  for (const args of [[], [cap('seed-alice.pcap'), '--no-bad', '--bogus'], [cap('seed-alice.pcap'), '--rules']]) {
    const r = run(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
  }
  assert.equal(run(['--help']).code, 0);
});

test('CLI: check is registered in the program (imapscope check --help)', () => {
  const r = spawnSync(process.execPath, [CLI, 'check', '--help'], { encoding: 'utf8' });
  assert.match(r.stdout, /--no-bad/);
  assert.match(r.stdout, /--junit <file>/);
});

// ------------------------------------------------------------------------------ encrypted without keys

test('CLI: TLS without keys fails every rule about commands, naming the encrypted connections; --keylog or --allow-encrypted pass', () => {
  const tls = cap('imaps-tls13.pcap');
  const blind = run([tls, '--no-bad', '--all-completed', '--max-connections', '1', '--json']);
  assert.equal(blind.code, 1, 'nothing was seen: the check cannot pass');
  const results = JSON.parse(blind.stdout).results as { rule: string; passed: boolean; message: string; failures: { conn: number }[] }[];
  const byRule = new Map(results.map((r) => [r.rule, r]));
  for (const rule of ['no-bad', 'all-completed']) {
    assert.equal(byRule.get(rule)!.passed, false, rule);
    assert.match(byRule.get(rule)!.message, /1 of 1 IMAP connection TLS-encrypted without keys; --keylog/);
    assert.deepEqual(byRule.get(rule)!.failures.map((f) => f.conn), [0]);
  }
  assert.equal(byRule.get('max-connections 1')!.passed, true, 'connections are visible without keys');
  assert.equal(run([tls, '--no-bad', '--all-completed', '--keylog', cap('imaps-tls13.keys')]).code, 0);
  assert.equal(run([tls, '--no-bad', '--all-completed', '--allow-encrypted']).code, 0);
});

test('CLI: a --keylog file without a usable key line is a warning naming the file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'imapscope-keys-'));
  try {
    const empty = join(dir, 'empty.keys');
    writeFileSync(empty, '# nothing here\nnot a key line\n');
    const r = run([cap('seed-alice.pcap'), '--no-bad', '--keylog', empty]);
    assert.equal(r.code, 0);
    assert.match(r.stderr, new RegExp(`warning: --keylog ${empty.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: no usable key line`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
