/**
 * Long tables are drawn in slices, plain rows without cli-table3 (src/report/plain-rows.ts): the text must
 * be the very text cli-table3 draws for the whole table in one piece.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import chalk from 'chalk';
import { analyzeCapture } from '../src/analysis/analyzer.js';
import { COMMAND_COLUMNS, exchangeRow } from '../src/report/commands.js';
import { CONNECTION_COLUMNS, connectionRow } from '../src/report/summary.js';
import { FitTable, TableLayout, setTableWidth, tablePieces, type Cell, type ColumnSpec } from '../src/report/table.js';
import { CAPTURES, NO_PUBLIC, PUBLIC, hasPublic, unavailable } from './helpers/env.js';
import { seededRandom } from './helpers/random.js';
import { ONE_COLUMN_EACH, textWidth } from '../src/report/plain-rows.js';
import stringWidth from 'string-width';

const level = chalk.level;
after(() => {
  chalk.level = level;
  setTableWidth(null);
});

const WIDTHS = [null, 120, 40, 12, 1];

/** Pieces joined against cli-table3's one drawing, at every width, with and without colour. */
function assertDrawnAlike(columns: readonly (string | ColumnSpec)[], rows: readonly Cell[][], what: string): void {
  for (const colour of [0, 1]) {
    chalk.level = colour as 0 | 1;
    for (const width of WIDTHS) {
      setTableWidth(width);
      const layout = new TableLayout(columns, rows);
      assert.equal([...layout.pieces(rows)].join(''), layout.draw(rows).join('\n'), `${what}: width ${width}, colour ${colour}`);
    }
  }
}

async function capturesRows(paths: readonly string[]): Promise<{ exchanges: string[][]; connections: Cell[][] }> {
  const exchanges: string[][] = [];
  const connections: Cell[][] = [];
  for (const path of paths) {
    const a = await analyzeCapture(path, { onExchange: (ex) => exchanges.push(exchangeRow(ex, '+0.0 ms', { showSecrets: false })) });
    for (const c of a.connections) connections.push(connectionRow(c, a.capture.first));
  }
  return { exchanges, connections };
}

/** The captures hold a few dozen connections: their rows repeated make a table of several slices. */
function longer(rows: readonly Cell[][]): Cell[][] {
  return Array.from({ length: Math.ceil(140 / rows.length) }, () => rows).flat();
}

const recorded = readdirSync(CAPTURES).filter((n) => /\.pcap(ng)?$/.test(n)).map((n) => join(CAPTURES, n));

test('every exchange and connection row of the recorded captures: sliced and plain drawing equals cli-table3 drawing the whole table', async () => {
  const { exchanges, connections } = await capturesRows(recorded);
  assert.ok(exchanges.length > 3 * 64, `${exchanges.length} rows: several slices`);
  assertDrawnAlike(COMMAND_COLUMNS, exchanges, 'exchanges');
  assertDrawnAlike(CONNECTION_COLUMNS, longer(connections), 'connections');
});

test('the public captures too (other clients, TLS notes, gaps, mid-stream)', { skip: unavailable(!hasPublic && NO_PUBLIC) }, async () => {
  const names = readdirSync(PUBLIC).filter((n) => /\.(pcap|pcapng|cap)$/.test(n));
  const { exchanges, connections } = await capturesRows(names.map((n) => join(PUBLIC, n)));
  assert.ok(exchanges.length > 64, 'more rows than one slice');
  assertDrawnAlike(COMMAND_COLUMNS, exchanges, 'exchanges');
  assertDrawnAlike(CONNECTION_COLUMNS, longer(connections), 'connections');
});

