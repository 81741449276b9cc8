/** JSON output carries no raw C1 control or bidi override from the wire: a terminal showing it must not act on them. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compactJsonPieces, elementPieces, gathered, indentedElements, jsonPieces, jsonText, LazyArray, LazyList, RawJson } from '../src/util/json.js';
import { CLI } from './helpers/env.js';
import { tcpConversation, writeCapture } from './helpers/synth.js';
import { seededInt } from './helpers/random.js';

const HOSTILE = 'in\x9b31mbox\u202etxt.exe\x7f\u2028';

test('jsonText escapes DEL, C1, line separators and bidi controls, and parses back to the same value', () => {
  const text = jsonText({ name: HOSTILE, plain: 'Grüße' }, 2);
  assert.doesNotMatch(text, /[\u007f-\u009f\u2028\u202e]/);
  assert.match(text, /\\u009b31mbox\\u202etxt\.exe\\u007f\\u2028/);
  assert.match(text, /Grüße/, 'printable non-ASCII stays as it is');
  assert.deepEqual(JSON.parse(text), { name: HOSTILE, plain: 'Grüße' });
});

test('jsonText escapes each unsafe character when it is the only character beyond ASCII', () => {
  for (const c of ['\x7f', '\x85', '\x9f', '\u200e', '\u2029', '\u202a', '\u2069']) {
    const text = jsonText({ name: `a${c}b` });
    assert.equal(text, `{"name":"a\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}b"}`);
  }
  assert.equal(jsonText({ name: 'a~b' }), '{"name":"a~b"}', 'printable ASCII stays as it is');
});

test('commands --json and --ndjson escape C1 controls sent in a mailbox name', () => {
  const dir = mkdtempSync(join(tmpdir(), 'imapscope-json-'));
  try {
    const path = join(dir, 'c1.pcap');
    // Arguments are shown as their wire bytes (Latin-1): 0x9b is a C1 control, a CSI to many terminals.
    const mailbox = '"in\x9b31mbox\x85"';
    writeCapture(path, { format: 'pcap', packets: tcpConversation({ exchanges: [
      { from: 'server', data: '* OK ready\r\n' },
      { from: 'client', data: `a1 SELECT ${mailbox}\r\n` },
      { from: 'server', data: 'a1 OK done\r\n' },
    ] }) });
    for (const flag of ['--json', '--ndjson']) {
      const r = spawnSync(process.execPath, [CLI, 'commands', flag, path], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /SELECT/);
      assert.doesNotMatch(r.stdout, /[\u007f-\u009f\u2028\u202e]/, `${flag}: no raw C1 character in the output`);
      assert.match(r.stdout, /in\\u009b31mbox\\u0085/, `${flag}: the CSI byte is there, escaped`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('jsonPieces joined is exactly jsonText, for any value (holes, undefined members, toJSON, hostile text)', () => {
  const samples: unknown[] = [
    {}, [], null, 'x', 3, { a: [] , b: {}, c: [[]], d: [{}] },
    { a: undefined, b: () => 1, c: [undefined, () => 1, Symbol('s')], d: new Date(0), e: Buffer.from('ab') },
    [1, , 3], // eslint-disable-line no-sparse-arrays
    { connections: [{ id: 1, name: HOSTILE, nested: { list: [1, 2, { deep: [3] }] } }, { id: 2 }], tail: 'end' },
    { toJSON: () => ({ replaced: true }) },
  ];
  for (const v of samples) assert.equal([...jsonPieces(v, 2)].join(''), jsonText(v, 2), JSON.stringify(v));
  // Random values of every kind JSON.stringify treats differently, from a seeded generator.
  const rand = seededInt(7);
  const atoms = [null, undefined, true, 0, -1.5, 1e21, NaN, '', 'a"b\\', HOSTILE, () => 0, Symbol('s'), new Date(0), Buffer.from('z'), new Map([[1, 2]])];
  const value = (depth: number): unknown => {
    const kind = depth > 3 ? 0 : rand(4);
    if (kind === 0) return atoms[rand(atoms.length)];
    const n = rand(4);
    if (kind === 1) return Array.from({ length: n }, () => value(depth + 1));
    if (kind === 2) {
      const sparse: unknown[] = [];
      sparse[n + 1] = value(depth + 1);
      return sparse;
    }
    return Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}${rand(2) ? HOSTILE : ''}`, value(depth + 1)]));
  };
  for (let i = 0; i < 3000; i++) {
    // Documents are objects (a bare undefined or function is no JSON at all).
    const v = i % 2 ? { top: value(0), list: [value(1), value(1)] } : [value(1), { x: value(0) }];
    assert.equal([...jsonPieces(v, 2)].join(''), jsonText(v, 2));
  }
});

test('elementPieces joined is the element as indentedElements writes it at its depth, for any value (toJSON, lazy and nested lists, hostile text)', () => {
  const samples: unknown[] = [
    {}, [], null, 'x', 3, { a: [], b: {}, c: [[]], d: [{}] }, { d: new Date(0), e: Buffer.from('ab'), f: undefined },
    { toJSON: () => ({ replaced: [1, { deep: true }] }) }, new Date(0),
    { id: 1, name: HOSTILE, fetches: new LazyArray(() => [{ a: 1 }, { b: [2, 3] }]), notFetched: ['1', '2'] },
    new LazyArray(() => [1, { two: [2] }]),
  ];
  for (const v of samples) {
    for (const depth of [1, 2, 3]) {
      assert.equal([...elementPieces(v, 2, depth)].join(''), indentedElements([v], 2, depth), `${JSON.stringify(v)} at depth ${depth}`);
    }
  }
});

test('a big document comes in pieces: no piece holds more than a batch of 64 elements of its arrays', () => {
  const doc = { connections: Array.from({ length: 1000 }, (_, i) => ({ id: i, text: 'x'.repeat(100) })) };
  const pieces = [...jsonPieces(doc, 2)];
  assert.ok(pieces.length >= 1000 / 64);
  // An element is about 150 characters written: a piece holds at most 64 of them.
  assert.ok(Math.max(...pieces.map((p) => p.length)) < 64 * 160);
});

test('elements holding long lists are written member by member, their lists in batches: no piece holds a long list whole', () => {
  // A profile's connection of many commands: 64 of them made together held 120 MiB in compare's end phase, and one of
  // 400,000 commands written whole was an 18 MB string.
  let made = 0;
  let written = 0;
  const commands = 5000;
  const connection = (id: number) => ({ conn: id, commands: Array.from({ length: commands }, (_, k) => `UID FETCH ${k}`), bytes: { a: 1 } });
  const connections = new LazyArray(function* () {
    for (let id = 0; id < 10; id++) {
      // Every element made before the last is written: at most one waits in a batch, unwritten.
      assert.ok(made - written <= 1, `${made} made, ${written} written`);
      made++;
      yield connection(id);
    }
  });
  // Small elements are still batched, after a long one too: a short row with a short list goes with 63 others. Deeper
  // down, a member whose own list is long is written member by member too.
  const rows = [{ id: -1, flags: Array.from({ length: commands }, () => '\\Seen') }, ...Array.from({ length: 640 }, (_, id) => ({ id, flags: ['\\Seen'] }))];
  const deep = { a: { list: Array.from({ length: commands }, (_, k) => k), more: [1, 2] } };
  const doc = { connections, rows, deep };
  let text = '';
  let longest = 0;
  const pieces: string[] = [];
  for (const piece of jsonPieces(doc, 2)) {
    text += piece;
    pieces.push(piece);
    longest = Math.max(longest, piece.length);
    written = (text.match(/"conn": /g) ?? []).length;
  }
  assert.equal(made, 10);
  assert.equal(text, jsonText({ connections: Array.from({ length: 10 }, (_, id) => connection(id)), rows, deep }, 2));
  // A batch of 64 commands is 64 lines of about 30 characters; 64 of the short rows, six lines each, 64 * 72.
  assert.ok(longest <= 64 * 72, `the longest piece ${longest} characters`);
  // Each list of 5,000 in batches of 64 (79), twelve such lists, and 640 rows in 10 or 11 batches.
  assert.ok(pieces.length >= 12 * 79 + 10 && pieces.length < 12 * 79 + 200, `${pieces.length} pieces`);
  // Elements of middling lists go in one batch until their lists hold 4,096 entries: five of these, not 64.
  const middling = { rows: Array.from({ length: 20 }, (_, id) => ({ id, flags: Array.from({ length: 1000 }, () => '\\Seen') })) };
  const batches = [...jsonPieces(middling, 2)].filter((p) => p.includes('"id"'));
  assert.deepEqual(batches.map((p) => (p.match(/"id"/g) ?? []).length), [5, 5, 5, 5]);
});

test('jsonPieces of long arrays (written in batches) mixed with lazy and nested elements, at every depth, is exactly jsonText', () => {
  const rand = seededInt(11);
  const row = (i: number): unknown => {
    switch (rand(7)) {
      case 6: {
        const indent = rand(3) === 0 ? 4 : 2;
        return new RawJson(jsonText({ id: i, s: HOSTILE, list: [1, { b: [] }], empty: {} }, indent), indent);
      }
      case 0: {
        const n = rand(70); // drawn once: the array is made again each time it is written
        return new LazyArray(() => Array.from({ length: n }, (_, j) => ({ j, s: HOSTILE })));
      }
      case 1: return rand(2) ? { holds: { rows: new LazyArray(() => [i, undefined, 'x']) } } : { holds: { list: shortOrLong(i) } };
      case 2: return rand(2) ? undefined : () => i;
      case 3: return [i, [i, { deep: HOSTILE }]];
      default: return { id: i, name: `n${i}`, nested: { a: [1, 2], b: rand(2) ? HOSTILE : null } };
    }
  };
  // A LazyList of a few or of hundreds of values, holding another: written with its neighbours or member by member.
  const shortOrLong = (i: number): LazyList<unknown> => {
    const n = rand(3) ? rand(6) : 100 + rand(200);
    return new LazyList(n, () => Array.from({ length: n }, (_, j) => (j % 3 ? { j, s: HOSTILE, u: undefined } : new LazyList(2, () => [i, null]))));
  };
  const plain = (v: unknown): unknown => JSON.parse(JSON.stringify(v) ?? 'null');
  for (let i = 0; i < 200; i++) {
    const list = Array.from({ length: rand(300) }, (_, k) => row(k));
    const doc = rand(2) ? { list, deeper: { more: { list } } } : { top: [list, new LazyArray(() => list)] };
    const text = [...jsonPieces(doc, 2)].join('');
    assert.equal(text, jsonText(doc, 2));
    assert.deepEqual(JSON.parse(text), plain(doc));
  }
});

test('elements holding short LazyLists are written whole with their neighbours, each list made once; long ones, and LazyArrays, member by member', () => {
  let made = 0;
  const element = (i: number, length: number) => ({ id: i, pairs: new LazyList(length, function* () {
    for (let k = 0; k < length; k++) {
      made++;
      yield { k, rows: new LazyList(2, () => ['LOGIN', 'LOGOUT']) };
    }
  }) });
  const text = (doc: unknown) => [...jsonPieces(doc, 2)];
  // 1,000 profiles of two pairs: in batches (about 13 values each, so 64 a batch), each list made once, into the batch.
  const short = { profiles: Array.from({ length: 1000 }, (_, i) => element(i, 2)) };
  const pieces = text(short);
  assert.equal(made, 2 * 1000, 'each short list made once');
  assert.equal(pieces.join(''), jsonText(short, 2));
  assert.ok(pieces.length <= 20, `${pieces.length} pieces`);
  // Past 256 values all told: member by member, made once to write it and only as far as the count went past 256.
  made = 0;
  const long = { profiles: Array.from({ length: 10 }, (_, i) => element(i, 100)) };
  const longPieces = text(long);
  assert.ok(made > 10 * 100 && made <= 10 * (100 + 256 / 5 + 1), `${made} made`);
  assert.equal(longPieces.join(''), jsonText(long, 2));
  assert.ok(longPieces.length >= 10 * 5, `${longPieces.length} pieces`);
  // Only its own members, as JSON.stringify writes them: not one it inherits, nor one that is undefined or a function.
  const odd = Object.assign(Object.create({ inherited: 1 }) as object, { id: 1, skip: undefined, f: () => 1, list: new LazyList(1, () => [undefined]) });
  const oddDoc = { rows: [odd, odd] };
  assert.equal([...jsonPieces(oddDoc, 2)].join(''), jsonText(oddDoc, 2));
  // Longer than 256 by its length: not made to count it.
  made = 0;
  const longer = { profiles: Array.from({ length: 2 }, (_, i) => element(i, 1000)) };
  assert.equal(text(longer).join(''), jsonText(longer, 2));
  assert.equal(made, 2 * 1000 * 2, 'made once by jsonPieces and once by jsonText');
  // A batch is written once it holds 4,096 values, counted all told: 640 elements of 103 values each go 40 a batch.
  const heavy = { rows: Array.from({ length: 640 }, (_, id) => ({ id, list: new LazyList(100, () => Array.from({ length: 100 }, (_, k) => k)) })) };
  const heavyPieces = text(heavy).filter((p) => p.includes('"id"'));
  assert.equal([...jsonPieces(heavy, 2)].join(''), jsonText(heavy, 2));
  assert.deepEqual(heavyPieces.map((p) => (p.match(/"id"/g) ?? []).length), Array.from({ length: 16 }, () => 40));
  // A LazyArray of unknown length inside: member by member, never made to count it (it may be made only once).
  let unknown = 0;
  const lazy = { profiles: Array.from({ length: 100 }, (_, i) => ({ id: i, rows: new LazyArray(() => { unknown++; return [i]; }) })) };
  const lazyPieces = text(lazy);
  assert.equal(unknown, 100);
  assert.equal(lazyPieces.join(''), jsonText(lazy, 2));
  assert.ok(lazyPieces.length >= 100 * 3, `${lazyPieces.length} pieces`);
});

test('LazyArray: made while written (anywhere in the document), the same text as the plain array, and an array to JSON.stringify', () => {
  let made = 0;
  const count = 150;
  const rows = new LazyArray(function* () {
    for (let i = 0; i < count; i++) {
      made++;
      yield { id: i, skip: undefined, name: HOSTILE };
    }
  });
  const plain = { a: 1, deep: { deeper: { rows: Array.from({ length: count }, (_, id) => ({ id, name: HOSTILE })) } }, empty: [] };
  const lazy = { a: 1, deep: { deeper: { rows } }, empty: new LazyArray(() => []) };
  const pieces = jsonPieces(lazy, 2);
  let text = '';
  let madeWhenFirstWritten = -1;
  for (const piece of pieces) {
    text += piece;
    if (madeWhenFirstWritten < 0 && text.includes('"id": 0')) madeWhenFirstWritten = made;
  }
  // Rows are written in batches of 64: the first goes out before the rest are made.
  assert.equal(madeWhenFirstWritten, 64, 'the first batch of rows is written before the next row is made');
  assert.equal(text, jsonText(plain, 2));
  assert.equal(JSON.stringify(lazy), JSON.stringify(plain));
});

test('summary --json (rows made as written) is the same text as the plain summary document', async () => {
  const { analyzeCapture } = await import('../src/analysis/analyzer.js');
  const { summaryJson, summaryJsonStreamed } = await import('../src/report/summary.js');
  const { CAPTURES } = await import('./helpers/env.js');
  const analyses = [await analyzeCapture(join(CAPTURES, 'offlineimap.pcapng')), await analyzeCapture(join(CAPTURES, 'seed-alice.pcap'))];
  for (const set of [analyses.slice(0, 1), analyses]) {
    assert.equal([...jsonPieces(summaryJsonStreamed(set), 2)].join(''), jsonText(summaryJson(set), 2));
  }
  const r = spawnSync(process.execPath, [CLI, 'summary', '--json', join(CAPTURES, 'offlineimap.pcapng')], { encoding: 'utf8' });
  assert.equal(r.stdout, `${jsonText(summaryJson(analyses.slice(0, 1)), 2)}\n`);
});

test('RawJson: its text is written as it is, indented to where it stands, between batches of other elements; with another indent it is written again', () => {
  // 1.50 is not how JSON.stringify writes the number: the text was not serialised again.
  const raw = new RawJson('{\n  "x": 1.50,\n  "y": [\n    "z"\n  ]\n}', 2);
  const rows = new LazyArray(() => [...Array.from({ length: 70 }, (_, i) => i), raw, 'after', raw]);
  const text = [...jsonPieces({ top: { rows } }, 2)].join('');
  // Elements of rows stand at depth 3 (6 spaces); their members one deeper.
  const element = '{\n        "x": 1.50,\n        "y": [\n          "z"\n        ]\n      }';
  assert.equal(text.split(element).length - 1, 2, text);
  assert.deepEqual(JSON.parse(text), { top: { rows: [...Array.from({ length: 70 }, (_, i) => i), { x: 1.5, y: ['z'] }, 'after', { x: 1.5, y: ['z'] }] } });
  assert.equal(text.replaceAll('1.50', '1.5'), jsonText({ top: { rows } }, 2));
  const other = [...jsonPieces({ rows: [raw] }, 4)].join('');
  assert.equal(other, jsonText({ rows: [{ x: 1.5, y: ['z'] }] }, 4));
});

test('compactJsonPieces joined is JSON.stringify\'s text at every depth of streaming, gathered or not, on random values', () => {
  const int = seededInt(20261205);
  const leaves: (() => unknown)[] = [
    () => int(1000) - 500, () => int(1e9) / 7, () => 'text "quoted" \\ </script> \u2028', () => true, () => null,
    () => undefined, () => () => 1, () => Symbol('s'), () => new Date(int(1e12)), () => ({ toJSON: () => ['as', 'json'] }),
    () => new Map([[1, 2]]), () => new Uint8Array([1, 2]), () => NaN, () => -0,
    // Made element by element (the report's connection rows), and text made compact before: written as they are.
    () => {
      const k = int(9);
      return new LazyArray(() => [k, 'x', undefined, { a: [1, new RawJson('{"r":[2,"q\\""]}', 0)] }, new LazyArray(() => [])]);
    },
    () => new RawJson(JSON.stringify({ r: int(99), s: 'q"' }), 0),
  ];
  const value = (depth: number): unknown => {
    if (depth === 0 || int(4) === 0) return leaves[int(leaves.length)]!();
    if (int(2) === 0) return Array.from({ length: int(5) }, () => value(depth - 1));
    return Object.fromEntries(Array.from({ length: int(5) }, (_, i) => [`k${i}${int(3) ? '' : '"\n'}`, value(depth - 1)]));
  };
  for (let n = 0; n < 500; n++) {
    const v = value(5);
    for (const levels of [0, 1, 2, 4, 8]) {
      assert.equal([...compactJsonPieces(v, levels)].join(''), JSON.stringify(v) ?? 'null', `value ${n}, ${levels} levels`);
    }
    assert.equal([...gathered(compactJsonPieces(v, 8), 16)].join(''), JSON.stringify(v) ?? 'null');
  }
});
