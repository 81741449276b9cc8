/**
 * Octets as latin1 text. Buffer#latin1Slice is what toString('latin1', …) ends in, without the
 * argument checks and the encoding lookup: this runs for every line of a capture.
 */
export const latin1: (bytes: Buffer, start: number, end: number) => string =
  typeof (Buffer.prototype as { latin1Slice?: unknown }).latin1Slice === 'function'
    ? (bytes, start, end) => (bytes as Buffer & { latin1Slice(start: number, end: number): string }).latin1Slice(start, end)
    : (bytes, start, end) => bytes.toString('latin1', start, end);
