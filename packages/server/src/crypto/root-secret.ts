import { assertBytes } from "@countersign/protocol";

/**
 * The server's root secret is the input keying material from which HKDF derives every
 * purpose-separated key (blind indexes, session MACs, digests). 32 bytes give the 256-bit
 * security HKDF-SHA-256 can carry (RFC 5869 §3.3: the IKM should hold that much entropy).
 */

/** Minimum length of the root secret in bytes. */
export const ROOT_SECRET_MIN_BYTES = 32;

/** Throws unless `value` is a Uint8Array of at least {@link ROOT_SECRET_MIN_BYTES} bytes. */
export function assertRootSecret(value: unknown): asserts value is Uint8Array {
  assertBytes(value, "rootSecret");
  if (value.length < ROOT_SECRET_MIN_BYTES) {
    throw new RangeError(`rootSecret must be at least ${ROOT_SECRET_MIN_BYTES} bytes, got ${value.length}`);
  }
}
