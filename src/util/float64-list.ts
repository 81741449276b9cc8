/**
 * Numbers appended one at a time (a value per session or per exchange), kept in a Float64Array that doubles as it
 * fills. Its bytes lie outside the collected heap, so a list that grows with the capture adds nothing to the heap
 * V8 lets grow to twice what it keeps (a plain array would). Plain data: it survives structured cloning between
 * threads.
 */
export interface Float64List {
  values: Float64Array;
  size: number;
}

export function float64List(capacity = 16): Float64List {
  return { values: new Float64Array(Math.max(1, capacity)), size: 0 };
}

export function pushFloat64(list: Float64List, value: number): void {
  if (list.size === list.values.length) {
    const grown = new Float64Array(2 * list.values.length);
    grown.set(list.values);
    list.values = grown;
  }
  list.values[list.size++] = value;
}

/** The values so far: a view, valid until the next push. */
export function float64Values(list: Float64List): Float64Array {
  return list.values.subarray(0, list.size);
}
