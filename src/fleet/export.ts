import { UsageError } from '../cli/errors.js';
import type { CaptureSettings } from '../settings.js';
import { jobsFor, type Jobs } from '../parallel/jobs.js';
import { inOrder } from '../parallel/pool.js';
import { DatasetWriter, type DatasetFormat } from './dataset.js';
import { returnFreedMemoryAtOnce } from './duckdb.js';
import { STREAMED_TABLES, type CaptureFile, type RowsScratch } from './rows.js';
import type { TableName } from './tables.js';
import { expandCaptures, hashFile } from './walk.js';

export interface ExportReport {
  /** Captures added by this run, in argument order. */
  added: string[];
  /** Captures left out: their content is in the dataset already (or twice among the arguments). */
  skipped: { path: string; sameAs: string | null }[];
  rows: Record<TableName, number>;
  /** The batch written, or null when nothing was new or the run was interrupted. */
  batch: number | null;
  /** Ctrl-C stopped the run before its batch was in place: nothing was added. */
  interrupted: boolean;
}

/**
 * Add captures (files, or directories walked for captures) to the dataset at `out`. A capture whose
 * content (SHA-256) is there already is skipped, so running again on a grown directory adds only the new
 * files. Captures are analysed `jobs` at a time in worker threads; rows are written in argument order. Each capture's
 * rows wait in the dataset's temporary directory with at most `budget` fetched messages and sections held (RowsScratch).
 */
export async function exportDataset(inputs: readonly string[], out: string, format: DatasetFormat, jobs: Jobs, settings: CaptureSettings, budget: number, signal?: AbortSignal): Promise<ExportReport> {
  if (inputs.includes('-')) throw new UsageError('export reads capture files (each is known by the hash of its bytes); save standard input to a file first');
  // Before DuckDB is loaded (by knownHashes or the conversion): what a conversion frees goes back to the system at once.
  returnFreedMemoryAtOnce();
  const paths = await expandCaptures(inputs);
  // Every file is read (hashed) before anything is written: a missing one fails the run, not the dataset.
  const hashed: CaptureFile[] = [];
  for (const path of paths) hashed.push({ path, ...await hashFile(path) });
  const writer = await DatasetWriter.open(out, format);
  try {
    const known = await writer.knownHashes();
    const seen = new Map<string, string>();
    const files: CaptureFile[] = [];
    const skipped: ExportReport['skipped'] = [];
    for (const file of hashed) {
      if (known.has(file.sha256) || seen.has(file.sha256)) {
        skipped.push({ path: file.path, sameAs: seen.get(file.sha256) ?? null });
        continue;
      }
      seen.set(file.sha256, file.path);
      files.push(file);
    }
    // The long tables' rows come as text while each capture is analysed (a later capture's wait for its turn, past a
    // budget in the dataset's scratch directory: nothing is written outside --out).
    const sink = (table: string, text: string) => writer.write(table as TableName, text);
    const scratch: RowsScratch = { dir: writer.scratch, budget };
    const sizes = files.map((f) => f.size);
    for await (const { rows, streamed } of inOrder('exportRows', files.map((f) => [f, settings, scratch] as [CaptureFile, CaptureSettings, RowsScratch]), jobsFor(jobs, paths, sizes), sink, { signal }, { sizes, heldIn: writer.scratch })) {
      for (const table of STREAMED_TABLES) writer.count(table, streamed[table]);
      writer.append(rows);
    }
    // A batch is all of its captures or none: after Ctrl-C, none (commit adds nothing, and discards the batch).
    const batch = await writer.commit(signal);
    if (batch === null && signal?.aborted) return { added: [], skipped, rows: writer.counts, batch: null, interrupted: true };
    return { added: files.map((f) => f.path), skipped, rows: writer.counts, batch, interrupted: false };
  } catch (err) {
    await writer.discard();
    throw err;
  }
}
