import { hkdf } from "@noble/hashes/hkdf.js";
import { sha256 } from "@noble/hashes/sha2.js";

/**
 * HKDF-SHA256 (RFC 5869) extract-then-expand. One place for the e2e key derivations, so the
 * Wycheproof HKDF vectors test exactly the code they use.
 */
export function hkdfSha256(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Uint8Array {
  return hkdf(sha256, ikm, salt, info, length);
}
