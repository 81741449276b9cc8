import type { CaptureSettings } from '../settings.js';
import { inOrder } from '../parallel/pool.js';
import { DatasetWriter, type DatasetFormat } from './dataset.js';
import type { CaptureFile } from './rows.js';
import type { TableName } from './tables.js';
import { expandCaptures, hashFile } from './walk.js';

export interface ExportReport {
  /** Captures added by this run, in argument order. */
  added: string[];
  /** Captures left out: their content is in the dataset already (or twice among the arguments). */
  skipped: { path: string; sameAs: string | null }[];
  rows: Record<TableName, number>;
  /** The batch written, or null when nothing was new. */
  batch: number | null;
}

/**
 * Add captures (files, or directories walked for captures) to the dataset at `out`. A capture whose
 * content (SHA-256) is there already is skipped, so running again on a grown directory adds only the new
 * files. Captures are analysed `jobs` at a time in worker threads; rows are written in argument order.
 */
export async function exportDataset(inputs: readonly string[], out: string, format: DatasetFormat, jobs: number, settings: CaptureSettings): Promise<ExportReport> {
  const paths = await expandCaptures(inputs);
  const writer = await DatasetWriter.open(out, format);
  try {
    const known = await writer.knownHashes();
    const seen = new Map<string, string>();
    const files: CaptureFile[] = [];
    const skipped: ExportReport['skipped'] = [];
    for (const path of paths) {
      const { sha256, size } = await hashFile(path);
      if (known.has(sha256) || seen.has(sha256)) {
        skipped.push({ path, sameAs: seen.get(sha256) ?? null });
        continue;
      }
      seen.set(sha256, path);
      files.push({ path, sha256, size });
    }
    for await (const rows of inOrder('exportRows', files.map((f) => [f, settings] as [CaptureFile, CaptureSettings]), jobs)) await writer.append(rows);
    const batch = await writer.commit();
    return { added: files.map((f) => f.path), skipped, rows: writer.counts, batch };
  } catch (err) {
    await writer.discard();
    throw err;
  }
}
