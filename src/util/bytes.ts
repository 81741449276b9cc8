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

/**
 * A copy of `bytes` in memory of its own. Buffer.from and Buffer.allocUnsafe cut small buffers from a shared 8 KiB
 * slab, and a view kept for long keeps the whole slab alive: the two 32-byte randoms every decrypted TLS connection
 * keeps pinned 14 KiB of slabs each.
 */
export function ownBytes(bytes: Uint8Array): Buffer {
  const own = Buffer.allocUnsafeSlow(bytes.length);
  own.set(bytes);
  return own;
}
