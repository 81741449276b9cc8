/**
 * The few cryptographic building blocks record decryption needs, over Node's built-in crypto:
 * HKDF-Expand-Label (TLS 1.3), the TLS 1.2 PRF, and AEAD opening that reports failure as null.
 */
import { createDecipheriv, createHmac } from 'node:crypto';

export type HashName = 'sha256' | 'sha384';
export type AeadAlgorithm = 'aes-128-gcm' | 'aes-256-gcm' | 'chacha20-poly1305' | 'aes-128-ccm';

export function hashLength(hash: HashName): number {
  return hash === 'sha256' ? 32 : 48;
}

/**
 * HKDF-Expand (RFC 5869 §2.3). Node's hkdfSync always extracts first, so it cannot do Expand alone. The result may be a
 * view into Node's buffer pool: what keeps it for long keeps it as text (keyText, src/util/bytes.ts).
 */
export function hkdfExpand(hash: HashName, prk: Buffer, info: Buffer, length: number): Buffer {
  const blocks: Buffer[] = [];
  let previous = Buffer.alloc(0);
  for (let i = 1, have = 0; have < length; i++) {
    previous = createHmac(hash, prk).update(previous).update(info).update(Buffer.from([i])).digest();
    blocks.push(previous);
    have += previous.length;
  }
  return Buffer.concat(blocks).subarray(0, length);
}

/** RFC 8446 §7.1 with an empty context, which is all that key and IV derivation and KeyUpdate use. */
export function hkdfExpandLabel(hash: HashName, secret: Buffer, label: string, length: number): Buffer {
  const fullLabel = Buffer.from(`tls13 ${label}`, 'latin1');
  const info = Buffer.alloc(2 + 1 + fullLabel.length + 1);
  info.writeUInt16BE(length, 0);
  info[2] = fullLabel.length;
  fullLabel.copy(info, 3);
  info[3 + fullLabel.length] = 0; // empty context
  return hkdfExpand(hash, secret, info, length);
}

/** TLS 1.2 PRF (RFC 5246 §5): P_hash(secret, label || seed); a view into Node's buffer pool, as HKDF-Expand's. */
export function tls12Prf(hash: HashName, secret: Buffer, label: string, seed: Buffer, length: number): Buffer {
  const labelSeed = Buffer.concat([Buffer.from(label, 'latin1'), seed]);
  const out: Buffer[] = [];
  let a = labelSeed;
  for (let have = 0; have < length;) {
    a = createHmac(hash, secret).update(a).digest();
    const block = createHmac(hash, secret).update(a).update(labelSeed).digest();
    out.push(block);
    have += block.length;
  }
  return Buffer.concat(out).subarray(0, length);
}

/**
 * Decrypt and authenticate; null when the tag does not verify (wrong key, wrong sequence number,
 * corrupt record, or a record protected with another key, which trial decryption relies on).
 */
export function aeadOpen(algorithm: AeadAlgorithm, key: Buffer, nonce: Buffer, aad: Buffer, sealed: Buffer, tagLength = 16): Buffer | null {
  if (sealed.length < tagLength) return null;
  const ciphertext = sealed.subarray(0, sealed.length - tagLength);
  const tag = sealed.subarray(sealed.length - tagLength);
  try {
    if (algorithm === 'aes-128-ccm') {
      // CCM needs the plaintext length up front, so it has its own overload.
      const d = createDecipheriv(algorithm, key, nonce, { authTagLength: tagLength });
      d.setAuthTag(tag);
      d.setAAD(aad, { plaintextLength: ciphertext.length });
      const plain = d.update(ciphertext);
      d.final(); // throws when the tag did not verify
      return plain;
    }
    // The GCM overload's types fit ChaCha20-Poly1305 as well (same tag and AAD handling).
    const d = createDecipheriv(algorithm as 'aes-128-gcm', key, nonce, { authTagLength: tagLength });
    d.setAAD(aad);
    d.setAuthTag(tag);
    return Buffer.concat([d.update(ciphertext), d.final()]);
  } catch {
    return null;
  }
}

/** The per-record nonce of TLS 1.3 and TLS 1.2 ChaCha20: the IV XOR the 64-bit sequence number. */
export function xorNonce(iv: Buffer, seq: number): Buffer {
  const nonce = Buffer.from(iv);
  const seqBytes = sequenceBytes(seq);
  for (let i = 0; i < 8; i++) nonce[nonce.length - 8 + i]! ^= seqBytes[i]!;
  return nonce;
}

/** A record sequence number as the 8 big-endian bytes the AAD and nonces use. */
export function sequenceBytes(seq: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt32BE(Math.floor(seq / 0x100000000), 0);
  b.writeUInt32BE(seq >>> 0, 4);
  return b;
}
