import { type AgentE2eKey, toBase64Url } from "@countersign/protocol";
import type { Queryable } from "../db/database.ts";

// Its shape is the protocol package's, which the app reads it by.
export type { AgentE2eKey };

/**
 * An account key set row (migration 012), reduced to what pinning needs. The agent domain reads
 * these public columns itself rather than through src/devices' store, which also loads the
 * sealed private key and recovery wrap: nothing on the agent side ever needs those.
 */
export interface AccountKeyForPin {
  readonly id: string;
  readonly publicKey: Uint8Array;
  readonly fingerprint: string;
  readonly retired: boolean;
}

interface Row {
  id: string;
  public_key: Uint8Array;
  fingerprint: string;
  retired_at: Date | null;
}

const toPin = (row: Row): AccountKeyForPin => ({
  id: row.id,
  publicKey: row.public_key,
  fingerprint: row.fingerprint,
  retired: row.retired_at !== null,
});

/** The person's active account key set, if they have one (at most one is active: migration 012). */
export async function findActiveAccountKey(q: Queryable, userId: string): Promise<AccountKeyForPin | undefined> {
  const { rows } = await q.query<Row>(
    "SELECT id, public_key, fingerprint, retired_at FROM account_keys WHERE user_id = $1 AND retired_at IS NULL",
    [userId],
  );
  return rows[0] === undefined ? undefined : toPin(rows[0]);
}

/** Account key sets by id, active or retired; ids with no row are left out. */
export async function findAccountKeysByIds(
  q: Queryable,
  ids: readonly string[],
): Promise<Map<string, AccountKeyForPin>> {
  const found = new Map<string, AccountKeyForPin>();
  if (ids.length === 0) return found;
  const { rows } = await q.query<Row>(
    "SELECT id, public_key, fingerprint, retired_at FROM account_keys WHERE id = ANY($1::text[])",
    [[...new Set(ids)]],
  );
  for (const row of rows) found.set(row.id, toPin(row));
  return found;
}

/** The JSON of a pinned key. */
export function toAgentE2eKey(key: AccountKeyForPin): AgentE2eKey {
  return { account_key_id: key.id, public_key: toBase64Url(key.publicKey), fingerprint: key.fingerprint };
}
