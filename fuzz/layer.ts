import type { Rng } from './rng.js';

/**
 * One fuzzing harness: a layer of imapscope driven alone with hostile input. `run` throws (an
 * InvariantError or whatever escaped the code under test) when something is wrong; returning means the
 * input was handled. Inputs are bytes so any harness can be mutated, minimised and replayed alike.
 */
export interface Layer {
  name: string;
  about: string;
  /** Starting corpus: pieces of the recorded captures and valid protocol sessions. */
  seeds(): Buffer[];
  /** Tokens the mutator splices in: keywords, magic numbers, delimiters of the format. */
  dictionary?: readonly Buffer[];
  /** Structure-aware generator: a fresh, mostly valid input (then mutated like any other). */
  generate?(rng: Rng): Buffer;
  /** Inputs are cut to this many bytes (default 64 KiB). */
  maxLength?: number;
  run(input: Buffer): void | Promise<void>;
}
