import { createViews, readManifest } from '../../fleet/dataset.js';
import { openDuckDb, plainConverter } from '../../fleet/duckdb.js';
import { makeTable } from '../../report/format.js';
import { escapeText } from '../../util/escape.js';
import { jsonText } from '../../util/json.js';
import { UsageError } from '../errors.js';
import { output } from '../output.js';

type SqlFormat = 'text' | 'json' | 'csv';

export async function runSql(dir: string, query: string, opts: { output: SqlFormat }): Promise<void> {
  const manifest = await readManifest(dir);
  if (!manifest) throw new UsageError(`${dir}: not an imapscope dataset (no imapscope-dataset.json; write one with imapscope export --out ${dir})`);
  const db = await openDuckDb();
  try {
    if (!await createViews(db, dir, manifest.format)) throw new UsageError(`${dir}: the dataset holds no captures yet`);
    let result;
    try {
      result = await db.runAndReadAll(query);
    } catch (err) {
      throw new UsageError(`sql: ${firstLine((err as Error).message)}`);
    }
    const columns = result.columnNames();
    const rows = result.convertRows(await plainConverter());
    output.write(render(opts.output, columns, rows));
  } finally {
    db.closeSync();
  }
}

function firstLine(s: string): string {
  return s.split('\n').filter((l) => l.trim() !== '').slice(0, 2).join(' ').trim();
}

type Cell = unknown;

export function render(format: SqlFormat, columns: string[], rows: Cell[][]): string {
  if (format === 'json') return `${jsonText(rows.map((r) => Object.fromEntries(columns.map((c, i) => [c, r[i] ?? null]))), 2)}\n`;
  if (format === 'csv') return [columns, ...rows.map((r) => r.map(cellText))].map((r) => r.map(csvField).join(',')).join('\r\n') + '\r\n';
  const table = makeTable(columns.map(escapeText));
  for (const r of rows) table.push(r.map((v) => escapeText(cellText(v))));
  return `${table.toString()}\n${rows.length} row${rows.length === 1 ? '' : 's'}\n`;
}

function cellText(v: Cell): string {
  if (v === null || v === undefined) return '';
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

/** RFC 4180: quote a field holding a comma, quote, CR or LF; double the quotes. */
function csvField(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
