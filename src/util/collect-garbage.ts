/**
 * A full collection now, when the process allows it (the bin runs node with --expose-gc; a library's host may not).
 * For the moment between a pass over a capture and an end phase that allocates much: V8 lets the heap grow to twice
 * what survived before it collects, so without this the end phase's tables come on top of the pass's garbage.
 */
export function collectGarbage(): void {
  (globalThis as { gc?: () => void }).gc?.();
}
