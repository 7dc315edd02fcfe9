import { assertBytes, utf8 } from "../encoding/bytes.ts";
import { hkdfSha256 } from "./hkdf-sha256.ts";

const RECOVERY_SALT = utf8("countersign/recovery-key/v1");

/**
 * The 32-byte key that seals `recovery_wrapped_auk`:
 * HKDF-SHA256(ikm = secret, salt = "countersign/recovery-key/v1", info = UTF-8 user id, L = 32).
 *
 * A fast KDF is enough because the secret is 160 uniformly random bits, not a password. The user
 * id in `info` makes the key differ per account even if two accounts ever shared a secret.
 */
export function recoveryKeyFromSecret(secret: Uint8Array, userId: string): Uint8Array {
  assertBytes(secret, "secret", 20);
  if (typeof userId !== "string" || userId.length === 0) throw new TypeError("userId must be a non-empty string");
  return hkdfSha256(secret, RECOVERY_SALT, utf8(userId), 32);
}
