/**
 * How deep a result is searched for columns: they stand near its top (compare's at depth 3). Bounded rather than
 * tracked with a set of the objects seen, which on a result of 100,000 connection records took 30 MiB just as the
 * result was sent; the bound also ends cycles.
 */
const MAX_DEPTH = 6;

/**
 * The memory a task's result owns whole: the ArrayBuffers under its typed arrays (compare's and summary's columns), to
 * be moved to the thread that takes the result rather than copied (a copy doubled them while the worker still held
 * its own). Only a buffer a view spans entirely is taken: a Node Buffer may be a slice of a shared pool, and a view of
 * part of a buffer leaves the rest to something else. Empty and resizable buffers stay.
 */
export function ownedBuffers(value: unknown): ArrayBuffer[] {
  const found = new Set<ArrayBuffer>();
  const visit = (v: unknown, depth: number): void => {
    if (typeof v !== 'object' || v === null || depth > MAX_DEPTH) return;
    if (ArrayBuffer.isView(v)) {
      const buffer = v.buffer;
      const whole = v.byteOffset === 0 && v.byteLength === buffer.byteLength && v.byteLength > 0;
      if (whole && buffer instanceof ArrayBuffer && !Buffer.isBuffer(v) && !(buffer as { resizable?: boolean }).resizable) found.add(buffer);
      return;
    }
    if (v instanceof Map) {
      for (const [key, item] of v) {
        visit(key, depth + 1);
        visit(item, depth + 1);
      }
      return;
    }
    if (v instanceof Set) {
      for (const item of v) visit(item, depth + 1);
      return;
    }
    for (const item of Object.values(v)) visit(item, depth + 1);
  };
  visit(value, 0);
  return [...found];
}
