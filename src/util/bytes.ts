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
 * Key material kept for as long as a connection is open, as text: one latin1 character a byte. A Buffer of its own costs
 * about 360 bytes (the Buffer, its ArrayBuffer and the backing store), where a string of 28-76 bytes costs 48-96; it is
 * made into a Buffer again per record (keyBytes), which costs little beside the record's decryption. (A small Buffer
 * kept instead as Buffer.from or allocUnsafe cut it, a view of Node's shared 8 KiB pool slab, keeps all of the slab
 * alive: the two randoms every decrypted TLS connection kept pinned 14 KiB of slabs each.)
 */
export function keyText(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('latin1');
}

/** The bytes of keyText's text (a view into Node's buffer pool: for the record being opened only). */
export function keyBytes(text: string): Buffer {
  return Buffer.from(text, 'latin1');
}
