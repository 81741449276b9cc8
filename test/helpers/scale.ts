import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateScaleCapture, type ScaleKind, type ScaleSummary } from '../../bench/scale-captures.js';

/** A capture of the bench's `kind` with `count`, made in a temporary directory for `use` and removed after it. */
export async function withScaleCapture<T>(kind: ScaleKind, count: number, use: (path: string, made: ScaleSummary) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), `imapscope-${kind}-`));
  try {
    const path = join(dir, `${kind}.pcap`);
    return await use(path, await generateScaleCapture(kind, count, path));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
