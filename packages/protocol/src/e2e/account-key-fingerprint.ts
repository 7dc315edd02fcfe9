import { sha256 } from "../crypto/sha2.ts";
import { assertBytes, concatBytes, utf8 } from "../encoding/bytes.ts";
import { base32Encode, groupsOfFour } from "./base32.ts";

const FINGERPRINT_LABEL = utf8("countersign/account-key/v1");

/**
 * The fingerprint people compare between the app and an agent's CLI to check they hold the same
 * account public key: the first 32 base32 characters (160 bits) of
 * SHA-256("countersign/account-key/v1" ‖ publicKey), in 8 groups of 4, e.g. `K3QF-…`.
 * The label has a fixed length, so the concatenation is unambiguous.
 */
export function accountKeyFingerprint(publicKey: Uint8Array): string {
  assertBytes(publicKey, "publicKey", 32);
  const digest = sha256(concatBytes(FINGERPRINT_LABEL, publicKey));
  return groupsOfFour(base32Encode(digest).slice(0, 32));
}
