import { FIELD_CIPHER_VERSION } from "./field-cipher.ts";
import { isKeyId } from "./key-id.ts";

/**
 * The key id a field ciphertext names (`v1.<kid>.<…>`, DESIGN §4.9), so a caller can load that
 * key (`UserDataKeys.loadKey` is asynchronous; `decryptField`'s resolver is not) before
 * decrypting. Only the envelope's shape is checked here; `decryptField` authenticates the rest.
 *
 * @returns the kid, or null when `ciphertext` is not a `v1` envelope with a valid kid.
 *
 * @example
 * ```ts
 * const kid = fieldKeyId(row.context);
 * const key = kid === null ? null : await dataKeys.loadKey(tx, kid);
 * const context = decryptFieldText(() => key, { table: "audit_log", column: "context", rowId }, row.context);
 * ```
 */
export function fieldKeyId(ciphertext: string): string | null {
  if (typeof ciphertext !== "string") return null;
  const parts = ciphertext.split(".");
  if (parts.length !== 3 || parts[0] !== FIELD_CIPHER_VERSION) return null;
  const kid = parts[1];
  return isKeyId(kid) ? kid : null;
}
