/**
 * One shared flag per worker thread that holds its capture reading back: the main thread closes a worker's
 * gate while the output cannot take what the worker sends (stdout is a slow pipe, or the worker's capture waits
 * behind others with much of its output held here), and the worker's reader, asking `room()` after each
 * chunk as in the main thread, waits until the gate opens. Without it, a slow stdout made the main thread
 * queue whatever the workers sent.
 */
const OPEN = 0;
const CLOSED = 1;

/** The main thread's side: a gate per worker slot. */
export class WorkerGates {
  readonly buffer: SharedArrayBuffer;
  private readonly flags: Int32Array;

  constructor(slots: number) {
    this.buffer = new SharedArrayBuffer(4 * Math.max(1, slots));
    this.flags = new Int32Array(this.buffer);
  }

  /** Close `slot`'s gate until `until` settles (either way). */
  pause(slot: number, until: Promise<void>): void {
    Atomics.store(this.flags, slot, CLOSED);
    const open = () => this.open(slot);
    until.then(open, open);
  }

  /** Every gate open: nothing may stay waiting when the pool ends. */
  openAll(): void {
    for (let slot = 0; slot < this.flags.length; slot++) this.open(slot);
  }

  private open(slot: number): void {
    Atomics.store(this.flags, slot, OPEN);
    Atomics.notify(this.flags, slot);
  }
}

interface AsyncWait {
  async: boolean;
  value: Promise<string> | string;
}

/** The worker's side: its reader's `room()` — null while the gate is open, else a promise that settles when it opens. */
export function gateRoom(buffer: SharedArrayBuffer, slot: number): () => Promise<void> | null {
  const flags = new Int32Array(buffer);
  // Atomics.waitAsync is in Node 16+ (V8), not yet in TypeScript's ES2022 library.
  const waitAsync = (Atomics as unknown as { waitAsync(a: Int32Array, i: number, v: number): AsyncWait }).waitAsync;
  return () => {
    if (Atomics.load(flags, slot) === OPEN) return null;
    const wait = waitAsync(flags, slot, CLOSED);
    return wait.async ? (wait.value as Promise<string>).then(() => undefined) : null;
  };
}
