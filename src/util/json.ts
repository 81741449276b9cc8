/**
 * JSON for output. JSON.stringify escapes C0 controls but leaves DEL, C1 controls (U+009B is a CSI to
 * many terminals), the line and paragraph separators and bidi overrides raw. A terminal showing the JSON
 * must not act on them, so they become \u escapes too. They can only occur inside strings, so replacing
 * them in the serialised text is exact.
 */
export function jsonText(value: unknown, indent?: number): string {
  // eslint-disable-next-line no-control-regex
  return JSON.stringify(value, null, indent).replace(/[\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * jsonText(value, indent) in pieces, for big documents: an object's members and the elements of the
 * arrays directly inside it are serialised one at a time, so no string of the whole document is built.
 * Joined, the pieces are exactly jsonText(value, indent).
 */
export function* jsonPieces(value: unknown, indent: number): Generator<string> {
  if (!isPlainContainer(value)) {
    yield jsonText(value, indent);
    return;
  }
  yield* container(value, indent, 1);
}

const LEVELS_STREAMED = 2;

function* container(value: object, indent: number, depth: number): Generator<string> {
  const inner = '\n' + ' '.repeat(indent * depth);
  const outer = '\n' + ' '.repeat(indent * (depth - 1));
  const isArray = Array.isArray(value);
  // JSON.stringify leaves out object members whose value is undefined, a function or a symbol, and
  // writes null for them in arrays.
  const entries: [string | null, unknown][] = isArray
    ? Array.from(value as unknown[], (v): [null, unknown] => [null, omitted(v) ? null : v])
    : Object.keys(value).filter((k) => !omitted((value as Record<string, unknown>)[k])).map((k) => [k, (value as Record<string, unknown>)[k]]);
  if (entries.length === 0) {
    yield isArray ? '[]' : '{}';
    return;
  }
  yield isArray ? '[' : '{';
  for (const [i, [key, v]] of entries.entries()) {
    yield `${i > 0 ? ',' : ''}${inner}${key === null ? '' : `${jsonText(key)}: `}`;
    if (depth < LEVELS_STREAMED && isPlainContainer(v)) yield* container(v, indent, depth + 1);
    else yield jsonText(v, indent).replaceAll('\n', inner);
  }
  yield `${outer}${isArray ? ']' : '}'}`;
}

function omitted(v: unknown): boolean {
  return v === undefined || typeof v === 'function' || typeof v === 'symbol';
}

/** An array or an object JSON.stringify would walk member by member (no toJSON of its own). */
function isPlainContainer(v: unknown): v is object {
  return typeof v === 'object' && v !== null && typeof (v as { toJSON?: unknown }).toJSON !== 'function';
}
