import { randomFillSync } from "node:crypto";
import { assertBytes, fromBase64Url, toBase64Url, utf8 } from "@countersign/protocol";
import {
  CHACHA20_POLY1305_NONCE_BYTES,
  CHACHA20_POLY1305_TAG_BYTES,
  chacha20Poly1305Open,
  chacha20Poly1305Seal,
} from "./aead.ts";
import { assertText } from "./assert-text.ts";
import type { KeyRing } from "./key-ring.ts";

/**
 * Per-user data keys (DESIGN §4.9, threat A-3): each user's fields are sealed under a random
 * data key of their own, stored only wrapped by a key-encryption key (KEK) from the key ring.
 * Rotating the KEK re-wraps data keys and leaves field ciphertexts untouched; deleting a user's
 * wrapped data key makes their fields unreadable (crypto-shredding, threat T-5).
 */

/** Length of a data key in bytes (a ChaCha20-Poly1305 key, RFC 8439 §2.8). */
export const DATA_KEY_BYTES = 32;

/** Length of a decoded wrapped data key: nonce ‖ ciphertext ‖ tag. */
const WRAPPED_BYTES = CHACHA20_POLY1305_NONCE_BYTES + DATA_KEY_BYTES + CHACHA20_POLY1305_TAG_BYTES;

/** A data key as stored: the id of the KEK that wrapped it and the wrapped bytes. */
export interface WrappedDataKey {
  /** Id of the key-encryption key that wrapped it. */
  kekId: string;
  /** base64url (RFC 4648 §5, unpadded) of nonce(12) ‖ ciphertext(32) ‖ tag(16): 80 characters. */
  wrapped: string;
}

/** The result of {@link rewrapDataKey}. */
export interface RewrappedDataKey extends WrappedDataKey {
  /** True when the data key was re-wrapped and must be stored; false when it was already current. */
  changed: boolean;
}

// The AAD names the purpose and the user, so a wrapped key copied onto another user's row, or
// into any other use of the same KEK, does not unwrap. The user id comes last, so the NUL
// separator cannot be confused whatever the id contains.
function wrapAad(userId: string): Uint8Array {
  return utf8(`countersign/dek/v1\0${userId}`);
}

/** Generates a new data key: 32 bytes from the operating system's CSPRNG. */
export function generateDataKey(): Uint8Array {
  return randomFillSync(new Uint8Array(DATA_KEY_BYTES));
}

/**
 * Wraps `dataKey` for `userId` under the ring's current KEK with ChaCha20-Poly1305 and a random
 * 96-bit nonce (RFC 8439 §2.8).
 *
 * @throws TypeError when `userId` is not a non-empty well-formed string or `dataKey` is not 32
 *   bytes.
 */
export function wrapDataKey(ring: KeyRing, userId: string, dataKey: Uint8Array): WrappedDataKey {
  assertText(userId, "userId");
  assertBytes(dataKey, "dataKey", DATA_KEY_BYTES);
  const kekId = ring.currentKid;
  const kek = ring.getKey(kekId);
  // A KeyRing always holds its current key; reaching this means a hand-made, broken ring.
  if (kek === null) throw new Error("key ring has no current key");
  const nonce = randomFillSync(new Uint8Array(CHACHA20_POLY1305_NONCE_BYTES));
  try {
    const sealed = chacha20Poly1305Seal(kek, nonce, dataKey, wrapAad(userId));
    const out = new Uint8Array(WRAPPED_BYTES);
    out.set(nonce, 0);
    out.set(sealed, nonce.length);
    return { kekId, wrapped: toBase64Url(out) };
  } finally {
    kek.fill(0);
  }
}

/**
 * Unwraps a data key stored for `userId`.
 *
 * @returns the 32-byte data key, or null when the ring has no key `kekId`, `wrapped` is not
 *   canonical base64url of exactly 60 bytes, or it does not authenticate for this user. The
 *   reason is not reported.
 * @throws TypeError when `userId` is not a non-empty well-formed string, or `kekId` or `wrapped`
 *   is not a string.
 */
export function unwrapDataKey(ring: KeyRing, userId: string, kekId: string, wrapped: string): Uint8Array | null {
  assertText(userId, "userId");
  if (typeof kekId !== "string") throw new TypeError("kekId must be a string");
  if (typeof wrapped !== "string") throw new TypeError("wrapped must be a string");
  const bytes = fromBase64Url(wrapped);
  if (bytes === null || bytes.length !== WRAPPED_BYTES) return null;
  const kek = ring.getKey(kekId);
  if (kek === null) return null;
  try {
    return chacha20Poly1305Open(
      kek,
      bytes.subarray(0, CHACHA20_POLY1305_NONCE_BYTES),
      bytes.subarray(CHACHA20_POLY1305_NONCE_BYTES),
      wrapAad(userId),
    );
  } finally {
    kek.fill(0);
  }
}

/**
 * Re-wraps a stored data key under the ring's current KEK, for `countersign keys rotate`: unwrap
 * with the KEK named by `kekId`, wrap again with the current one. Field ciphertexts sealed under
 * the data key stay valid, since the data key itself does not change.
 *
 * A data key already under the current KEK is still unwrapped, to prove it is intact, and then
 * returned unchanged with `changed: false`, so the caller skips the write.
 *
 * @returns the data key as it must now be stored, or null when it cannot be unwrapped (see
 *   {@link unwrapDataKey}). The reason is not reported.
 *
 * @example
 * ```ts
 * const next = rewrapDataKey(ring, row.userId, row.kekId, row.wrapped);
 * if (next === null) failures++;
 * else if (next.changed) await update(row.userId, next.kekId, next.wrapped);
 * ```
 */
export function rewrapDataKey(ring: KeyRing, userId: string, kekId: string, wrapped: string): RewrappedDataKey | null {
  const dataKey = unwrapDataKey(ring, userId, kekId, wrapped);
  if (dataKey === null) return null;
  try {
    if (kekId === ring.currentKid) return { kekId, wrapped, changed: false };
    return { ...wrapDataKey(ring, userId, dataKey), changed: true };
  } finally {
    dataKey.fill(0);
  }
}
