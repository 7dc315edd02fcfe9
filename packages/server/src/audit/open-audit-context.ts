import { decryptFieldText } from "../crypto/field-cipher.ts";
import { fieldKeyId } from "../crypto/field-key-id.ts";
import type { Queryable } from "../db/database.ts";
import type { AuditEntryV1 } from "./audit-entry.ts";
import type { JsonValue } from "./audit-event.ts";
import { type AuditDataKeys, CONTEXT_COLUMN, CONTEXT_TABLE } from "./audit-log.ts";

/** What {@link openAuditContext} found. */
export type OpenedAuditContext =
  | { readonly state: "none" }
  | { readonly state: "open"; readonly context: { readonly [key: string]: JsonValue } }
  /** The user's data key is gone (erasure) or the ciphertext does not open: unreadable for good. */
  | { readonly state: "unreadable" };

/**
 * Decrypts an entry's context with its user's data key. After erasure the key is gone and the
 * context is `unreadable`, while the entry and its hashes stay exactly as they were (T-5).
 *
 * @example
 * ```ts
 * const opened = await openAuditContext(db, dataKeys, decodeAuditEntry(row.entry));
 * if (opened.state === "open") show(opened.context);
 * ```
 */
export async function openAuditContext(
  q: Queryable,
  dataKeys: AuditDataKeys,
  entry: AuditEntryV1,
): Promise<OpenedAuditContext> {
  if (entry.context === null) return { state: "none" };
  const kid = fieldKeyId(entry.context);
  const key = kid === null ? null : await dataKeys.loadKey(q, kid);
  if (key === null) return { state: "unreadable" };
  const text = decryptFieldText(
    () => key,
    { table: CONTEXT_TABLE, column: CONTEXT_COLUMN, rowId: entry.id },
    entry.context,
  );
  if (text === null) return { state: "unreadable" };
  return { state: "open", context: JSON.parse(text) as { [key: string]: JsonValue } };
}
