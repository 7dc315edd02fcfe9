import { randomBytes } from "node:crypto";
import { toBase64Url } from "@countersign/protocol";
import type { Clock } from "../clock.ts";
import type { BlindIndexer } from "../crypto/blind-index.ts";
import { decryptFieldText, encryptField, type FieldContext } from "../crypto/field-cipher.ts";
import { fieldKeyId } from "../crypto/field-key-id.ts";
import type { UserDataKeys } from "../crypto/user-data-keys.ts";
import type { Queryable } from "../db/database.ts";

/** An account as the account and passkey domains read it. The address stays sealed. */
export interface UserRow {
  readonly id: string;
  readonly emailIndex: string;
  /** The sealed address (`v1.<kid>.<…>`); {@link UserStore.readEmail} opens it. */
  readonly email: string;
  readonly status: "active" | "disabled";
  readonly passwordHash: string | null;
  readonly createdAt: Date;
}

/**
 * The `users` table: addresses sealed under each user's data key and found by blind index
 * only, never by plaintext.
 */
export interface UserStore {
  /** A new account id: `usr_` and 16 random bytes in base64url. */
  newUserId(): string;
  /** The blind index of a normalized address (see `normalizeEmail`). */
  emailIndex(normalizedEmail: string): string;
  /**
   * Seals an address for its final place, (users, email, userId), under the user's data key
   * (created now if the account is new). Run it in the transaction that stores the result.
   */
  sealEmail(q: Queryable, userId: string, normalizedEmail: string): Promise<string>;
  /** Inserts an account; false when the address is already taken (unique blind index). */
  insert(q: Queryable, init: { id: string; email: string; emailIndex: string }): Promise<boolean>;
  findByEmailIndex(q: Queryable, emailIndex: string): Promise<UserRow | null>;
  /** The account, optionally locked FOR UPDATE to serialize changes to its passkeys. */
  findById(q: Queryable, userId: string, options?: { lock?: boolean }): Promise<UserRow | null>;
  /** Opens the sealed address; null when its data key was erased. */
  readEmail(q: Queryable, user: Pick<UserRow, "id" | "email">): Promise<string | null>;
  /** Sets (a PHC string) or removes (null) the account's password. */
  setPasswordHash(q: Queryable, userId: string, passwordHash: string | null): Promise<void>;
}

interface StoredUser {
  id: string;
  email_index: string;
  email: string;
  status: "active" | "disabled";
  password_hash: string | null;
  created_at: Date;
}

const COLUMNS = "id, email_index, email, status, password_hash, created_at";
const emailContext = (userId: string): FieldContext => ({ table: "users", column: "email", rowId: userId });

function toRow(row: StoredUser): UserRow {
  return {
    id: row.id,
    emailIndex: row.email_index,
    email: row.email,
    status: row.status,
    passwordHash: row.password_hash,
    createdAt: row.created_at,
  };
}

/**
 * Builds the user store.
 *
 * @example
 * ```ts
 * const user = await users.findByEmailIndex(db, users.emailIndex(normalizeEmail(input)));
 * ```
 */
export function createUserStore(deps: { dataKeys: UserDataKeys; indexer: BlindIndexer; clock: Clock }): UserStore {
  const { dataKeys, indexer, clock } = deps;

  return Object.freeze({
    newUserId: () => `usr_${toBase64Url(randomBytes(16))}`,

    emailIndex: (normalizedEmail: string) => indexer.index("email", normalizedEmail),

    async sealEmail(q: Queryable, userId: string, normalizedEmail: string) {
      const key = await dataKeys.forWriting(q, userId);
      return encryptField(key, emailContext(userId), normalizedEmail);
    },

    async insert(q: Queryable, init: { id: string; email: string; emailIndex: string }) {
      const now = new Date(clock.now());
      const { rowCount } = await q.query(
        `INSERT INTO users (id, email, email_index, status, created_at, updated_at)
         VALUES ($1, $2, $3, 'active', $4, $4) ON CONFLICT (email_index) DO NOTHING`,
        [init.id, init.email, init.emailIndex, now],
      );
      return rowCount === 1;
    },

    async findByEmailIndex(q: Queryable, emailIndex: string) {
      const { rows } = await q.query<StoredUser>(`SELECT ${COLUMNS} FROM users WHERE email_index = $1`, [emailIndex]);
      return rows[0] === undefined ? null : toRow(rows[0]);
    },

    async findById(q: Queryable, userId: string, options: { lock?: boolean } = {}) {
      const { rows } = await q.query<StoredUser>(
        `SELECT ${COLUMNS} FROM users WHERE id = $1${options.lock === true ? " FOR UPDATE" : ""}`,
        [userId],
      );
      return rows[0] === undefined ? null : toRow(rows[0]);
    },

    async readEmail(q: Queryable, user: Pick<UserRow, "id" | "email">) {
      const kid = fieldKeyId(user.email);
      const key = kid === null ? null : await dataKeys.loadKey(q, kid);
      return decryptFieldText(() => key, emailContext(user.id), user.email);
    },

    async setPasswordHash(q: Queryable, userId: string, passwordHash: string | null) {
      const now = new Date(clock.now());
      await q.query("UPDATE users SET password_hash = $2, password_set_at = $3, updated_at = $4 WHERE id = $1", [
        userId,
        passwordHash,
        passwordHash === null ? null : now,
        now,
      ]);
    },
  });
}
