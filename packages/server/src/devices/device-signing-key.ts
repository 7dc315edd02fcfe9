import { createPublicKey, type KeyObject, verify } from "node:crypto";

/** An ECDSA P-256 signature as WebCrypto makes it: r ‖ s, 32 bytes each (IEEE P1363). */
export const P256_SIGNATURE_BYTES = 64;

/**
 * Parses a device's public signing key: DER SubjectPublicKeyInfo (RFC 5280 §4.1.2.7) of an EC key
 * on P-256 (RFC 5480 §2.1.1, `secp256r1`), as `crypto.subtle.exportKey("spki", …)` gives it.
 * Returns the key re-encoded as SPKI (uncompressed point), or null for anything else. OpenSSL
 * checks that the point is on the curve.
 */
export function parseDeviceSigningKey(spki: Uint8Array): Uint8Array | null {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: Buffer.from(spki), format: "der", type: "spki" });
  } catch {
    return null;
  }
  if (key.asymmetricKeyType !== "ec" || key.asymmetricKeyDetails?.namedCurve !== "prime256v1") return null;
  return new Uint8Array(key.export({ format: "der", type: "spki" }));
}

/**
 * Verifies an ECDSA P-256 / SHA-256 signature (FIPS 186-5 §6.4.2) in WebCrypto's raw r ‖ s form
 * over `message` with a key {@link parseDeviceSigningKey} accepted. Returns a boolean, never
 * throws: the HTTP boundary turns `false` into the coded error.
 */
export function verifyDeviceSignature(spki: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (signature.length !== P256_SIGNATURE_BYTES) return false;
  try {
    const key = createPublicKey({ key: Buffer.from(spki), format: "der", type: "spki" });
    return verify("sha256", message, { key, dsaEncoding: "ieee-p1363" }, signature);
  } catch {
    return false;
  }
}
