/** A capture has few distinct addresses: remember their text instead of making it per packet. */
const ipv4Text = new Map<number, string>();
const MAX_CACHED = 65536;

/** Dotted-quad text of the 4 bytes at `off`. */
export function formatIPv4(d: Buffer, off: number): string {
  const n = d.readUInt32BE(off);
  let text = ipv4Text.get(n);
  if (text === undefined) {
    if (ipv4Text.size >= MAX_CACHED) ipv4Text.clear();
    text = `${d[off]}.${d[off + 1]}.${d[off + 2]}.${d[off + 3]}`;
    ipv4Text.set(n, text);
  }
  return text;
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
