import { fromBase64Url, sha256, toBase64Url, utf8 } from "@countersign/protocol";

/**
 * The key id of an agent's Ed25519 public key: its RFC 7638 JWK thumbprint, base64url of
 * SHA-256 over `{"crv":"Ed25519","kty":"OKP","x":"<x>"}` (RFC 7638 §3.2: the required members of
 * RFC 8037 §2 in lexicographic order, no whitespace). The server computes the same value
 * (DESIGN §4.3), as does jose's `calculateJwkThumbprint`.
 *
 * @param publicKey The 32-byte raw public key, or its base64url form (the JWK `x`).
 * @throws TypeError when the key is not 32 bytes.
 *
 * @example
 * ```ts
 * agentKeyId("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo");
 * // "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k" (RFC 8037 §A.3)
 * ```
 */
export function agentKeyId(publicKey: Uint8Array | string): string {
  const raw = typeof publicKey === "string" ? fromBase64Url(publicKey) : publicKey;
  if (!(raw instanceof Uint8Array) || raw.length !== 32) {
    throw new TypeError("publicKey must be a 32-byte Ed25519 public key");
  }
  // Re-encoded, so a key has one spelling and one thumbprint, as the server requires.
  const x = toBase64Url(raw);
  return toBase64Url(sha256(utf8(`{"crv":"Ed25519","kty":"OKP","x":"${x}"}`)));
}
