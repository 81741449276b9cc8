/**
 * Fixed-width integers read straight from the bytes, without Buffer#readUInt*'s argument checks: the capture reader and
 * the packet decoder read several per packet, and check the lengths themselves first (a read past the end would give 0
 * here, not throw).
 */
export function u16be(d: Uint8Array, at: number): number {
  return (d[at]! << 8) | d[at + 1]!;
}

export function u16le(d: Uint8Array, at: number): number {
  return d[at]! | (d[at + 1]! << 8);
}

export function u32be(d: Uint8Array, at: number): number {
  return i32be(d, at) >>> 0;
}

export function i32be(d: Uint8Array, at: number): number {
  return (d[at]! << 24) | (d[at + 1]! << 16) | (d[at + 2]! << 8) | d[at + 3]!;
}

export function u32le(d: Uint8Array, at: number): number {
  return (d[at]! | (d[at + 1]! << 8) | (d[at + 2]! << 16) | (d[at + 3]! << 24)) >>> 0;
}
