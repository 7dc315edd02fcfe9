import { x25519 } from "@noble/curves/ed25519.js";
import { assertBytes, randomBytes } from "../encoding/bytes.ts";

/** The account key set: a raw X25519 key pair (RFC 7748), 32 bytes each, used with HPKE. */
export interface AccountKeyPair {
  publicKey: Uint8Array;
  privateKey: Uint8Array;
}

/**
 * Generates the account's X25519 key pair. The private key is meant to be sealed under the AUK
 * right away ({@link sealWithKey} with {@link accountPrivateKeyAad}) and never stored in the clear.
 */
export function generateAccountKeyPair(): AccountKeyPair {
  // RFC 7748 §5: any 32 random bytes are a valid scalar; clamping happens inside X25519.
  const privateKey = randomBytes(32);
  return { publicKey: x25519.getPublicKey(privateKey), privateKey };
}

/**
 * The public key of an account private key (X25519 base-point multiplication, RFC 7748). A device
 * that opened the private key with its AUK derives the public key itself instead of trusting the
 * server's copy: the private key is sealed under the AUK, so what it derives is authentic.
 *
 * @throws TypeError when `privateKey` is not 32 bytes.
 */
export function accountPublicKeyOf(privateKey: Uint8Array): Uint8Array {
  assertBytes(privateKey, "privateKey", 32);
  return x25519.getPublicKey(privateKey);
}
