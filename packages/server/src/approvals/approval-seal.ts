import type { SealedContext, StoredDisplayPayload } from "@countersign/protocol";
import { decryptFieldText, encryptField, type FieldContext } from "../crypto/field-cipher.ts";
import { fieldKeyId } from "../crypto/field-key-id.ts";
import type { UserDataKeys } from "../crypto/user-data-keys.ts";
import type { Queryable } from "../db/database.ts";

/** What an approval keeps sealed: everything the app shows, and the number the person types. */
export interface SealedApproval {
  readonly display: StoredDisplayPayload;
  /** The 6 digits the agent shows and the person types (T-1). */
  readonly number: string;
  /**
   * The context encrypted by the agent to the account key set (DESIGN §4.11), kept exactly as
   * received; null for plaintext context. Sealed again here only so a dump shows no more of it
   * than of any other request (its kid and size); the server cannot open the inner layer.
   */
  readonly contextE2e: SealedContext | null;
}

const context = (approvalId: string): FieldContext => ({
  table: "approval_requests",
  column: "sealed",
  rowId: approvalId,
});

/**
 * Seals an approval's display payload and number under the owner's data key (T-5, A-3): title,
 * body and context are the most sensitive text the server holds. The AAD binds the ciphertext to
 * this row, so it cannot be moved to another request. Run it in the transaction that inserts the
 * row, so a rollback also drops a data key created for it.
 */
export async function sealApproval(
  dataKeys: UserDataKeys,
  tx: Queryable,
  userId: string,
  approvalId: string,
  content: SealedApproval,
): Promise<string> {
  const key = await dataKeys.forWriting(tx, userId);
  return encryptField(
    key,
    context(approvalId),
    JSON.stringify({
      display: content.display,
      number: content.number,
      ...(content.contextE2e === null ? {} : { context_e2e: content.contextE2e }),
    }),
  );
}

/**
 * Opens a sealed approval; null once the owner's data key was erased (crypto-shredding). A list
 * passes one `keys` map for all its rows, so a page of one person's requests loads their data
 * key once instead of once per row.
 */
export async function openApproval(
  dataKeys: UserDataKeys,
  q: Queryable,
  row: { id: string; sealed: string },
  keys?: Map<string, Uint8Array | null>,
): Promise<SealedApproval | null> {
  const kid = fieldKeyId(row.sealed);
  if (kid === null) return null;
  let key = keys?.get(kid);
  if (key === undefined) {
    key = await dataKeys.loadKey(q, kid);
    keys?.set(kid, key);
  }
  if (key === null) return null;
  const text = decryptFieldText(() => key, context(row.id), row.sealed);
  if (text === null) return null;
  const parsed = JSON.parse(text) as {
    display: StoredDisplayPayload;
    number: string;
    context_e2e?: SealedContext;
  };
  return { display: parsed.display, number: parsed.number, contextE2e: parsed.context_e2e ?? null };
}
