/**
 * The terminal width tables are fitted to, in a module of its own: worker threads are given it without
 * loading the table code.
 */
let screenWidth: number | null = null;

/**
 * Tables are fitted to this many terminal columns; null (the default, and whenever the output is not a
 * terminal or --wide is given) means nothing is ever cut. Set once by the command line.
 */
export function setTableWidth(width: number | null): void {
  screenWidth = width !== null && Number.isFinite(width) && width > 0 ? Math.floor(width) : null;
}

/** The width tables are fitted to (for worker threads, which draw tables as this thread would). */
export function fittedWidth(): number | null {
  return screenWidth;
}

