/**
 * What a graph of objects holds, counted structurally: every object reachable from the roots through own
 * properties, array elements and Map/Set entries (not through closures, buffers or weak references, which
 * are counted as leaves). Deterministic, unlike heap sizes: a test can hold per-connection state to a bound.
 */
export interface Footprint {
  /** Objects by kind: object, Array, Map, Set, buffer (ArrayBuffer or a view), function, weak (WeakRef…). */
  kinds: Record<string, number>;
  /** Objects by constructor name (Object for literals), to say what a bound was exceeded by. */
  classes: Record<string, number>;
  /**
   * Estimated heap bytes, as V8 lays objects out on 64 bits: a three-word header and a word per property,
   * array element or Map/Set slot (three for a Map entry, two for a Set entry). Strings and numbers are not counted.
   */
  bytes: number;
}

const WORD = 8;

/** Count what is reachable from `roots`, leaving out what is reachable from `shared`. */
export function footprint(roots: readonly unknown[], shared: readonly unknown[] = []): Footprint {
  const seen = new Set<object>();
  const kinds: Record<string, number> = {};
  const classes: Record<string, number> = {};
  let words = 0;
  const walk = (start: readonly unknown[], count: boolean) => {
    const stack = [...start];
    while (stack.length > 0) {
      const value = stack.pop();
      if ((typeof value !== 'object' && typeof value !== 'function') || value === null || seen.has(value)) continue;
      seen.add(value);
      const kind = kindOf(value);
      if (count) {
        kinds[kind] = (kinds[kind] ?? 0) + 1;
        const name = (value as { constructor?: { name?: string } }).constructor?.name ?? 'null prototype';
        classes[name] = (classes[name] ?? 0) + 1;
      }
      let slots = 0;
      if (value instanceof Map) {
        for (const [k, v] of value) stack.push(k, v);
        slots = 3 * value.size;
      } else if (value instanceof Set) {
        for (const v of value) stack.push(v);
        slots = 2 * value.size;
      } else if (kind === 'object' || kind === 'Array') {
        const values = Object.values(value);
        for (const v of values) stack.push(v); // not a spread: an array may hold 100,000 and more
        slots = values.length;
      }
      if (count) words += 3 + slots;
    }
  };
  walk(shared, false);
  walk(roots, true);
  return { kinds, classes, bytes: words * WORD };
}

function kindOf(value: object): string {
  if (typeof value === 'function') return 'function';
  if (value instanceof ArrayBuffer || ArrayBuffer.isView(value)) return 'buffer';
  if (value instanceof WeakRef || value instanceof WeakMap || value instanceof WeakSet) return 'weak';
  if (value instanceof Map) return 'Map';
  if (value instanceof Set) return 'Set';
  if (Array.isArray(value)) return 'Array';
  return 'object';
}

/** Per unit: (what `more` holds − what `fewer` holds) / units, kind by kind. */
export function perUnit(more: Footprint, fewer: Footprint, units: number): Footprint {
  const difference = (a: Record<string, number>, b: Record<string, number>) => {
    const out: Record<string, number> = {};
    for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
      const n = ((a[key] ?? 0) - (b[key] ?? 0)) / units;
      if (n !== 0) out[key] = n;
    }
    return out;
  };
  return { kinds: difference(more.kinds, fewer.kinds), classes: difference(more.classes, fewer.classes), bytes: (more.bytes - fewer.bytes) / units };
}
