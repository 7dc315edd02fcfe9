import { sha256, toBase64Url, utf8 } from "@countersign/protocol";

/** A key id: the 43-character base64url of a SHA-256 thumbprint. */
export const AGENT_KEY_ID = /^[A-Za-z0-9_-]{43}$/;

/**
 * The key id of an agent's Ed25519 public key: its RFC 7638 JWK thumbprint, i.e. SHA-256 over
 * `{"crv":"Ed25519","kty":"OKP","x":"<base64url key>"}` (the required OKP members of RFC 8037 §2
 * in lexicographic order, no whitespace), base64url without padding.
 *
 * Because the id is a function of the key, an agent knows it before enrolling and signs its
 * enrolment request with it (proof of possession, DESIGN §4.3), any JOSE library computes the
 * same value, and a server may cache the imported key by id: an id never names another key.
 *
 * @example
 * ```ts
 * agentKeyId(publicKeyRaw); // "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k" for RFC 8037 §A.2's key
 * ```
 */
export function agentKeyId(publicKey: Uint8Array): string {
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== 32) {
    throw new TypeError("publicKey must be a 32-byte Ed25519 public key");
  }
  return toBase64Url(sha256(utf8(`{"crv":"Ed25519","kty":"OKP","x":"${toBase64Url(publicKey)}"}`)));
}
