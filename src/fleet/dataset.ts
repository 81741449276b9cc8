/**
 * A dataset directory: one sub-directory per table, one file per export run ("batch") in each, and a small
 * manifest naming the format. Layout (docs/fleet.md):
 *
 *   DIR/imapscope-dataset.json      {"dataset":"imapscope","version":1,"format":"parquet"}
 *   DIR/captures/batch-00001.parquet  DIR/connections/batch-00001.parquet  …
 *
 * Spark, Trino or ClickHouse read a table as its directory of Parquet files. Nothing is written outside DIR:
 * files are made in a fresh temporary directory inside it and renamed into place, never over an existing
 * file, never into a linked directory.
 */
import { lstat, mkdir, readFile, readdir, rename, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { UsageError } from '../cli/errors.js';
import { GatheredWriter } from '../util/gathered-writer.js';
import { collectGarbage } from '../util/collect-garbage.js';
import { makeTempDir, type TempDir } from '../util/temp-dir.js';
import { sqlString, withDuckDb, type DuckDBConnection } from './duckdb.js';
import { jsonColumnsArg, TABLE_NAMES, TABLES, type TableName, type TableRows } from './tables.js';

export type DatasetFormat = 'parquet' | 'ndjson';

const MANIFEST = 'imapscope-dataset.json';

/** DuckDB's memory while it converts a batch to Parquet (the same files, written in the same order). */
const DUCKDB_MEMORY = '256MB';
/**
 * One thread, and row groups of 16,384 rows: DuckDB's Parquet writer holds a row group per thread while it fills it,
 * and with its defaults (every core, 122,880 rows) converting 330,000 fetches rows took 270 MiB over the 90 MiB DuckDB
 * itself costs, where this takes 64 MiB, and is no slower (docs/benchmarks.md, twenty-first round).
 */
const DUCKDB_THREADS = 1;
const PARQUET_ROW_GROUP = 16_384;
/**
 * The NDJSON is read as lines by DuckDB's CSV reader, whose buffer can be bounded, and each line made a row by
 * from_json: DuckDB's JSON reader has no such bound, and converting the 1 GiB folder sync's fetches table took 141-143
 * MiB with it against 116-118 this way (docs/benchmarks.md, twenty-eighth round). The reader's longest line is at least
 * this many bytes, more when a table has a longer row, and its buffer twice that (with less room, its scan refused
 * files whose lines came within a few hundred bytes of the bound).
 */
const MIN_LINE_BYTES = 512 * 1024;
const EXTENSION: Record<DatasetFormat, string> = { parquet: 'parquet', ndjson: 'ndjson' };

interface Manifest {
  dataset: 'imapscope';
  version: 1;
  format: DatasetFormat;
}

/** Read a dataset's manifest; a directory without one is not a dataset. */
export async function readManifest(dir: string): Promise<Manifest | null> {
  let text: string;
  try {
    text = await readFile(join(dir, MANIFEST), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new UsageError(`${dir}: cannot read ${MANIFEST}: ${(err as Error).message}`);
  }
  let m: Partial<Manifest>;
  try {
    m = JSON.parse(text) as Partial<Manifest>;
  } catch {
    throw new UsageError(`${dir}: ${MANIFEST} is not valid JSON`);
  }
  if (m.dataset !== 'imapscope' || m.version !== 1 || (m.format !== 'parquet' && m.format !== 'ndjson')) {
    throw new UsageError(`${dir}: ${MANIFEST} is not an imapscope dataset manifest of version 1`);
  }
  return m as Manifest;
}

/** SQL that reads one table of a dataset, with its documented types in either format. */
export function tableSource(dir: string, format: DatasetFormat, table: TableName): string {
  const glob = sqlString(join(resolve(dir), table, `*.${EXTENSION[format]}`));
  return format === 'parquet'
    ? `read_parquet(${glob}, union_by_name = true)`
    : `read_json(${glob}, format = 'newline_delimited', columns = ${jsonColumnsArg(table)})`;
}

/** Views named after the tables, for `sql`. False when the dataset has no batch yet. */
export async function createViews(db: DuckDBConnection, dir: string, format: DatasetFormat): Promise<boolean> {
  if ((await batchNumbers(dir, format)).length === 0) return false;
  for (const table of TABLE_NAMES) await db.run(`CREATE OR REPLACE VIEW ${table} AS SELECT * FROM ${tableSource(dir, format, table)}`);
  return true;
}

/** Batches present, by their number (from the captures table, which is written last). */
async function batchNumbers(dir: string, format: DatasetFormat): Promise<number[]> {
  let names: string[];
  try {
    names = await readdir(join(dir, 'captures'));
  } catch {
    return [];
  }
  const re = new RegExp(`^batch-(\\d+)\\.${EXTENSION[format]}$`);
  return names.map((n) => re.exec(n)).filter((m) => m !== null).map((m) => Number(m[1]));
}

/**
 * Writing one export run into a dataset: rows are appended to NDJSON files in a private temporary
 * directory as captures are analysed; commit() converts them (Parquet through DuckDB, with the documented types)
 * and renames them into the table directories, the captures table last, so an interrupted run leaves no
 * capture marked as exported.
 */
export class DatasetWriter {
  /** Each table's NDJSON file of this batch, written in large writes as rows come; closed (removed) at the end. */
  private readonly files = new Map<TableName, GatheredWriter>();
  readonly counts: Record<TableName, number> = { captures: 0, connections: 0, exchanges: 0, fetches: 0, warnings: 0 };
  /**
   * UTF-8 bytes of the longest text written to each table at once, where it may be longer than MIN_LINE_BYTES: rows
   * come whole, so no row is longer (it sizes the reader's buffer). Shorter texts are not measured.
   */
  private readonly longest: Record<TableName, number> = { captures: 0, connections: 0, exchanges: 0, fetches: 0, warnings: 0 };

  /**
   * tmpDir: the batch's private temporary directory inside the dataset, removed by discard() or when the process ends
   * before (a second Ctrl-C, SIGTERM).
   */
  private constructor(readonly dir: string, readonly format: DatasetFormat, private readonly tmpDir: TempDir) {}

  private get tmp(): string {
    return this.tmpDir.path;
  }

  /** The batch's private temporary directory: what the run spills goes there too, never outside --out. */
  get scratch(): string {
    return this.tmp;
  }

  /** Where DuckDB spills, inside the batch's temporary directory. */
  private get duckDbSpill(): string {
    return join(this.tmp, 'duckdb');
  }

  /** Create or open the dataset at `dir` for a new batch. */
  static async open(dir: string, format: DatasetFormat): Promise<DatasetWriter> {
    const root = resolve(dir);
    await mkdir(root, { recursive: true }).catch((err: Error) => { throw new UsageError(`--out ${dir}: ${err.message}`); });
    const manifest = await readManifest(root);
    if (manifest && manifest.format !== format) throw new UsageError(`--out ${dir}: the dataset there is ${manifest.format}; use --format ${manifest.format} to add to it`);
    if (!manifest) {
      const present = (await readdir(root)).filter((n) => !n.startsWith('.'));
      if (present.length > 0) throw new UsageError(`--out ${dir}: not empty and not an imapscope dataset; name a new or empty directory`);
      await writeFile(join(root, MANIFEST), `${JSON.stringify({ dataset: 'imapscope', version: 1, format } satisfies Manifest)}\n`, { flag: 'wx' });
    }
    for (const table of TABLE_NAMES) await realDirectory(join(root, table));
    let tmp: TempDir;
    try {
      tmp = makeTempDir('.imapscope-tmp-', root);
    } catch (err) {
      throw new UsageError(`--out ${dir}: cannot make a temporary directory: ${(err as Error).message}`);
    }
    const w = new DatasetWriter(root, format, tmp);
    for (const table of TABLE_NAMES) w.files.set(table, new GatheredWriter(join(w.tmp, `${table}.ndjson`), 0o666));
    return w;
  }

  /** SHA-256 of every capture already in the dataset. */
  async knownHashes(): Promise<Set<string>> {
    const known = new Set<string>();
    if ((await batchNumbers(this.dir, this.format)).length === 0) return known;
    await withDuckDb(this.duckDbSpill, async (db) => {
      const result = await db.runAndReadAll(`SELECT DISTINCT sha256 FROM ${tableSource(this.dir, this.format, 'captures')}`);
      for (const [sha] of result.getRows()) if (typeof sha === 'string') known.add(sha);
    });
    return known;
  }

  /** Rows of tables, counted. */
  append(rows: Partial<TableRows>): void {
    for (const table of TABLE_NAMES) {
      for (const row of rows[table] ?? []) this.write(table, `${JSON.stringify(row)}\n`);
      this.counts[table] += rows[table]?.length ?? 0;
    }
  }

  /** NDJSON lines of a table, as a capture's analysis hands them on (counted with count()). */
  write(table: TableName, text: string): void {
    // At most 3 UTF-8 bytes per UTF-16 unit: a text of 64 Ki characters, as rows come, needs no measuring.
    if (3 * text.length > Math.max(MIN_LINE_BYTES, this.longest[table])) this.longest[table] = Math.max(this.longest[table], Buffer.byteLength(text));
    this.files.get(table)!.write(text);
  }

  count(table: TableName, rows: number): void {
    this.counts[table] += rows;
  }

  /**
   * Finish the batch; returns its number, or null when it holds no capture or `signal` came before its files were
   * moved into place (nothing is added). A conversion under way is interrupted by the signal.
   */
  async commit(signal?: AbortSignal): Promise<number | null> {
    this.closeFiles();
    try {
      if (this.counts.captures === 0) return null;
      const batch = Math.max(0, ...(await batchNumbers(this.dir, this.format))) + 1;
      const name = `batch-${String(batch).padStart(5, '0')}.${EXTENSION[this.format]}`;
      if (this.format === 'parquet') await this.toParquet(signal);
      if (signal?.aborted) return null;
      // The captures table last: a batch counts only once its captures rows are in place.
      for (const table of [...TABLE_NAMES.filter((t) => t !== 'captures'), 'captures' as const]) {
        const target = join(this.dir, table, name);
        if (await exists(target)) throw new UsageError(`${target} exists already (is another export writing here?)`);
        await rename(join(this.tmp, `${table}.${EXTENSION[this.format]}`), target);
      }
      return batch;
    } finally {
      await this.discard();
    }
  }

  /** Remove the temporary directory (after commit, or when the run failed). */
  async discard(): Promise<void> {
    this.closeFiles();
    this.tmpDir.remove();
  }

  private closeFiles(): void {
    for (const file of this.files.values()) file.close();
    this.files.clear();
  }

  private async toParquet(signal?: AbortSignal): Promise<void> {
    // The analyses' garbage goes before DuckDB's memory comes on top of it.
    collectGarbage();
    // A database per table: what one conversion took is given back before the next (see withDuckDb).
    for (const table of TABLE_NAMES) {
      if (signal?.aborted) return;
      await withDuckDb(this.duckDbSpill, async (db) => {
        // DuckDB takes what it needs of the machine's memory unless told; past this it spills, inside --out.
        await db.run(`SET memory_limit = '${DUCKDB_MEMORY}'`);
        await db.run(`SET threads = ${DUCKDB_THREADS}`);
        const lines = ndjsonLines(join(this.tmp, `${table}.ndjson`), this.longest[table]);
        const to = sqlString(join(this.tmp, `${table}.parquet`));
        const interrupt = () => db.interrupt();
        signal?.addEventListener('abort', interrupt);
        try {
          await db.run(`COPY (SELECT r.* FROM (SELECT from_json(line, ${jsonStructure(table)}) AS r FROM ${lines})) TO ${to} (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE ${PARQUET_ROW_GROUP})`);
        } catch (err) {
          if (!signal?.aborted) throw err; // DuckDB's "interrupted" is Ctrl-C's doing: the batch is dropped
        } finally {
          signal?.removeEventListener('abort', interrupt);
        }
      });
    }
  }
}

/**
 * SQL reading an NDJSON file as one VARCHAR column of lines, none longer than `longest` bytes. JSON text holds no
 * control characters (JSON.stringify escapes them), so U+0001 never occurs as the CSV reader's delimiter, and quotes
 * and backslashes are nothing to it.
 */
function ndjsonLines(path: string, longest: number): string {
  const line = Math.max(MIN_LINE_BYTES, longest + 1);
  return `read_csv(${sqlString(path)}, columns = {'line': 'VARCHAR'}, header = false, auto_detect = false, delim = chr(1), quote = '', escape = '', buffer_size = ${2 * line}, max_line_size = ${line})`;
}

/** from_json's structure for a table's rows: its columns with their exact types, in order. */
function jsonStructure(table: TableName): string {
  return sqlString(JSON.stringify(Object.fromEntries(TABLES[table].map((c) => [c.name, c.type]))));
}

/** Make `path` a directory of our own: an existing link or file there is refused, not followed. */
async function realDirectory(path: string): Promise<void> {
  try {
    const st = await lstat(path);
    if (!st.isDirectory()) throw new UsageError(`${path} exists and is not a directory (a link?); refusing to write through it`);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    await mkdir(path);
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch {
    return false;
  }
}
