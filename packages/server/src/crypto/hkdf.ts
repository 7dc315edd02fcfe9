import { createSecretKey, hkdfSync } from "node:crypto";
import { assertBytes } from "@countersign/protocol";

/**
 * HKDF with HMAC-SHA-256 (RFC 5869), extract-then-expand, over node:crypto.
 */

/** SHA-256 output length: HashLen in RFC 5869 §2. */
const HASH_LEN = 32;

/** Largest output RFC 5869 §2.3 allows: L <= 255 * HashLen. */
export const HKDF_SHA256_MAX_LENGTH = 255 * HASH_LEN;

/**
 * Largest `info` accepted. RFC 5869 sets no limit; Node's `hkdfSync` (OpenSSL) refuses more than
 * 1,024 bytes, and every info string Countersign uses is far shorter.
 */
export const HKDF_MAX_INFO_BYTES = 1024;

/**
 * Derives `length` bytes of output keying material (RFC 5869 §2.2 extract, §2.3 expand).
 *
 * An empty `salt` means HashLen zero bytes (RFC 5869 §2.2). Use a fixed, non-secret salt or
 * none; a caller-chosen variable-length salt can collide (RFC 5869 §3.1, Wycheproof
 * "OutputCollision").
 *
 * @param ikm input keying material; any length, including empty.
 * @param salt optional salt; empty for none.
 * @param info context and application-specific information, at most 1,024 bytes.
 * @param length output length L in bytes, 1 ≤ L ≤ 8,160.
 * @throws TypeError when a byte argument is not a Uint8Array; RangeError when `length` or the
 *   size of `info` is out of range.
 */
export function hkdfSha256(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Uint8Array {
  assertBytes(ikm, "ikm");
  assertBytes(salt, "salt");
  assertBytes(info, "info");
  if (info.length > HKDF_MAX_INFO_BYTES) {
    throw new RangeError(`info must be at most ${HKDF_MAX_INFO_BYTES} bytes, got ${info.length}`);
  }
  // RFC 5869 §2.3: L <= 255*HashLen. A zero-length output is no key at all, so refuse it too.
  if (!Number.isSafeInteger(length) || length < 1 || length > HKDF_SHA256_MAX_LENGTH) {
    throw new RangeError(`length must be an integer from 1 to ${HKDF_SHA256_MAX_LENGTH}`);
  }
  // A KeyObject rather than raw bytes: Node 24 prepares raw key bytes slowly (see aead.ts);
  // session requests derive a key each.
  return new Uint8Array(hkdfSync("sha256", ikm.length === 0 ? ikm : createSecretKey(ikm), salt, info, length));
}
