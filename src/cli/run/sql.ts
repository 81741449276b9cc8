import { join } from 'node:path';
import { readRows, RowFile } from '../../analysis/connection-rows.js';
import { createViews, readManifest } from '../../fleet/dataset.js';
import { plainConverter, withDuckDb } from '../../fleet/duckdb.js';
import { tablePieces } from '../../report/table.js';
import { escapeText } from '../../util/escape.js';
import { indentedElements } from '../../util/json.js';
import { UsageError } from '../errors.js';
import { output } from '../output.js';
import { spillDirectory } from '../spill.js';
import type { TempDir } from '../../util/temp-dir.js';

type SqlFormat = 'text' | 'json' | 'csv';

type Cell = unknown;

/**
 * Run the query, then write its rows a chunk (2,048 rows) at a time from DuckDB's result: a dataset's fetches table can
 * hold millions (`SELECT * FROM fetches` of a 1 GiB folder sync, 1.7 million rows, took 5.6 GiB when every row was
 * made a JavaScript value and the output one string; DuckDB's own copy of the result takes about 0.4 KiB a row).
 * JSON and CSV are written as they come; a text table, whose columns are as wide as their widest cell, waits in a file
 * of a private temporary directory until its widths are known. The result is not streamed from DuckDB: a streamed
 * result that fails half-way ends like one that is complete (the bindings' fetch_chunk returns null for both, and
 * they do not expose duckdb_result_error), so a failed cast in row 1,500,000 printed 1,247,232 rows and exit 0.
 */
export async function runSql(dir: string, query: string, opts: { output: SqlFormat }): Promise<void> {
  const manifest = await readManifest(dir);
  if (!manifest) throw new UsageError(`${dir}: not an imapscope dataset (no imapscope-dataset.json; write one with imapscope export --out ${dir})`);
  // One private directory, removed after: what does not fit in DuckDB's memory (80 % of the machine's), and a text
  // table's rows until its widths are known.
  const spill = spillDirectory('spill a query and its table to', 'all of it');
  try {
    await withDuckDb(spill?.path ?? null, async (db) => {
      if (!await createViews(db, dir, manifest.format)) throw new UsageError(`${dir}: the dataset holds no captures yet`);
      const result = await queryError(() => db.run(query));
      const rows = result.yieldConvertedRows(await plainConverter());
      const columns = result.columnNames();
      if (opts.output === 'text') await writeTable(columns, rows, spill);
      else await writeEach(opts.output, columns, rows);
    });
  } finally {
    spill?.remove();
  }
}

/** DuckDB's error, as a usage error of one line (exit 2). */
async function queryError<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    throw new UsageError(`sql: ${firstLine((err as Error).message)}`);
  }
}

function firstLine(s: string): string {
  return s.split('\n').filter((l) => l.trim() !== '').slice(0, 2).join(' ').trim();
}

/** JSON (as jsonText(rows as objects, 2) writes it) or CSV (RFC 4180, CRLF), chunk by chunk. */
async function writeEach(format: 'json' | 'csv', columns: string[], chunks: AsyncIterable<Cell[][]>): Promise<void> {
  let none = true;
  if (format === 'csv') await output.pieces([`${columns.map(csvField).join(',')}\r\n`]);
  else output.write('[');
  for await (const rows of chunks) {
    if (rows.length === 0) continue;
    if (format === 'csv') {
      await output.pieces([rows.map((r) => `${r.map((v) => csvField(cellText(v))).join(',')}\r\n`).join('')]);
      continue;
    }
    // Each chunk's elements as they stand in the whole array, from the line break before the first.
    const objects = rows.map((r) => Object.fromEntries(columns.map((c, i) => [c, r[i] ?? null])));
    await output.pieces([`${none ? '' : ','}${indentedElements(objects, 2, 1)}`]);
    none = false;
  }
  if (format === 'json') output.write(none ? ']\n' : '\n]\n');
}

/** A table fitted to the terminal, then the count of rows. Its rows wait on disk in `dir` (in memory when there is none). */
async function writeTable(columns: string[], chunks: AsyncIterable<Cell[][]>, dir: TempDir | null): Promise<void> {
  const file = dir ? new RowFile(join(dir.path, 'rows')) : null;
  const held: string[][] = [];
  let count = 0;
  for await (const rows of chunks) {
    for (const r of rows) {
      const cells = r.map((v) => escapeText(cellText(v)));
      if (file) file.add(JSON.stringify(cells));
      else held.push(cells);
      count++;
    }
  }
  const places = file?.finish();
  // Read twice: once to measure the columns, once to draw them.
  await output.pieces(tablePieces(columns.map(escapeText), places ? () => mapRows(readRows(places)) : () => held));
  output.write(`\n${count} row${count === 1 ? '' : 's'}\n`);
}

/** Rows read back from the file, one at a time. */
function* mapRows(texts: Iterable<string>): Generator<string[]> {
  for (const text of texts) yield JSON.parse(text) as string[];
}

function cellText(v: Cell): string {
  if (v === null || v === undefined) return '';
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

/** RFC 4180: quote a field holding a comma, quote, CR or LF; double the quotes. */
function csvField(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
