import { sha256 as nobleSha256, sha512 as nobleSha512 } from "@noble/hashes/sha2.js";

/**
 * Synchronous SHA-2, for code that hashes many small inputs (Merkle trees, hash chains, CPace)
 * where awaiting WebCrypto per hash would cost more than the hash. Node-only callers that need
 * more speed may inject `node:crypto` where an API takes a hash function.
 */
export function sha256(data: Uint8Array): Uint8Array {
  return nobleSha256(data);
}

/** Synchronous SHA-512. */
export function sha512(data: Uint8Array): Uint8Array {
  return nobleSha512(data);
}

/** A synchronous hash function, injectable where speed matters. */
export type HashFunction = (data: Uint8Array) => Uint8Array;
