/**
 * The memory a task's result owns whole: the ArrayBuffers under its typed arrays (compare's and summary's columns), to
 * be moved to the thread that takes the result rather than copied (a copy doubled them while the worker still held
 * its own). Only a buffer a view spans entirely is taken: a Node Buffer may be a slice of a shared pool, and a view of
 * part of a buffer leaves the rest to something else. Empty and resizable buffers stay.
 */
export function ownedBuffers(value: unknown): ArrayBuffer[] {
  const found = new Set<ArrayBuffer>();
  const seen = new Set<object>();
  const visit = (v: unknown): void => {
    if (typeof v !== 'object' || v === null || seen.has(v)) return;
    seen.add(v);
    if (ArrayBuffer.isView(v)) {
      const buffer = v.buffer;
      const whole = v.byteOffset === 0 && v.byteLength === buffer.byteLength && v.byteLength > 0;
      if (whole && buffer instanceof ArrayBuffer && !Buffer.isBuffer(v) && !(buffer as { resizable?: boolean }).resizable) found.add(buffer);
      return;
    }
    if (v instanceof Map) {
      for (const [key, item] of v) {
        visit(key);
        visit(item);
      }
      return;
    }
    if (v instanceof Set) {
      for (const item of v) visit(item);
      return;
    }
    for (const item of Object.values(v)) visit(item);
  };
  visit(value);
  return [...found];
}
