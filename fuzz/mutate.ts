import type { Rng } from './rng.js';

/** Values that make length fields, counters and offsets misbehave. */
const INTERESTING = [0, 1, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xffffffff];
/** Characters that matter to a terminal or to a text format: C0, DEL, C1 (CSI), bidi overrides (UTF-8). */
const HOSTILE_TEXT = ['\x1b[31m', '\x9b', '\x00', '\x7f', '\r', '\n', '\r\n', '\u202e', '\u2066', '"', '\\', '{', '}', '(', ')', ' ', '..', '/'];

/**
 * Byte-level mutation in the manner of libFuzzer's default mutators: change, insert, erase and copy
 * bytes and ranges, write interesting integers, splice in dictionary tokens and other corpus inputs.
 * Several steps are stacked per input.
 */
export class Mutator {
  private readonly tokens: Buffer[];

  constructor(private readonly rng: Rng, dictionary: readonly Buffer[], private readonly maxLength: number) {
    this.tokens = [...dictionary, ...HOSTILE_TEXT.map((t) => Buffer.from(t, 'utf8'))];
  }

  mutate(input: Buffer, other: () => Buffer): Buffer {
    let b = input;
    const steps = 1 + this.rng.small(8);
    for (let i = 0; i < steps; i++) b = this.step(b, other);
    return b.length > this.maxLength ? b.subarray(0, this.maxLength) : b;
  }

  private step(b: Buffer, other: () => Buffer): Buffer {
    const r = this.rng;
    const at = (n = b.length) => r.int(n + 1);
    switch (r.int(10)) {
      case 0: { // flip a bit
        if (b.length === 0) return b;
        const c = Buffer.from(b);
        const i = r.int(c.length);
        c[i] = c[i]! ^ (1 << r.int(8));
        return c;
      }
      case 1: { // set a byte
        if (b.length === 0) return Buffer.from([r.int(256)]);
        const c = Buffer.from(b);
        c[r.int(c.length)] = r.int(256);
        return c;
      }
      case 2: { // write an interesting integer, either byte order, 1/2/4 bytes
        if (b.length < 4) return b;
        const c = Buffer.from(b);
        const v = r.pick(INTERESTING);
        const i = r.int(c.length - 3);
        const size = r.pick([1, 2, 4]);
        if (size === 1) c[i] = v & 0xff;
        else if (size === 2) r.chance(0.5) ? c.writeUInt16BE(v & 0xffff, i) : c.writeUInt16LE(v & 0xffff, i);
        else r.chance(0.5) ? c.writeUInt32BE(v >>> 0, i) : c.writeUInt32LE(v >>> 0, i);
        return c;
      }
      case 3: { // erase a range
        if (b.length === 0) return b;
        const i = r.int(b.length);
        const n = 1 + r.small(Math.min(256, b.length - i));
        return Buffer.concat([b.subarray(0, i), b.subarray(i + n)]);
      }
      case 4: { // duplicate a range (repeats, overlaps, nesting)
        if (b.length === 0) return b;
        const i = r.int(b.length);
        const n = 1 + r.small(Math.min(4096, b.length - i));
        const piece = b.subarray(i, i + n);
        const times = r.chance(0.1) ? 2 + r.small(200) : 1;
        const j = at();
        return Buffer.concat([b.subarray(0, j), ...Array<Buffer>(times).fill(piece), b.subarray(j)]);
      }
      case 5: case 6: { // insert a dictionary token
        const j = at();
        return Buffer.concat([b.subarray(0, j), r.pick(this.tokens), b.subarray(j)]);
      }
      case 7: { // overwrite with a token
        const t = r.pick(this.tokens);
        if (b.length < t.length) return b;
        const c = Buffer.from(b);
        t.copy(c, r.int(c.length - t.length + 1));
        return c;
      }
      case 8: { // splice with another corpus input
        const o = other();
        const j = at();
        const k = r.int(o.length + 1);
        return Buffer.concat([b.subarray(0, j), o.subarray(k, k + 1 + r.small(4096))]);
      }
      default: { // truncate, or insert random bytes
        if (r.chance(0.3)) return b.subarray(0, r.int(b.length + 1));
        const j = at();
        const n = 1 + r.small(64);
        const bytes = Buffer.alloc(n);
        for (let i = 0; i < n; i++) bytes[i] = r.int(256);
        return Buffer.concat([b.subarray(0, j), bytes, b.subarray(j)]);
      }
    }
  }
}
