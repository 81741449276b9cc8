/**
 * Numbers appended one at a time (a value per session or per exchange), kept in a typed array that grows by half as it
 * fills. Its bytes lie outside the collected heap, so a list that grows with the capture adds nothing to the heap V8
 * lets grow to twice what it keeps (a plain array would); growing by half rather than doubling leaves at most a third
 * of it unused. Plain data: it survives structured cloning between threads.
 */
export interface TypedList<A extends NumberColumn> {
  values: A;
  size: number;
}

export type NumberColumn = Float64Array | Uint32Array;
export type Float64List = TypedList<Float64Array>;
export type Uint32List = TypedList<Uint32Array>;

export function float64List(capacity = 16): Float64List {
  return { values: new Float64Array(Math.max(1, capacity)), size: 0 };
}

/** Values from 0 to 2^32 - 1 (others would be stored wrapped). */
export function uint32List(capacity = 16): Uint32List {
  return { values: new Uint32Array(Math.max(1, capacity)), size: 0 };
}

/** The capacity a full column of `length` grows to: half as much again (amortised O(1) per push). */
export function grownCapacity(length: number): number {
  return length + (length >>> 1) + 8;
}

export function pushValue<A extends NumberColumn>(list: TypedList<A>, value: number): void {
  if (list.size === list.values.length) {
    const grown = new (list.values.constructor as new (length: number) => A)(grownCapacity(list.values.length));
    grown.set(list.values);
    list.values = grown;
  }
  list.values[list.size++] = value;
}

/** The values so far: a view, valid until the next push. */
export function listValues<A extends NumberColumn>(list: TypedList<A>): A {
  return list.values.subarray(0, list.size) as A;
}
