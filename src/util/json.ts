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
