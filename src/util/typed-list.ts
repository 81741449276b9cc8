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

/** With `inPlace`, it grows where it stands (growableColumn): for a list that may grow long, one or two per capture. */
export function float64List(capacity = 16, inPlace = false): Float64List {
  const length = Math.max(1, capacity);
  return { values: inPlace ? growableColumn(Float64Array, length) : new Float64Array(length), size: 0 };
}

/** Values from 0 to 2^32 - 1 (others would be stored wrapped). */
export function uint32List(capacity = 16, inPlace = false): Uint32List {
  const length = Math.max(1, capacity);
  return { values: inPlace ? growableColumn(Uint32Array, length) : new Uint32Array(length), size: 0 };
}

/** The capacity a full column of `length` grows to: half as much again (amortised O(1) per push). */
export function grownCapacity(length: number): number {
  return length + (length >>> 1) + 8;
}

export function pushValue<A extends NumberColumn>(list: TypedList<A>, value: number): void {
  if (list.size === list.values.length && !growInPlace(list.values, grownCapacity(list.values.length))) {
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

/** A typed array of numbers, as the columns here use them. */
export type Column = Float64Array | Uint32Array | Uint8Array;

/** Node 20's resizable ArrayBuffer (ES2024), which the ES2022 library this project compiles against does not declare. */
interface ResizableBuffer extends ArrayBuffer {
  readonly resizable: boolean;
  readonly maxByteLength: number;
  resize(byteLength: number): void;
}
type ResizableBufferConstructor = new (byteLength: number, options: { maxByteLength: number }) => ResizableBuffer;

/** Values a growable column reserves address space for: past them it grows by copying, as a plain one does. */
export const RESERVED_VALUES = 2 ** 26;

/**
 * An empty column of `capacity` values that grows where it stands (growInPlace). Its buffer is resizable, with address
 * space reserved for RESERVED_VALUES values and none of it used until the column grows into it: growing copies nothing,
 * and leaves no old array for the collector to find (the lifetimes of 200,000 connections ending at once left 22 MiB
 * of them). Each one is a reservation of its own, so only a few long columns per capture should be made this way.
 * A plain column when the runtime cannot reserve the space (a limit on address space).
 */
export function growableColumn<A extends Column>(type: { new (buffer: ArrayBuffer): A; new (length: number): A; readonly BYTES_PER_ELEMENT: number }, capacity: number): A {
  try {
    const buffer = new (ArrayBuffer as unknown as ResizableBufferConstructor)(capacity * type.BYTES_PER_ELEMENT, { maxByteLength: RESERVED_VALUES * type.BYTES_PER_ELEMENT });
    // Without a length, the array follows its buffer's as it grows.
    return new type(buffer);
  } catch {
    return new type(capacity);
  }
}

/** Grows a column made by growableColumn to `capacity` values where it stands; false when it cannot (then copy it). */
export function growInPlace(column: Column, capacity: number): boolean {
  const buffer = column.buffer as ResizableBuffer;
  const bytes = capacity * column.BYTES_PER_ELEMENT;
  if (buffer.resizable !== true || bytes > buffer.maxByteLength || column.byteOffset !== 0) return false;
  buffer.resize(bytes);
  return true;
}

/** The values at `order`'s indices, in a column of their own. */
export function permutedColumn<A extends Column>(values: A, order: ArrayLike<number>): A {
  const out = new (values.constructor as new (length: number) => A)(order.length);
  for (let k = 0; k < order.length; k++) out[k] = values[order[k]!]!;
  return out;
}
