import { jsonText } from '../util/json.js';

/**
 * An array in a JSON document that is made while it is written, one element at a time: a report on
 * 200,000 connections must not hold its whole document, and then its whole text, at once.
 * Serialised whole (JSON.stringify), it is an ordinary array.
 */
export class StreamedArray<T> {
  constructor(private readonly make: () => Iterable<T>) {}

  elements(): Iterable<T> {
    return this.make();
  }

  toJSON(): T[] {
    return [...this.make()];
  }
}

/**
 * The text `jsonText(value, 2)` gives, in pieces (the writer gathers them): StreamedArrays, and plain
 * objects that hold one, are written member by member.
 */
export function jsonTextChunks(value: unknown): Generator<string> {
  return pieces(value, '');
}

function* pieces(value: unknown, indent: string): Generator<string> {
  const inner = `${indent}  `;
  if (value instanceof StreamedArray) {
    let first = true;
    for (const element of value.elements()) {
      // As in JSON.stringify, an array slot that has no JSON form is null.
      yield `${first ? '[' : ','}\n${inner}${hasJsonForm(element) ? indented(jsonText(element, 2), inner) : 'null'}`;
      first = false;
    }
    yield first ? '[]' : `\n${indent}]`;
    return;
  }
  if (!holdsStreamed(value)) {
    yield indented(jsonText(value, 2), indent);
    return;
  }
  let first = true;
  for (const [key, member] of Object.entries(value as object)) {
    if (!hasJsonForm(member)) continue; // skipped, as JSON.stringify skips them
    yield `${first ? '{' : ','}\n${inner}${jsonText(key)}: `;
    yield* pieces(member, inner);
    first = false;
  }
  yield first ? '{}' : `\n${indent}}`;
}

/** A plain object with a StreamedArray somewhere among its members. */
function holdsStreamed(value: unknown): boolean {
  if (value === null || typeof value !== 'object' || Object.getPrototypeOf(value) !== Object.prototype) return false;
  return Object.values(value).some((member) => member instanceof StreamedArray || holdsStreamed(member));
}

function hasJsonForm(value: unknown): boolean {
  return value !== undefined && typeof value !== 'function' && typeof value !== 'symbol';
}

/** Nested text: JSON text has no raw line breaks inside strings, so every line break starts a line of it. */
function indented(text: string, indent: string): string {
  return indent ? text.replaceAll('\n', `\n${indent}`) : text;
}
