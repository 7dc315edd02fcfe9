import { utf8 } from "../encoding/bytes.ts";

/**
 * The AADs that bind sealed keys to their purpose, their user and their account key id, so a
 * ciphertext cannot be replayed into another account, another key set or another slot. The form
 * is UTF-8 `<label>|<user id>|<account key id>`, like the Credential Bundle's (spec §0); ids
 * with "|" are refused so that the fields cannot shift into one another.
 */
function boundAad(label: string, userId: string, accountKeyId: string): Uint8Array {
  for (const [name, value] of [
    ["userId", userId],
    ["accountKeyId", accountKeyId],
  ] as const) {
    if (typeof value !== "string" || value.length === 0 || value.includes("|")) {
      throw new TypeError(`${name} must be a non-empty string without "|"`);
    }
  }
  return utf8(`${label}|${userId}|${accountKeyId}`);
}

/** AAD of `encrypted_private_key` (the account X25519 private key sealed under the AUK). */
export function accountPrivateKeyAad(userId: string, accountKeyId: string): Uint8Array {
  return boundAad("countersign/account-private-key/v1", userId, accountKeyId);
}

/** AAD of `recovery_wrapped_auk` (the AUK sealed under the recovery key). */
export function recoveryAukAad(userId: string, accountKeyId: string): Uint8Array {
  return boundAad("countersign/recovery-auk/v1", userId, accountKeyId);
}
