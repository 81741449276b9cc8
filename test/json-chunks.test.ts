import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { StreamedArray, jsonTextChunks } from '../src/report/json-chunks.js';
import { jsonText } from '../src/util/json.js';
import { analyzeCapture } from '../src/analysis/analyzer.js';
import { summaryJson, summaryJsonStreamed } from '../src/report/summary.js';
import { CAPTURES } from './helpers/env.js';
import { runCli } from './helpers/cli.js';

test('a document with streamed arrays is written in pieces as the same text as jsonText gives whole', () => {
  let made = 0;
  const rows = new StreamedArray(function* () {
    for (let i = 0; i < 3; i++) {
      made++;
      yield { id: i, name: `c${i}\u2028`, nested: { list: [i, [i + 1]], empty: [], none: null }, skipped: undefined };
    }
  });
  const doc = {
    head: { a: 1, b: [] },
    rows,
    empty: new StreamedArray(() => []),
    deeper: { max: 2, inner: new StreamedArray(() => [[1, 2], {}, 'x']), gone: undefined },
    emptyObject: {},
    tail: 'end',
  };
  const whole = jsonText(doc, 2);
  assert.equal(made, 3, 'serialised whole, a streamed array is an ordinary array');
  assert.equal([...jsonTextChunks(doc)].join(''), whole);
  assert.ok([...jsonTextChunks(doc)].length > 10, 'written in many pieces');
  assert.match(whole, /\\u2028/, 'output escapes still apply');
  assert.equal([...jsonTextChunks({ only: new StreamedArray(() => []) })].join(''), '{\n  "only": []\n}');
});

test('summary --json on a recorded capture: the streamed text parses to the summary document', async () => {
  const path = join(CAPTURES, 'mbsync.pcap');
  const a = await analyzeCapture(path);
  const streamed = [...jsonTextChunks(summaryJsonStreamed([a]))].join('');
  assert.equal(streamed, jsonText(summaryJson([a]), 2));
  const doc = JSON.parse(streamed) as { connections: { id: number }[]; concurrency: { overlaps: unknown[] } };
  assert.ok(doc.connections.length > 0);
  assert.equal(doc.concurrency.overlaps.length, doc.connections.length);
  // The command line writes the same text.
  const cli = runCli(['summary', '--json', path]);
  assert.equal(cli.code, 0, cli.stderr);
  assert.equal(cli.stdout, `${jsonText(summaryJson([a]), 2)}\n`);
});
