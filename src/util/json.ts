const UNSAFE_IN_JSON = /[\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/**
 * JSON for output. JSON.stringify escapes C0 controls but leaves DEL, C1 controls (U+009B is a CSI to
 * many terminals), the line and paragraph separators and bidi overrides raw. A terminal showing the JSON
 * must not act on them, so they become \u escapes too. They can only occur inside strings, so replacing
 * them in the serialised text is exact.
 */
export function jsonText(value: unknown, indent?: number): string {
  const text = JSON.stringify(value, null, indent) as string | undefined;
  // undefined (a function, a symbol) has no text: returned as JSON.stringify returns it.
  if (text === undefined) return text as unknown as string;
  return needsNoEscape(text) ? text : text.replace(UNSAFE_IN_JSON, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * Whether a serialised text has nothing for UNSAFE_IN_JSON: no character beyond ASCII, and no DEL. Most output is
 * ASCII, so this one quick test replaces a replacement pass over every document. Its UTF-8 length equals its length
 * only when every character is below U+0080; counted natively, that takes a third of a regular expression's scan
 * (which took 3% of `fetches --json` on a folder sync).
 */
function needsNoEscape(text: string): boolean {
  return Buffer.byteLength(text, 'utf8') === text.length && !text.includes('\x7f');
}

/**
 * An array of a JSON document made while it is written, one element at a time (jsonPieces): a summary of
 * 200,000 connections must not hold all its rows at once. Serialised whole (JSON.stringify), it is an
 * ordinary array.
 */
export class LazyArray<T> {
  constructor(private readonly make: () => Iterable<T>) {}

  items(): Iterable<T> {
    return this.make();
  }

  toJSON(): T[] {
    return [...this.items()];
  }
}

/**
 * A LazyArray whose length is known without making its items: a comparison has a few per pair of connections. Its items
 * may be made more than once (jsonPieces makes those of a short one to copy them, and makes them again to write one
 * found too long), so each make() starts anew.
 */
export class LazyList<T> extends LazyArray<T> implements Iterable<T> {
  constructor(readonly length: number, make: () => Iterable<T>) {
    super(make);
  }

  [Symbol.iterator](): Iterator<T> {
    return this.items()[Symbol.iterator]();
  }

  /** The first `count` items. */
  first(count: number): T[] {
    const out: T[] = [];
    if (count <= 0) return out;
    for (const item of this) if (out.push(item) >= count) break;
    return out;
  }
}

/**
 * Compact JSON text given as pieces (joined, the value's text), which compactJsonPieces writes one by one: a report's
 * ladder row of megabytes is never one string. Serialised whole (JSON.stringify), it is the value again.
 */
export class RawJsonPieces {
  constructor(readonly pieces: readonly string[]) {}

  toJSON(): unknown {
    return JSON.parse(this.pieces.join(''));
  }
}

/**
 * A value already serialised by jsonText(value, indent) at the top level: jsonPieces writes its text (indented to where it
 * stands) instead of serialising again. A summary renders each connection's row when the connection ends and keeps only
 * the text, on disk; serialised whole (JSON.stringify), it is the value again.
 */
export class RawJson {
  constructor(readonly text: string, readonly indent: number) {}

  toJSON(): unknown {
    return JSON.parse(this.text);
  }
}

/**
 * jsonText(value, indent) in pieces, for big documents: an object's members and the elements of the
 * arrays directly inside it are serialised one at a time, and LazyArrays anywhere are made element by
 * element, so no string (or array) of the whole document is built. Joined, the pieces are exactly
 * jsonText(value, indent).
 */
export function* jsonPieces(value: unknown, indent: number): Generator<string> {
  if (value instanceof LazyArray || isPlainContainer(value)) yield* container(value, indent, 1);
  else yield jsonText(value, indent);
}

/** Containers down to this depth are written member by member (deeper ones only when they hold a LazyArray). */
const LEVELS_STREAMED = 2;

/** Elements of an array written as one piece (indentedElements), at most. */
const BATCH_ELEMENTS = 64;

/**
 * Entries of the elements' own lists a batch holds at most; a container with this many is written member by member. A
 * profile's connection of 10,000 commands is megabytes as objects, and 64 of them made `compare` hold 120 MiB at once.
 */
const BATCH_ENTRIES = 4096;

/**
 * Values all told (its short LazyLists made into arrays to count them) up to which an element that holds LazyLists is
 * written whole, in a batch with its neighbours, rather than member by member: 100,000 profiles of two connections
 * each, every one a generator of pieces, took a quarter of `compare --by client-ip`.
 */
const SMALL_ELEMENT_VALUES = 256;

function* container(value: object, indent: number, depth: number): Generator<string> {
  const inner = '\n' + ' '.repeat(indent * depth);
  const outer = '\n' + ' '.repeat(indent * (depth - 1));
  const isArray = Array.isArray(value) || value instanceof LazyArray;
  const batch: unknown[] = [];
  let batchEntries = 0;
  let first = true;
  for (const [key, v] of members(value)) {
    // Text serialised with another indent is serialised again (from its value).
    const raw = v instanceof RawJson && v.indent === indent;
    let entries = entriesOf(v);
    // A container whose own lists are long is written member by member, its lists in batches: one connection's 400,000
    // commands in compare's profile were an 18 MB string, then that string indented again. One that holds LazyArrays is
    // too, unless they are short LazyLists and it is small all told: then it is written whole, and counts what it holds.
    let streamed = v instanceof LazyArray || (isPlainContainer(v) && (depth < LEVELS_STREAMED || entries >= BATCH_ENTRIES));
    let whole = v;
    if (!streamed && isPlainContainer(v) && holdsLazy(v)) {
      const small = smallCopy(v, SMALL_ELEMENT_VALUES);
      streamed = small === null;
      if (small) {
        whole = small.copy;
        entries = Math.max(entries, small.values);
      }
    }
    if (isArray && !streamed && !raw && indent > 0) {
      batch.push(whole);
      batchEntries += entries;
      if (batch.length < BATCH_ELEMENTS && batchEntries < BATCH_ENTRIES) continue;
    }
    if (batch.length > 0) {
      yield (first ? '[' : ',') + indentedElements(batch, indent, depth);
      first = false;
      batch.length = 0;
      batchEntries = 0;
      if (!streamed && !raw) continue;
    }
    yield `${first ? (isArray ? '[' : '{') : ','}${inner}${key === null ? '' : `${jsonText(key)}: `}`;
    first = false;
    if (streamed) yield* container(v as object, indent, depth + 1);
    else yield (raw ? (v as RawJson).text : jsonText(whole, indent)).replaceAll('\n', inner);
  }
  if (batch.length > 0) {
    yield (first ? '[' : ',') + indentedElements(batch, indent, depth);
    first = false;
  }
  yield first ? (isArray ? '[]' : '{}') : `${outer}${isArray ? ']' : '}'}`;
}

/** What a value holds, roughly: one, plus the length of every list among its own members (for…in: no allocation). */
function entriesOf(v: unknown): number {
  if (Array.isArray(v)) return v.length;
  if (typeof v !== 'object' || v === null) return 1;
  let entries = 1;
  for (const k in v) {
    const m = (v as Record<string, unknown>)[k];
    if (Array.isArray(m)) entries += m.length;
  }
  return entries;
}

/**
 * One element of an array at `depth` of a document, as jsonText(document, indent) writes it, in pieces (its LazyArrays
 * made element by element): from the line break before it to its end.
 */
export function* elementPieces(value: unknown, indent: number, depth: number): Generator<string> {
  const at = `\n${' '.repeat(indent * depth)}`;
  if (value instanceof LazyArray || isPlainContainer(value)) {
    yield at;
    yield* container(value, indent, depth + 1);
  } else yield `${at}${jsonText(value, indent).replaceAll('\n', at)}`;
}

/**
 * Array elements as jsonText(document, indent) writes them at `depth` of the document: from the line break before
 * the first to the end of the last, joined by commas ("\n    a,\n    b"). The elements are serialised as one array
 * nested in depth - 1 others, which puts their lines at the depth, and the brackets around them are cut (a
 * stringify per element, re-indented one by one, cost more than the elements; re-indenting one array's lines
 * cost a pass over them).
 */
export function indentedElements(elements: readonly unknown[], indent: number, depth: number): string {
  if (elements.length === 0) return '';
  let nested: unknown = elements;
  for (let level = 1; level < depth; level++) nested = [nested];
  const text = jsonText(nested, indent);
  // "[\n  [\n    a,\n    b\n  ]\n]": the outermost brackets are "[" and "\n]"; each level within adds a line
  // break, its spaces and a bracket on either side.
  let before = 1;
  let after = 2;
  for (let level = 1; level < depth; level++) {
    before += 2 + indent * level;
    after += 2 + indent * level;
  }
  return text.slice(before, text.length - after);
}

/**
 * Members as JSON.stringify walks them: it leaves out object members whose value is undefined, a
 * function or a symbol, and writes null for them in arrays (holes included).
 */
function* members(value: object): Generator<[string | null, unknown]> {
  if (value instanceof LazyArray) {
    for (const v of value.items() as Iterable<unknown>) yield [null, omitted(v) ? null : v];
  } else if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) yield [null, omitted(value[i]) ? null : value[i]];
  } else {
    for (const k of Object.keys(value)) {
      const v = (value as Record<string, unknown>)[k];
      if (!omitted(v)) yield [k, v];
    }
  }
}

function omitted(v: unknown): boolean {
  return v === undefined || typeof v === 'function' || typeof v === 'symbol';
}

/** An array or an object JSON.stringify would walk member by member (no toJSON of its own). */
function isPlainContainer(v: unknown): v is object {
  return typeof v === 'object' && v !== null && typeof (v as { toJSON?: unknown }).toJSON !== 'function';
}

/**
 * `v` with its LazyLists made into arrays, and how many values it holds all told (each primitive, list and object one),
 * while at most `budget`; null past it, or when it holds a LazyArray of unknown length (its items might be made only
 * once) or text serialised already. Each list is made once, into the copy: a comparison's pairs are aligned as they
 * are made.
 */
function smallCopy(v: unknown, budget: number): { copy: unknown; values: number } | null {
  let values = 0;
  let over = false;
  const copyOf = (x: unknown): unknown => {
    if (over || ++values > budget) {
      over = true;
      return null;
    }
    if (typeof x !== 'object' || x === null) return x;
    if (x instanceof LazyList) {
      if (x.length > budget) {
        over = true;
        return null;
      }
      const out: unknown[] = [];
      for (const item of x) {
        out.push(copyOf(item));
        if (over) return null;
      }
      return out;
    }
    if (x instanceof LazyArray || x instanceof RawJson || x instanceof RawJsonPieces) {
      over = true;
      return null;
    }
    if (Array.isArray(x)) return x.map(copyOf);
    if (!isPlainContainer(x)) return x;
    // Its own enumerable members, as JSON.stringify walks them (undefined, functions and symbols it leaves out alike).
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(x)) out[k] = copyOf((x as Record<string, unknown>)[k]);
    return out;
  };
  const copy = copyOf(v);
  return over ? null : { copy, values };
}

