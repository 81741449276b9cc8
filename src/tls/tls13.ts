/**
 * TLS 1.3 record protection for one direction and one traffic secret (RFC 8446 §5.2–5.3, §7.3):
 * AEAD over the record with the header as additional data, then TLSInnerPlaintext unpadding.
 */
import { aeadOpen, hashLength, hkdfExpandLabel, xorNonce } from './primitives.js';
import type { TlsRecord } from './record-reader.js';
import { keyBytes, keyText } from '../util/bytes.js';
import type { Tls13Suite } from './suites.js';

export interface OpenedRecord {
  /** The real content type from TLSInnerPlaintext (0 when the plaintext was all padding: a protocol error). */
  type: number;
  content: Buffer;
}

export class Tls13Protection {
  /** The key, then the 12-byte IV, as text (keyText): a Buffer of their own cost each direction 0.3 KiB more. */
  private readonly keyAndIv: string;
  /** Sequence number of the next record; starts at 0 for every key. */
  private seq = 0;

  /** `secret`: the traffic secret's bytes as text (keyText), as the key log keeps it. */
  constructor(private readonly suite: Tls13Suite, private readonly secret: string) {
    const bytes = keyBytes(secret);
    this.keyAndIv = keyText(Buffer.concat([hkdfExpandLabel(suite.hash, bytes, 'key', suite.keyLength), hkdfExpandLabel(suite.hash, bytes, 'iv', 12)]));
  }

  /** Null when the tag does not verify; the sequence number only advances on success. */
  open(record: TlsRecord): OpenedRecord | null {
    const keyLength = this.suite.keyLength;
    const keyAndIv = keyBytes(this.keyAndIv);
    const key = keyAndIv.subarray(0, keyLength);
    const iv = keyAndIv.subarray(keyLength);
    const plain = aeadOpen(this.suite.aead, key, xorNonce(iv, this.seq), record.header, record.body, this.suite.tagLength);
    if (!plain) return null;
    this.seq++;
    // Padding is zeros after the real content type, which is never zero.
    let end = plain.length;
    while (end > 0 && plain[end - 1] === 0) end--;
    if (end === 0) return { type: 0, content: Buffer.alloc(0) };
    return { type: plain[end - 1]!, content: plain.subarray(0, end - 1) };
  }

  /** The protection after a KeyUpdate: application_traffic_secret_N+1 (§7.2). */
  next(): Tls13Protection {
    const hash = this.suite.hash;
    return new Tls13Protection(this.suite, keyText(hkdfExpandLabel(hash, keyBytes(this.secret), 'traffic upd', hashLength(hash))));
  }
}
