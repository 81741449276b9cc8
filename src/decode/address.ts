/** Dotted-quad text of the 4 bytes at `off`. */
export function formatIPv4(d: Buffer, off: number): string {
  return `${d[off]}.${d[off + 1]}.${d[off + 2]}.${d[off + 3]}`;
}

/** RFC 5952 text of the 16 bytes at `off`: lower case, leading zeros dropped, longest zero run (≥ 2 groups) as `::`. */
export function formatIPv6(d: Buffer, off: number): string {
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push(d.readUInt16BE(off + i * 2));
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) { bestStart = i; bestLen = j - i; }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}
