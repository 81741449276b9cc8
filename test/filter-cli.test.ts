/** -Y, -T/-e/-E, -t and `fields` on the command line, on real captures, cross-checked with tshark where the meaning is the same. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { CAPTURES, CLI, ROOT, hasPublic, hasTshark, NO_PUBLIC, NO_TSHARK, publicCapture, tshark, unavailable } from './helpers/env.js';

function run(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0', ...env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const seed = join(CAPTURES, 'seed-alice.pcap');
const offlineimap = join(CAPTURES, 'offlineimap.pcapng');

const lines = (s: string) => s.split('\n').filter((l) => l !== '');
const tsharkFields = (path: string, filter: string, fields: string[]) =>
  lines(tshark(['-r', path, '-Y', filter, '-T', 'fields', ...fields.flatMap((f) => ['-e', f])]));

test('-Y on commands: the LOGIN request frames are the frames tshark finds for the same filter', { skip: unavailable(!hasTshark && NO_TSHARK) }, () => {
  for (const path of [seed, join(CAPTURES, 'mbsync.pcap'), join(CAPTURES, 'fetchmail.pcap')]) {
    const ours = lines(run(['commands', path, '-Y', 'imap.request.command == "LOGIN"', '-T', 'fields', '-e', 'frame.number']).stdout);
    const theirs = tsharkFields(path, 'imap.request.command == "LOGIN"', ['frame.number']);
    assert.ok(theirs.length > 0, path);
    assert.deepEqual(ours, theirs, path);
  }
});

test('-Y on commands: tags, the response frame and the response time agree with tshark for every tagged answer', { skip: unavailable(!hasTshark && NO_TSHARK) }, () => {
  const ours = lines(run(['commands', seed, '-Y', 'imap.status', '-T', 'fields', '-e', 'imap.response_in', '-e', 'imap.tag', '-e', 'imap.response.status', '-e', 'imap.time']).stdout);
  // tshark takes the ")" closing a FETCH literal for a tag too ("),B6"): compare the frames where it sees one tag.
  const theirs = tsharkFields(seed, 'imap.response.status', ['frame.number', 'imap.response_tag', 'imap.response.status', 'imap.time'])
    .map((l) => l.split('\t')).filter((row) => !row[1]!.includes(','));
  assert.ok(theirs.length >= 20);
  const byFrame = new Map(ours.map((l) => [l.split('\t')[0], l.split('\t')]));
  for (const row of theirs) assert.deepEqual(byFrame.get(row[0]), row, `frame ${row[0]}`);
});

test('-Y on commands: JSON keeps its keys, the filter picks by latency, connection and address; --command still applies', () => {
  const all = JSON.parse(run(['commands', seed, '--json']).stdout).exchanges;
  const slow = JSON.parse(run(['commands', seed, '--json', '-Y', 'imap.latency >= 5ms && tcp.stream != 2 && ip.addr == 127.0.0.0/8']).stdout).exchanges;
  const expected = all.filter((e: { latencyMs: number | null; conn: number }) => e.latencyMs !== null && e.latencyMs >= 5 && e.conn !== 2);
  assert.ok(expected.length > 0 && expected.length < all.length);
  assert.deepEqual(slow, expected, 'same objects, same keys');
  const both = JSON.parse(run(['commands', seed, '--json', '-Y', 'tcp.stream == 1', '--command', 'login']).stdout).exchanges;
  assert.deepEqual(both.map((e: { requestFrame: number }) => e.requestFrame), [34]);
  const nd = lines(run(['commands', seed, '-T', 'ndjson', '-Y', 'imap.command == "SELECT"']).stdout).map((l) => JSON.parse(l));
  assert.ok(nd.length > 0 && nd.every((e) => e.command === 'SELECT'));
  assert.equal(nd.length, all.filter((e: { command: string }) => e.command === 'SELECT').length);
});

test('a filter syntax error: the expression with ^ under the fault, exit 2, nothing on stdout', () => {
  const r = run(['commands', seed, '-Y', 'imap.command == "LOGIN" &&']);
  assert.equal(r.code, 2);
  assert.equal(r.stdout, '');
  const [first, expr, caret] = r.stderr.split('\n');
  assert.match(first!, /^imapscope: -Y: expected a field name/);
  assert.equal(expr, '  imap.command == "LOGIN" &&');
  assert.equal(caret!.indexOf('^'), expr!.length, 'under the end, where the operand is missing');
  const unknown = run(['summary', seed, '-Y', 'imap.cmd == "X"']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /'imap.cmd' is not a field/);
  const streams = run(['streams', seed, '-Y', 'imap.command == "LOGIN"']);
  assert.equal(streams.code, 2);
  assert.match(streams.stderr, /streams filters on connection fields only/);
});

test('summary -Y: the matching exchanges and the connections that have one', () => {
  const j = JSON.parse(run(['summary', seed, '--json', '-Y', 'imap.command == "UID FETCH" && tcp.stream != 0']).stdout);
  const fetchConns = new Set(JSON.parse(run(['commands', seed, '--json', '-Y', 'imap.command == "UID FETCH" && tcp.stream != 0']).stdout).exchanges.map((e: { conn: number }) => e.conn));
  assert.deepEqual(j.connections.map((c: { id: number }) => c.id), [...fetchConns]);
  assert.deepEqual(j.commands.map((s: { command: string }) => s.command), ['UID FETCH']);
  const unfiltered = JSON.parse(run(['summary', seed, '--json']).stdout);
  assert.ok(unfiltered.commands.length > 3);
  assert.equal(j.commands[0].count, [...JSON.parse(run(['commands', seed, '--json', '-Y', 'imap.command == "UID FETCH" && tcp.stream != 0']).stdout).exchanges].length);
});

test('streams -Y: connection fields (tcp.stream, the user, tls) select connections', () => {
  const j = JSON.parse(run(['streams', seed, '--json', '-Y', 'tcp.stream in {0 2} && imap.user == "alice"']).stdout);
  assert.deepEqual(j.connections.map((c: { id: number }) => c.id), [0, 2]);
  const tls = JSON.parse(run(['streams', join(CAPTURES, 'starttls-tls12.pcap'), '--json', '-Y', 'tls']).stdout);
  assert.ok(tls.connections.length > 0);
  assert.equal(JSON.parse(run(['streams', seed, '--json', '-Y', 'tls']).stdout).connections.length, 0);
});

test('check -Y: the rules see only the selected exchanges', () => {
  // seed-alice answers everything OK; a rule that forbids LOGIN fails, unless the filter leaves LOGIN out.
  assert.equal(run(['check', seed, '--forbid-command', 'LOGIN']).code, 1);
  assert.equal(run(['check', seed, '--forbid-command', 'LOGIN', '-Y', 'imap.command != "LOGIN"']).code, 0);
  const j = JSON.parse(run(['check', seed, '--require-command', 'LIST', '--json', '-Y', 'tcp.stream == 1']).stdout);
  assert.equal(j.passed, true);
  assert.equal(run(['check', seed, '--require-command', 'LOGOUT', '-Y', 'imap.command == "LIST"']).code, 1);
});

test('fetches -Y: only what the selected FETCH exchanges fetched, also as NDJSON while streaming', () => {
  const all = JSON.parse(run(['fetches', seed, '--json']).stdout);
  const one = JSON.parse(run(['fetches', seed, '--json', '-Y', 'tcp.stream == 1']).stdout);
  assert.ok(one.strategy.length > 0 && one.strategy.length < all.strategy.length);
  assert.ok(one.strategy.every((s: { conn: number }) => s.conn === 1));
  assert.ok(one.messages.every((m: { fetches: { conn: number }[] }) => m.fetches.length > 0 && m.fetches.every((f) => f.conn === 1)));
  const nd = lines(run(['fetches', seed, '--ndjson', '-Y', 'frame.number == 59']).stdout).map((l) => JSON.parse(l));
  assert.ok(nd.length > 0);
  assert.ok(nd.every((s) => s.requestFrame === 59));
  const allNd = lines(run(['fetches', seed, '--ndjson']).stdout).map((l) => JSON.parse(l));
  assert.equal(nd.length, allNd.filter((s) => s.requestFrame === 59).length);
});

test('follow -Y: a command, its continuation, SASL line, untagged and tagged answers; nothing else', () => {
  const r = run(['follow', offlineimap, '--conn', '0', '-Y', 'imap.command == "AUTHENTICATE"']);
  assert.equal(r.code, 0, r.stderr);
  const shown = lines(r.stdout).map((l) => l.replace(/^\s*\d+\s+[\d.]+ /, ''));
  assert.equal(shown[0], 'C: IBFO3 AUTHENTICATE PLAIN');
  assert.equal(shown[1]!.trim(), 'S: +');
  assert.equal(shown[2], 'C: *** (SASL response)');
  assert.match(shown.at(-1)!, /^S: IBFO3 OK/);
  assert.ok(!shown.some((l) => /IBFO[124] /.test(l)), 'other commands are left out');
  assert.ok(!r.stdout.includes('* OK'), 'the greeting is left out');
});

test('-T fields with -E header, separator and quote; -T csv; -e columns in the text table', () => {
  const f = lines(run(['commands', seed, '-Y', 'tcp.stream == 2 && imap.command == "LOGIN"', '-T', 'fields', '-e', 'imap.tag', '-e', 'tcp.port', '-e', 'imap.args', '-E', 'header=y', '-E', 'separator=;', '-E', 'quote=s']).stdout);
  assert.deepEqual(f, ["'imap.tag';'tcp.port';'imap.args'", "'C2';'58262,143';'alice ***'"]);
  const joined = lines(run(['commands', seed, '-Y', 'tcp.stream == 2 && imap.command == "LOGIN"', '-T', 'fields', '-e', 'imap.tag', '-e', 'tcp.port', '-E', 'header=n,separator=,,quote=d']).stdout);
  assert.deepEqual(joined, ['"C2","58262,143"'], 'comma-joined -E, with "," as the separator');
  const csv = lines(run(['commands', seed, '-T', 'csv', '-Y', 'frame.number == 15']).stdout);
  assert.equal(csv[0], '"tcp.stream","frame.number","frame.time_relative","imap.tag","imap.command","imap.args","imap.status","imap.response.code","imap.response.text","imap.latency","imap.untagged"');
  assert.match(csv[1]!, /^"0","15","0\.043710000","A2","LOGIN","alice \*\*\*","OK","","Logged in","0\.019277000","1"$/);
  const text = run(['commands', seed, '-Y', 'frame.number == 15', '-e', 'imap.tag', '-e', 'imap.user']).stdout;
  assert.match(text, /imap\.tag.*imap\.user/);
  assert.match(text, /A2 +│ alice/);
  for (const bad of [['-T', 'fields'], ['-e', 'imap.nope'], ['-E', 'header=maybe', '-T', 'fields', '-e', 'imap.tag'], ['--json', '-T', 'csv'], ['--json', '-e', 'imap.tag']]) {
    const r = run(['commands', seed, ...bad]);
    assert.equal(r.code, 2, bad.join(' '));
  }
});

test('-t: relative to the capture\'s first frame whatever the filter (as tshark\'s frame.time_relative); a, ad, u, ud, e, d, dd', { skip: unavailable(!hasTshark && NO_TSHARK) }, () => {
  const cell = (args: string[], row = 0) => {
    const out = run(['commands', seed, ...(args.includes('-Y') ? [] : ['--conn', '2']), ...args], { TZ: 'UTC' }).stdout;
    // Numbers stand right-aligned in their cells.
    const rows = out.split('\n').filter((l) => /^│ +2 │/.test(l));
    return { header: out.split('\n')[1]!.split('│')[3]!.trim(), value: rows[row]!.split('│')[3]!.trim() };
  };
  const [rel, epoch] = tsharkFields(seed, 'frame.number == 116', ['frame.time_relative', 'frame.time_epoch'])[0]!.split('\t');
  const abs = new Date(Number(epoch) * 1000).toISOString();
  assert.deepEqual(cell([]), { header: 'time (s)', value: rel!.slice(0, -3) }, 'frame 116 is not 0 with --conn 2');
  assert.deepEqual(cell(['-Y', 'tcp.stream == 2', '-t', 'r']), { header: 'time (s)', value: rel!.slice(0, -3) });
  assert.deepEqual(cell(['-t', 'e']), { header: 'epoch (s)', value: epoch!.slice(0, -3) });
  assert.equal(cell(['-t', 'ud']).header, 'date time (UTC)');
  assert.ok(abs!.includes(cell(['-t', 'u']).value.slice(0, 8)));
  assert.equal(cell(['-t', 'ud']).value, cell(['-t', 'ad']).value, 'TZ=UTC: local is UTC');
  assert.equal(cell(['-t', 'ud']).value.slice(11), cell(['-t', 'a']).value);
  // d: from the previous exchange of the capture (conn 0 and 1 ran before); dd: from the previous row shown.
  assert.equal(cell(['-Y', 'tcp.stream == 2', '-t', 'dd']).value, '0.000000');
  assert.notEqual(cell(['-Y', 'tcp.stream == 2', '-t', 'd']).value, '0.000000');
  const second = tsharkFields(seed, 'frame.number == 119', ['frame.time_relative'])[0]!;
  const dd = cell(['-t', 'dd'], 1).value;
  assert.equal(dd, (Number(second) - Number(rel)).toFixed(6));
});

test('imapscope fields: every filter field with type, level and JSON key; JSON names the same fields', () => {
  const j = JSON.parse(run(['fields', '--json']).stdout);
  const byName = new Map(j.map((f: { name: string }) => [f.name, f]));
  for (const name of ['frame.number', 'tcp.stream', 'ip.addr', 'ip.src', 'ip.dst', 'tcp.port', 'imap.tag', 'imap.command', 'imap.args', 'imap.status',
    'imap.response.code', 'imap.response.text', 'imap.latency', 'imap.untagged', 'imap.mailbox', 'imap.user', 'imap.client', 'imap.request.bytes',
    'imap.response.bytes', 'tls', 'compress']) {
    assert.ok(byName.has(name), name);
  }
  assert.equal((byName.get('imap.command') as { json: string }).json, 'commands: command');
  const doc = readFileSync(join(ROOT, 'docs', 'fields.md'), 'utf8');
  for (const f of j) assert.ok(doc.includes(`| \`${f.name}\` |`) && f.aliases.every((a: string) => doc.includes(`\`${a}\``)), `docs/fields.md lists ${f.name}`);
  const text = run(['fields']).stdout;
  assert.match(text, /imap\.latency .*duration/);
  // Every JSON key a field names exists in the commands output.
  const ex = JSON.parse(run(['commands', seed, '--json']).stdout).exchanges[0];
  for (const f of j) {
    const m = /^commands: (\w+)/.exec(f.json ?? '');
    if (m) assert.ok(m[1]! in ex, `${f.name} → ${m[1]}`);
  }
});

test('-Y on a public capture: IPv6 addresses and the AUTHENTICATE exchange of an NTLM session', { skip: unavailable((!hasPublic && NO_PUBLIC) || (!hasTshark && NO_TSHARK)) }, () => {
  const path = publicCapture('arkime-ntlm_synthetic.pcap');
  const filter = 'ip.src == 2001:db8:120::/48 && imap.request.command == "AUTHENTICATE"';
  const ours = lines(run(['commands', path, '-Y', filter, '-T', 'fields', '-e', 'frame.number', '-e', 'ip.src', '-e', 'ip.dst', '-e', 'imap.tag']).stdout);
  assert.equal(ours.length, 1);
  assert.deepEqual(ours, tsharkFields(path, filter.replace('ip.src', 'ipv6.src'), ['frame.number', 'ipv6.src', 'ipv6.dst', 'imap.request_tag']));
  assert.deepEqual(lines(run(['commands', path, '-Y', filter.replace('ip.src', 'ipv6.src'), '-T', 'fields', '-e', 'frame.number']).stdout), [ours[0]!.split('\t')[0]], 'the tshark name works too');
  assert.equal(lines(run(['commands', path, '-Y', 'ip.src == 10.0.0.0/8 && imap.command == "AUTHENTICATE"']).stdout).length, 1, 'no match: one line saying so');
});
