import { chacha20poly1305 } from "@noble/ciphers/chacha.js";
import { fromBase64Url, toBase64Url } from "../encoding/base64.ts";
import { assertBytes, concatBytes, randomBytes } from "../encoding/bytes.ts";
import { CountersignError } from "../errors/countersign-error.ts";

/** The version prefix of every {@link sealWithKey} string. */
const PREFIX = "v1.";
const NONCE_LENGTH = 12;
const TAG_LENGTH = 16;

/**
 * Seals `plaintext` under a 32-byte key with ChaCha20-Poly1305 (RFC 8439) and a random 96-bit
 * nonce: `"v1." + b64u(nonce ‖ ciphertext ‖ tag)`. The AAD is not stored; the opener must
 * supply the same bytes, which binds the ciphertext to its purpose, user and key id.
 *
 * Random nonces are safe here because each key seals very few messages (an AUK seals one
 * private key; a transfer key seals one AUK), far below the 2^32 bound for 96-bit nonces.
 */
export function sealWithKey(key: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): string {
  return sealWithNonce(key, randomBytes(NONCE_LENGTH), plaintext, aad);
}

/**
 * {@link sealWithKey} with a given nonce, so known-answer tests can pin it. Not exported from the
 * package: reusing a nonce under one key breaks ChaCha20-Poly1305.
 */
export function sealWithNonce(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): string {
  assertBytes(key, "key", 32);
  assertBytes(nonce, "nonce", NONCE_LENGTH);
  assertBytes(plaintext, "plaintext");
  assertBytes(aad, "aad");
  const sealed = chacha20poly1305(key, nonce, aad).encrypt(plaintext);
  return PREFIX + toBase64Url(concatBytes(nonce, sealed));
}

/**
 * Opens a {@link sealWithKey} string.
 *
 * @throws CountersignError `e2e_decrypt_failed` for any failure (wrong key, wrong AAD, tampering,
 * malformed string), with no hint of which, as jose does for its decryption errors.
 */
export function openWithKey(key: Uint8Array, sealed: string, aad: Uint8Array): Uint8Array {
  assertBytes(key, "key", 32);
  assertBytes(aad, "aad");
  if (typeof sealed !== "string" || !sealed.startsWith(PREFIX)) throw new CountersignError("e2e_decrypt_failed");
  const bytes = fromBase64Url(sealed.slice(PREFIX.length));
  if (bytes === null || bytes.length < NONCE_LENGTH + TAG_LENGTH) throw new CountersignError("e2e_decrypt_failed");
  try {
    return chacha20poly1305(key, bytes.subarray(0, NONCE_LENGTH), aad).decrypt(bytes.subarray(NONCE_LENGTH));
  } catch (cause) {
    throw new CountersignError("e2e_decrypt_failed", { cause });
  }
}
