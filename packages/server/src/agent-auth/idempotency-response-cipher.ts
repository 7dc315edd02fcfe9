import { deriveKey } from "../crypto/derive-key.ts";
import { decryptFieldText, encryptField, type FieldContext } from "../crypto/field-cipher.ts";

/**
 * Seals the responses kept for Idempotency-Key replays (T-8) before they are stored: the answer
 * to an approval's creation carries the number the person must type (T-1), which the approval
 * row itself keeps sealed, and a stored copy must not undo that. The key is derived from
 * the root secret for this purpose alone; the AAD binds each response to its agent and key, so a
 * sealed response cannot be replayed under another.
 */
export interface IdempotencyResponseCipher {
  seal(ref: { agentId: string; key: string }, body: string): string;
  /** The stored response; null when it does not open (a foreign or corrupted value). */
  open(ref: { agentId: string; key: string }, sealed: string): string | null;
}

// The envelope's key id; the key never changes (the root secret does not rotate).
const KID = "idem1";

const context = (ref: { agentId: string; key: string }): FieldContext => ({
  table: "agent_idempotency_keys",
  column: "response_body",
  rowId: `${ref.agentId}\n${ref.key}`,
});

/**
 * Builds the cipher from the root secret.
 *
 * @example
 * ```ts
 * const cipher = createIdempotencyResponseCipher(config.secrets.masterKey);
 * const stored = cipher.seal({ agentId, key }, JSON.stringify(body));
 * ```
 */
export function createIdempotencyResponseCipher(masterKey: Uint8Array): IdempotencyResponseCipher {
  const key = deriveKey(masterKey, "idempotency-response");
  const resolve = (kid: string) => (kid === KID ? key : null);
  return Object.freeze({
    seal: (ref: { agentId: string; key: string }, body: string) => encryptField({ kid: KID, key }, context(ref), body),
    open: (ref: { agentId: string; key: string }, sealed: string) => decryptFieldText(resolve, context(ref), sealed),
  });
}
