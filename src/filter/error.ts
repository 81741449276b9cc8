/** A display filter that does not parse or does not make sense; `pos` is the offending character. */
export class FilterError extends Error {
  constructor(readonly reason: string, readonly pos: number) {
    super(reason);
  }
}

/** The error as users see it: the reason, then the expression with ^ under the offending character. */
export function describeFilterError(expr: string, err: FilterError): string {
  // Tabs and newlines would move the caret: show them as spaces (the positions stay the same).
  const flat = expr.replace(/[\t\r\n]/g, ' ');
  const at = Math.min(Math.max(err.pos, 0), flat.length);
  return `${err.reason}\n  ${flat}\n  ${' '.repeat(at)}^`;
}