test('cells cli-table3 measures and cuts its own way: wide and combining characters, emoji, line breaks, escapes, short rows', () => {
  const cells: Cell[] = ['', 12, '3.4 ms', 'alice', 'two\nlines', 'ends\n', 'a long text that will have to be cut somewhere', '日本語のテキストです',
    'e\u0301te\u0301', '😀 smile 👩‍👩‍👧', '\u00ad soft', 'tab\there', '+1.0 s', '7 KiB',
    // Coloured cells last: the first tables leave them out.
    '\u001b[31mred\u001b[39m', '\u001b[33myellow\u001b[39m and plain', '\u001b[1mbold\u001b[22m', '\u001b[31mopen\nline\u001b[39m'];
  const random = seededRandom(7);
  for (let round = 0; round < 16; round++) {
    const width = 1 + Math.floor(random() * 6);
    const columns = Array.from({ length: width }, (_, i) => (i === 0 && round % 5 === 0 ? '' : { head: `column ${i}`, shrink: Math.floor(random() * 4), ...(random() < 0.2 ? { align: 'left' as const } : {}) }));
    // Escapes only in some tables: the others must take the plain path throughout.
    const pool = round % 2 ? cells.length : cells.length - 4;
    const rows = Array.from({ length: 20 + Math.floor(random() * 130) }, () =>
      Array.from({ length: random() < 0.03 ? Math.max(1, width - 1) : width }, () => cells[Math.floor(random() * pool)]!));
    assertDrawnAlike(columns, rows, `round ${round}`);
  }
});

test('a FitTable prints what tablePieces writes for the same rows made on demand', () => {
  chalk.level = 0;
  setTableWidth(null);
  const rows = Array.from({ length: 150 }, (_, i): Cell[] => [i, `row ${i}`, i % 7 ? `${i / 10} ms` : '']);
  const table = new FitTable(['n', 'name', 'latency']);
  table.push(...rows);
  assert.equal(table.toString(), [...tablePieces(['n', 'name', 'latency'], () => rows)].join(''));
  assert.equal(table.toString(), new TableLayout(['n', 'name', 'latency'], rows).draw(rows).join('\n'));
});

test('a column of coloured numbers is aligned right as a plain one is: escape sequences are not what the cell says', () => {
  setTableWidth(null);
  for (const colour of [0, 1]) {
    chalk.level = colour as 0 | 1;
    const table = new FitTable(['count', 'name']);
    table.push([chalk.green('5'), 'a'], [chalk.red('1234'), 'b'], [chalk.yellow('(12)'), chalk.bold('c')]);
    const lines = table.toString().split('\n').map((l) => l.replace(/\u001b\[[0-9;]*m/g, ''));
    assert.ok(lines.some((l) => /│ {5}5 │ a/.test(l)), `colour ${colour}: "5" right-aligned under 1234\n${lines.join('\n')}`);
    assert.ok(lines.some((l) => /│ {2}\(12\) │ c/.test(l)), `colour ${colour}: "(12)" right-aligned\n${lines.join('\n')}`);
  }
});

test('text measured by its length is measured as string-width measures it: each fast character alone, and random strings of them and others', () => {
  const fast = [...Array.from({ length: 0x5f }, (_, i) => String.fromCharCode(0x20 + i)), '²', '·', '×', '–', '—', '…', '←', '→', '↔', '↳', '│', '█'];
  for (const c of fast) {
    assert.ok(ONE_COLUMN_EACH.test(c), `${JSON.stringify(c)} takes the fast path`);
    assert.equal(stringWidth(c), 1, `${JSON.stringify(c)} is one column`);
  }
  // Others: wide, combining, emoji presentation, control, zero width, and characters next to the fast ones.
  const slow = ['界', '\u0301', '\ufe0f', '😀', '\u0007', '\u200b', '\u2195', '\u2015', '\u2027', '\u21b4', '\u2589', '¹'];
  for (const c of slow) assert.ok(!ONE_COLUMN_EACH.test(c), `${JSON.stringify(c)} is measured by string-width`);
  const rand = seededRandom(34);
  const alphabet = [...fast, ...slow];
  for (let i = 0; i < 5000; i++) {
    let text = '';
    for (let n = Math.floor(rand() * 12); n > 0; n--) text += alphabet[Math.floor(rand() * (rand() < 0.9 ? fast.length : alphabet.length))];
    assert.equal(textWidth(text), stringWidth(text), JSON.stringify(text));
  }
});