/** Whether a LazyArray sits somewhere inside (looked for in plain objects only: arrays of rows are not searched). */
function holdsLazy(v: object): boolean {
  if (Array.isArray(v)) return false;
  // for…in rather than Object.values: asked of every row, it must not allocate (rows are plain data).
  for (const k in v) {
    const m = (v as Record<string, unknown>)[k];
    if (m instanceof LazyArray || (isPlainContainer(m) && holdsLazy(m))) return true;
  }
  return false;
}

/**
 * JSON.stringify(value) (compact) in pieces: objects and arrays down to `levels` deep are written member by member,
 * deeper values whole, so a large document is never one string. Joined, the pieces are JSON.stringify's text:
 * members that are undefined, functions or symbols are left out of objects and are null in arrays, and a value with
 * toJSON is written whole, except that a LazyArray is made element by element at any depth and a RawJson made
 * compact (indent 0) is written as its text.
 */
export function* compactJsonPieces(value: unknown, levels: number): Generator<string> {
  if (value instanceof RawJson && value.indent === 0) {
    yield value.text;
    return;
  }
  if (value instanceof RawJsonPieces) {
    yield* value.pieces;
    return;
  }
  if (value instanceof LazyArray) {
    yield '[';
    let first = true;
    for (const item of value.items()) {
      if (!first) yield ',';
      first = false;
      yield* compactJsonPieces(item ?? null, levels - 1);
    }
    yield ']';
    return;
  }
  if (levels <= 0 || value === null || typeof value !== 'object' || typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    yield JSON.stringify(value) ?? 'null';
    return;
  }
  if (Array.isArray(value)) {
    yield '[';
    for (let i = 0; i < value.length; i++) {
      if (i > 0) yield ',';
      // Undefined, a function or a symbol is written as null (the leaf case below).
      yield* compactJsonPieces(value[i], levels - 1);
    }
    yield ']';
    return;
  }
  yield '{';
  let first = true;
  for (const key of Object.keys(value)) {
    const member = (value as Record<string, unknown>)[key];
    if (member === undefined || typeof member === 'function' || typeof member === 'symbol') continue;
    yield `${first ? '' : ','}${JSON.stringify(key)}:`;
    first = false;
    yield* compactJsonPieces(member, levels - 1);
  }
  yield '}';
}

/** Pieces joined into strings of about `size` characters (fewer, larger writes). */
export function* gathered(pieces: Iterable<string>, size = 64 * 1024): Generator<string> {
  let text = '';
  for (const piece of pieces) {
    text += piece;
    if (text.length >= size) {
      yield text;
      text = '';
    }
  }
  if (text) yield text;
}
