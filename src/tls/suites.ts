/**
 * Cipher suites we can decrypt, with what record protection needs to know about each: cipher, key
 * length, tag length, and the hash of the key schedule (TLS 1.3) or of the PRF and MAC (TLS 1.2).
 */
import type { AeadAlgorithm, HashName } from './primitives.js';

export interface Tls13Suite {
  aead: AeadAlgorithm;
  keyLength: number;
  tagLength: number;
  hash: HashName;
}

export type Tls12Cipher =
  /** AES-GCM: 4-byte implicit salt + 8-byte explicit nonce in each record (RFC 5288). */
  | { kind: 'gcm'; aead: 'aes-128-gcm' | 'aes-256-gcm'; keyLength: number }
  /** ChaCha20-Poly1305: 12-byte IV XOR sequence number, nothing explicit (RFC 7905). */
  | { kind: 'chacha' }
  /** AES-CBC with HMAC, MAC-then-encrypt or encrypt-then-MAC (RFC 7366), explicit IV per record. */
  | { kind: 'cbc'; algorithm: 'aes-128-cbc' | 'aes-256-cbc'; keyLength: number; mac: 'sha1' | 'sha256' | 'sha384' };

export interface Tls12Suite {
  cipher: Tls12Cipher;
  /** PRF hash: SHA-384 for *_SHA384 suites, SHA-256 for everything else in TLS 1.2. */
  prf: HashName;
}

const TLS13: ReadonlyMap<number, Tls13Suite> = new Map([
  [0x1301, { aead: 'aes-128-gcm', keyLength: 16, tagLength: 16, hash: 'sha256' }],
  [0x1302, { aead: 'aes-256-gcm', keyLength: 32, tagLength: 16, hash: 'sha384' }],
  [0x1303, { aead: 'chacha20-poly1305', keyLength: 32, tagLength: 16, hash: 'sha256' }],
  [0x1304, { aead: 'aes-128-ccm', keyLength: 16, tagLength: 16, hash: 'sha256' }],
  [0x1305, { aead: 'aes-128-ccm', keyLength: 16, tagLength: 8, hash: 'sha256' }],
]);

const GCM128: Tls12Suite = { cipher: { kind: 'gcm', aead: 'aes-128-gcm', keyLength: 16 }, prf: 'sha256' };
const GCM256: Tls12Suite = { cipher: { kind: 'gcm', aead: 'aes-256-gcm', keyLength: 32 }, prf: 'sha384' };
const CHACHA: Tls12Suite = { cipher: { kind: 'chacha' }, prf: 'sha256' };
const cbc = (bits: 128 | 256, mac: 'sha1' | 'sha256' | 'sha384'): Tls12Suite => ({
  cipher: { kind: 'cbc', algorithm: `aes-${bits}-cbc`, keyLength: bits / 8, mac },
  prf: mac === 'sha384' ? 'sha384' : 'sha256',
});

const TLS12: ReadonlyMap<number, Tls12Suite> = new Map([
  // AES-GCM: RSA, DH(E)-RSA/DSS, DH-anon, PSK variants; even codes are AES-128/SHA-256, odd AES-256/SHA-384.
  ...[0x009c, 0x009e, 0x00a0, 0x00a2, 0x00a4, 0x00a6, 0x00a8, 0x00aa, 0x00ac].map((c) => [c, GCM128] as const),
  ...[0x009d, 0x009f, 0x00a1, 0x00a3, 0x00a5, 0x00a7, 0x00a9, 0x00ab, 0x00ad].map((c) => [c, GCM256] as const),
  // ECDHE/ECDH with AES-GCM.
  ...[0xc02b, 0xc02d, 0xc02f, 0xc031].map((c) => [c, GCM128] as const),
  ...[0xc02c, 0xc02e, 0xc030, 0xc032].map((c) => [c, GCM256] as const),
  ...[0xcca8, 0xcca9, 0xccaa, 0xccab, 0xccac, 0xccad, 0xccae].map((c) => [c, CHACHA] as const),
  // AES-CBC with HMAC-SHA1 / SHA-256 / SHA-384.
  ...[0x002f, 0x0033, 0x0032, 0xc009, 0xc013, 0xc004, 0xc00e].map((c) => [c, cbc(128, 'sha1')] as const),
  ...[0x0035, 0x0039, 0x0038, 0xc00a, 0xc014, 0xc005, 0xc00f].map((c) => [c, cbc(256, 'sha1')] as const),
  ...[0x003c, 0x0067, 0x0040, 0xc023, 0xc027, 0xc025, 0xc029].map((c) => [c, cbc(128, 'sha256')] as const),
  ...[0x003d, 0x006b, 0x006a].map((c) => [c, cbc(256, 'sha256')] as const),
  ...[0xc024, 0xc028, 0xc026, 0xc02a].map((c) => [c, cbc(256, 'sha384')] as const),
]);

export function tls13Suite(code: number): Tls13Suite | null {
  return TLS13.get(code) ?? null;
}

export function tls12Suite(code: number): Tls12Suite | null {
  return TLS12.get(code) ?? null;
}
