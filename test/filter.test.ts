/** The display-filter language: tokens, grammar, error positions, and what each relation means. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tokenize } from '../src/filter/lexer.js';
import { parseFilter } from '../src/filter/parser.js';
import { compileFilter } from '../src/filter/evaluate.js';
import { describeFilterError, FilterError } from '../src/filter/error.js';
import { FIELDS, lookupField, type FilterRecord } from '../src/filter/fields.js';
import type { Exchange, ImapConnection } from '../src/imap/model.js';
import { fakeConnection, T0 } from './helpers/imap.js';

function exchange(over: Partial<Exchange> = {}): Exchange {
  return {
    conn: 0, tag: 'A1', command: 'UID FETCH', args: '1:* (FLAGS)', argsClear: '1:* (FLAGS)', shape: '', requestMissing: false,
    requestFrame: 10, start: T0, status: 'OK', code: 'READ-WRITE', text: 'Fetch completed', responseFrame: 12,
    end: { ...T0, nsec: 150_000_000 }, continuationAt: null, clientMs: 0, untagged: 3, untaggedByType: {}, continuations: 0, requestBytes: 30, responseBytes: 400, mailbox: 'INBOX',
    ...over,
  };
}

function record(ex: Exchange | null = exchange(), info: Partial<ImapConnection> = {}): FilterRecord {
  const tcp = fakeConnection();
  tcp.client = { ip: '10.1.2.3', port: 50000 };
  tcp.server = { ip: '2001:db8::1', port: 143 };
  const conn = { conn: tcp, user: 'alice', tls: null, compress: null, clientId: { name: 'Thunderbird', version: '115' }, ...info } as ImapConnection;
  return { tcp, conn, ex, t0: T0 };
}

const matches = (expr: string, r: FilterRecord = record()) => compileFilter(expr).test(r);

function errorAt(expr: string): { pos: number; reason: string } {
  try {
    compileFilter(expr);
  } catch (err) {
    if (err instanceof FilterError) return { pos: err.pos, reason: err.reason };
    throw err;
  }
  assert.fail(`'${expr}' compiled`);
}

test('tokens: word operators, symbols, strings with escapes, and a range inside a set', () => {
  const kinds = tokenize('a eq "x\\"y\\x41" && !b or c ~ "r" {1..5}').map((t) => `${t.kind}:${t.text}`);
  assert.deepEqual(kinds, ['word:a', 'op:==', 'string:x"yA', 'and:&&', 'not:!', 'word:b', 'or:or', 'word:c', 'matches:matches', 'string:r', '{:{', 'word:1', '..:..', 'word:5', '}:}', 'end:']);
});

test('precedence: not binds tighter than and, and tighter than or; parentheses override', () => {
  const tree = parseFilter('a || b && !c');
  assert.equal(tree.kind, 'or');
  assert.equal(tree.kind === 'or' && tree.right.kind, 'and');
  assert.equal(parseFilter('(a || b) && c').kind, 'and');
  assert.ok(matches('tcp.stream == 5 || imap.tag == "A1" && !tls'), 'A1 and no TLS: true even though the stream is not 5');
  assert.ok(!matches('(tcp.stream == 5 || imap.tag == "A1") && tls'));
});

test('syntax errors point at the offending character', () => {
  assert.equal(errorAt('imap.command == ').pos, 16, 'missing value: at the end');
  assert.equal(errorAt('imap.command = "LOGIN"').pos, 13, "'=' is not an operator");
  assert.equal(errorAt('(imap.tag == "a"').pos, 16, 'unclosed parenthesis: at the end');
  assert.equal(errorAt('imap.tag == "a")').pos, 15, "unbalanced ')'");
  assert.equal(errorAt('imap.comand == "X"').pos, 0, 'unknown field');
  assert.match(errorAt('imap.comand == "X"').reason, /not a field/);
  assert.equal(errorAt('tcp.port == http').pos, 12, 'not a number');
  assert.equal(errorAt('ip.addr == 10.0.0.300').pos, 11, 'not an address');
  assert.equal(errorAt('imap.latency > 5parsecs').pos, 15, 'not a duration');
  assert.equal(errorAt('imap.args matches "(["').pos, 18, 'bad regex');
  assert.equal(errorAt('imap.tag == "abc').pos, 12, 'unclosed string: at its quote');
  assert.equal(errorAt('tls == 1').pos, 4, 'a protocol is tested alone');
  assert.equal(errorAt('tcp.port in {}').pos, 12, 'empty set');
  assert.equal(errorAt('imap.tag == "a" imap.tag').pos, 16, 'two tests without && or ||');
  assert.equal(errorAt('').pos, 0);
  const shown = describeFilterError('imap.command = "LOGIN"', new FilterError('x', 13));
  assert.equal(shown.split('\n')[2]!.indexOf('^'), 2 + 13, 'the caret sits under the offending character');
});

test('comparisons: strings, numbers, durations with units, booleans', () => {
  assert.ok(matches('imap.command == "UID FETCH"'));
  assert.ok(!matches('imap.command == "uid fetch"'), 'strings compare case-sensitively, as in Wireshark');
  assert.ok(matches('imap.request.command == "FETCH" && imap.request.command.uid == 1'), "tshark's names: command without UID, and the UID flag");
  assert.ok(matches('imap.untagged >= 3 && imap.untagged < 4 && imap.request.bytes le 30 && imap.response.bytes gt 399'));
  assert.ok(matches('imap.latency == 150ms'));
  assert.ok(matches('imap.latency > 0.1 && imap.latency < 0.2s && imap.time >= 150000us'), 'bare numbers are seconds; imap.time is the tshark alias');
  assert.ok(!matches('imap.latency > 150ms'));
  assert.ok(matches('imap.request.missing == false && imap.request.missing != 1'));
  assert.ok(matches('imap.status == "OK" && imap.response.status == OK'), 'a bare word on the right is a value');
  assert.ok(matches('frame.number == 10 && imap.response_in == 12 && imap.response_to == 10'));
});

test('contains, matches with (?i), in with values and ranges, not in', () => {
  assert.ok(matches('imap.args contains "FLAGS"'));
  assert.ok(!matches('imap.args contains "flags"'));
  assert.ok(matches('imap.args matches "(?i)\\\\(flags\\\\)"'));
  assert.ok(!matches('imap.args matches "\\\\(flags\\\\)"'));
  assert.ok(matches('imap.command in {"LOGIN" "UID FETCH"}'));
  assert.ok(matches('imap.command in {"LOGIN", "UID FETCH"}'));
  assert.ok(matches('imap.untagged in {1..3 9}'));
  assert.ok(!matches('imap.untagged in {4..8}'));
  assert.ok(matches('imap.tag not in {"A2" "A3"}'));
  assert.ok(matches('imap.latency in {100ms..200ms}'));
});

test('addresses: IPv4 and IPv6, CIDR blocks, any-value == and all-values != on ip.addr and tcp.port', () => {
  assert.ok(matches('ip.src == 10.1.2.3 && ip.dst == 2001:db8::1'));
  assert.ok(matches('ip.addr == 10.0.0.0/8'));
  assert.ok(matches('ip.addr == 2001:db8::/32'));
  assert.ok(!matches('ip.src == 10.1.2.0/30 && ip.src == 192.168.0.0/16'));
  assert.ok(matches('tcp.port == 143 && tcp.port == 50000'), 'either end');
  assert.ok(!matches('tcp.port != 143'), '!= holds only when no value equals');
  assert.ok(matches('tcp.port != 993'));
  assert.ok(matches('ipv6.addr == 2001:db8::1'));
});

test('presence: a bare field tests that it is there; absent fields make every relation false', () => {
  assert.ok(matches('imap.response.code'));
  assert.ok(!matches('imap.response.code', record(exchange({ code: null }))));
  assert.ok(!matches('tls'));
  assert.ok(matches('tls', record(exchange(), { tls: { how: 'starttls' } as ImapConnection['tls'] })));
  const incomplete = record(exchange({ status: null, end: null, responseFrame: null }));
  assert.ok(!matches('imap.status == "OK"', incomplete));
  assert.ok(!matches('imap.status != "OK"', incomplete), 'absent: != is false too');
  assert.ok(matches('!imap.status', incomplete), 'incomplete exchanges: no status');
  assert.ok(!matches('imap.latency < 1s', incomplete));
  assert.ok(matches('imap.user == "alice" && imap.client == "Thunderbird" && imap.client.version == "115"'));
});

test('connection level: exchange fields are refused where there are only connections (streams)', () => {
  assert.throws(() => compileFilter('imap.command == "LOGIN"', { level: 'connection', context: 'streams' }), /streams filters on connection fields only/);
  const f = compileFilter('tcp.stream == 0 && imap.user == "alice"', { level: 'connection' });
  assert.equal(f.usesExchangeFields, false);
  assert.ok(f.test(record(null)));
  assert.equal(compileFilter('frame.number > 3').usesExchangeFields, true);
});

test('every field resolves by its name and its aliases, and has a type and a meaning', () => {
  for (const f of FIELDS) {
    assert.equal(lookupField(f.name), f);
    for (const a of f.aliases) assert.equal(lookupField(a), f);
    assert.ok(f.description.length > 10, f.name);
  }
  const tshark = ['imap.request_tag', 'imap.response_tag', 'imap.request.command', 'imap.response.status', 'imap.time', 'imap.response_in', 'imap.response_to', 'imap.request.command.uid'];
  for (const name of tshark) assert.ok(lookupField(name), name);
});
