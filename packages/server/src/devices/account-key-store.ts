import type { Queryable } from "../db/database.ts";

/**
 * The `account_keys` table (migration 012) as SQL. The server only ever holds the public key and
 * ciphertexts it cannot open: the private key sealed under the AUK, and the AUK sealed under a
 * key derived from the person's recovery secret.
 */

/** A stored account key set. */
export interface AccountKeyRow {
  readonly id: string;
  readonly userId: string;
  /** Raw X25519 public key, 32 bytes. */
  readonly publicKey: Uint8Array;
  readonly fingerprint: string;
  readonly encryptedPrivateKey: string;
  readonly recoveryWrappedAuk: string | null;
  readonly createdAt: Date;
  readonly retiredAt: Date | null;
}

interface StoredAccountKey {
  id: string;
  user_id: string;
  public_key: Uint8Array;
  fingerprint: string;
  encrypted_private_key: string;
  recovery_wrapped_auk: string | null;
  created_at: Date;
  retired_at: Date | null;
}

const COLUMNS =
  "id, user_id, public_key, fingerprint, encrypted_private_key, recovery_wrapped_auk, created_at, retired_at";

const toRow = (row: StoredAccountKey): AccountKeyRow => ({
  id: row.id,
  userId: row.user_id,
  publicKey: new Uint8Array(row.public_key),
  fingerprint: row.fingerprint,
  encryptedPrivateKey: row.encrypted_private_key,
  recoveryWrappedAuk: row.recovery_wrapped_auk,
  createdAt: row.created_at,
  retiredAt: row.retired_at,
});

/** The user's active (not retired) key set, or null. */
export async function findActiveAccountKey(q: Queryable, userId: string): Promise<AccountKeyRow | null> {
  const { rows } = await q.query<StoredAccountKey>(
    `SELECT ${COLUMNS} FROM account_keys WHERE user_id = $1 AND retired_at IS NULL`,
    [userId],
  );
  return rows[0] === undefined ? null : toRow(rows[0]);
}

/** Whether any account (this one or another) has used this key set id. */
export async function accountKeyIdTaken(q: Queryable, id: string): Promise<boolean> {
  const { rowCount } = await q.query("SELECT 1 FROM account_keys WHERE id = $1", [id]);
  return rowCount > 0;
}

/** Stores a new active key set; the partial unique index refuses a second active one. */
export async function insertAccountKey(q: Queryable, key: Omit<AccountKeyRow, "retiredAt">): Promise<AccountKeyRow> {
  const { rows } = await q.query<StoredAccountKey>(
    `INSERT INTO account_keys (id, user_id, public_key, fingerprint, encrypted_private_key, recovery_wrapped_auk, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ${COLUMNS}`,
    [
      key.id,
      key.userId,
      key.publicKey,
      key.fingerprint,
      key.encryptedPrivateKey,
      key.recoveryWrappedAuk,
      key.createdAt,
    ],
  );
  return toRow(rows[0] as StoredAccountKey);
}

/** Retires the user's active key set; returns whether there was one. */
export async function retireAccountKey(q: Queryable, userId: string, at: Date): Promise<boolean> {
  const { rowCount } = await q.query(
    "UPDATE account_keys SET retired_at = $2 WHERE user_id = $1 AND retired_at IS NULL",
    [userId, at],
  );
  return rowCount === 1;
}
