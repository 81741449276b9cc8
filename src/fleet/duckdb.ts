/**
 * Embedded DuckDB, loaded only by the commands that need it (export, sql): the rest of imapscope and the
 * library never pay for the native module.
 */
import { createRequire } from 'node:module';
import type { DuckDBConnection, DuckDBType, DuckDBValue, DuckDBValueConverter, Json } from '@duckdb/node-api';

export type { DuckDBConnection };

type DuckDbApi = typeof import('@duckdb/node-api');
let api: Promise<DuckDbApi> | null = null;

/**
 * The DuckDB API, loaded on first use. Its bindings (1.5) decode every VARCHAR with one shared `new TextDecoder()`,
 * which drops a byte order mark (U+FEFF) at the start of a value: a subject that begins with one would lose it in
 * `sql`'s output. The decoder is replaced by one that keeps it; should a later version move it, nothing is replaced
 * (and the test that sends such text through Parquet fails).
 */
function duckDbApi(): Promise<DuckDbApi> {
  // Required, not imported: the package is CommonJS, and the bin's bundle is a script without a loader for import().
  api ??= Promise.resolve().then(() => {
    const require = createRequire(import.meta.url);
    const loaded = require('@duckdb/node-api') as DuckDbApi;
    try {
      const accessors = require('@duckdb/node-api/lib/vectors/dataAccessors.js') as { textDecoder?: unknown };
      if (accessors.textDecoder instanceof TextDecoder) accessors.textDecoder = new TextDecoder('utf-8', { ignoreBOM: true });
    } catch {
      // Not where 1.5 keeps it: the values are decoded as the bindings do.
    }
    return loaded;
  });
  return api;
}

/**
 * DuckDB's own allocator (the jemalloc built into libduckdb) keeps freed pages for 5 s before giving them back, so what a
 * conversion frees and allocates again (its read buffers, a row group) adds up in the process's memory: converting the
 * 1 GiB folder sync's fetches table peaked 12-34 MiB higher than with the pages given back at once. Giving them back
 * costs time: that conversion about a sixth more, and an `sql` query that counts 6.8 million distinct hashes 1.22x
 * (docs/benchmarks.md, twenty-eighth round). So `export` asks for it and `sql` does not.
 */
const RETURN_AT_ONCE = 'dirty_decay_ms:0,muzzy_decay_ms:0';

/**
 * Have DuckDB's allocator give freed memory back at once. It reads its settings when the library is loaded, so this
 * must come before the process first uses DuckDB (after, it changes nothing); a setting the user made is kept.
 */
export function returnFreedMemoryAtOnce(): void {
  process.env.DUCKDB_JE_MALLOC_CONF ??= RETURN_AT_ONCE;
}

/**
 * `use` with a fresh in-memory database (the dataset's files are read and written with SQL); the database is closed
 * after, its connection and its instance: DuckDB keeps the memory a query took until its instance is closed, so an
 * export's five conversions in one instance added up (223 MiB against 162 for one instance each, docs/benchmarks.md).
 * What does not fit in DuckDB's memory goes to files in `spill` (left to DuckDB otherwise, they went to `.tmp` in the
 * working directory, outside what the user named); with `spill` null, nowhere: such a query fails.
 */
export async function withDuckDb<T>(spill: string | null, use: (db: DuckDBConnection) => Promise<T>): Promise<T> {
  const { DuckDBInstance } = await duckDbApi();
  const instance = await DuckDBInstance.create(':memory:', { temp_directory: spill ?? '' });
  try {
    const db = await instance.connect();
    try {
      return await use(db);
    } finally {
      db.closeSync();
    }
  } finally {
    instance.closeSync();
  }
}

/** A string as an SQL literal. */
export function sqlString(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

/** A value fit for JSON output: integers as numbers when exact, times as ISO 8601 UTC, decimals as numbers. */
export type PlainValue = Json;

/**
 * Convert DuckDB values for output: like the library's JSON converter, except that counts (BIGINT) stay
 * numbers while they are exact and TIMESTAMPs read as the ISO times the JSON views print.
 */
export async function plainConverter(): Promise<DuckDBValueConverter<Json>> {
  const duckdb = await duckDbApi();
  const { DuckDBTypeId, JsonDuckDBValueConverter } = duckdb;
  const convert: DuckDBValueConverter<Json> = (value: DuckDBValue, type: DuckDBType, _self) => {
    if (value === null) return null;
    switch (type.typeId) {
      case DuckDBTypeId.BIGINT:
      case DuckDBTypeId.UBIGINT:
      case DuckDBTypeId.HUGEINT:
      case DuckDBTypeId.UHUGEINT: {
        const n = Number(value as bigint);
        return Number.isSafeInteger(n) ? n : String(value);
      }
      case DuckDBTypeId.DECIMAL:
        return duckdb.doubleFromDecimalValue(value);
      case DuckDBTypeId.TIMESTAMP:
      case DuckDBTypeId.TIMESTAMP_TZ:
        return isoMicros((value as { micros: bigint }).micros);
      default:
        return JsonDuckDBValueConverter(value, type, convert);
    }
  };
  return convert;
}

/** Microseconds since the epoch as ISO 8601 UTC with six fraction digits (as µs captures print). */
function isoMicros(micros: bigint): string {
  const frac = ((micros % 1_000_000n) + 1_000_000n) % 1_000_000n;
  const seconds = (micros - frac) / 1_000_000n;
  return `${new Date(Number(seconds) * 1000).toISOString().slice(0, 19)}.${String(frac).padStart(6, '0')}Z`;
}
