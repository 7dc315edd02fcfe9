import { randomBytes } from "node:crypto";
import { CountersignError, toBase64Url } from "@countersign/protocol";
import type { Clock } from "../clock.ts";
import { decryptFieldText, encryptField, type FieldContext } from "../crypto/field-cipher.ts";
import { fieldKeyId } from "../crypto/field-key-id.ts";
import type { UserDataKeys } from "../crypto/user-data-keys.ts";
import { createBatchedLookup } from "../db/batched-lookup.ts";
import type { Queryable } from "../db/database.ts";
import { createTickBatcherPer } from "../db/tick-batcher.ts";

/** A stored passkey. `name` is still sealed; {@link PasskeyStore.readName} opens it. */
export interface PasskeyRow {
  readonly id: string;
  readonly userId: string;
  readonly credentialId: string;
  readonly publicKey: Uint8Array;
  readonly signCount: number;
  readonly transports: readonly string[];
  readonly name: string;
  readonly backupEligible: boolean;
  readonly backedUp: boolean;
  readonly createdAt: Date;
  readonly lastUsedAt: Date | null;
  readonly counterRegressedAt: Date | null;
  readonly revokedAt: Date | null;
}

/** What a verified registration yields, ready to store. */
export interface NewPasskey {
  readonly credentialId: string;
  readonly publicKey: Uint8Array;
  readonly signCount: number;
  readonly transports: readonly string[];
  readonly aaguid: string;
  readonly attestationFormat: string;
  readonly backupEligible: boolean;
  readonly backedUp: boolean;
}

/** The `passkeys` table: WebAuthn credentials, names sealed under the owner's data key. */
export interface PasskeyStore {
  /** Stores a passkey for `userId` under `name`; returns the row. */
  insert(q: Queryable, userId: string, passkey: NewPasskey, name: string): Promise<PasskeyRow>;
  /** The passkey with this credential id, revoked or not; null when none. */
  findByCredentialId(q: Queryable, credentialId: string): Promise<PasskeyRow | null>;
  /** The account's passkey with this id, revoked or not; null when none. */
  findForUser(q: Queryable, userId: string, passkeyId: string): Promise<PasskeyRow | null>;
  /** The account's passkeys that are not revoked, oldest first. */
  listActive(q: Queryable, userId: string): Promise<PasskeyRow[]>;
  /**
   * After a verified assertion: stores the new signature counter, backup state and last use, if
   * the passkey is still active and the counter still advances (or stays 0 on an authenticator
   * without one). False when a concurrent assertion got there first or it was revoked meanwhile.
   * The uses recorded on one `q` in one turn (a group commit's decisions) share a statement.
   */
  recordUse(q: Queryable, passkeyId: string, use: { signCount: number; backedUp: boolean }): Promise<boolean>;
  /** Flags a possible clone (WebAuthn L3 §7.2, signCount step); the stored counter is kept. */
  flagCounterRegression(q: Queryable, passkeyId: string): Promise<void>;
  rename(q: Queryable, userId: string, passkeyId: string, name: string): Promise<boolean>;
  /** Marks a passkey revoked; false when it was not an active passkey of this account. */
  revoke(q: Queryable, userId: string, passkeyId: string): Promise<boolean>;
  /** Opens a passkey's name; null when its data key was erased. */
  readName(q: Queryable, passkey: Pick<PasskeyRow, "id" | "name">): Promise<string | null>;
}

interface StoredPasskey {
  id: string;
  user_id: string;
  credential_id: string;
  public_key: Uint8Array;
  sign_count: number;
  transports: string[];
  name: string;
  backup_eligible: boolean;
  backed_up: boolean;
  created_at: Date;
  last_used_at: Date | null;
  counter_regressed_at: Date | null;
  revoked_at: Date | null;
}

const COLUMNS =
  "id, user_id, credential_id, public_key, sign_count, transports, name, backup_eligible, backed_up, " +
  "created_at, last_used_at, counter_regressed_at, revoked_at";
const nameContext = (passkeyId: string): FieldContext => ({ table: "passkeys", column: "name", rowId: passkeyId });

// A decision and a sign-in read the passkey by credential id: concurrent ones read together.
const lookupByCredentialId = createBatchedLookup<string, StoredPasskey>({
  sql: `SELECT ${COLUMNS} FROM passkeys WHERE credential_id = ANY($1::text[])`,
  idOf: (credentialId) => credentialId,
  rowId: (row) => row.credential_id,
});

interface PasskeyUse {
  readonly passkeyId: string;
  readonly signCount: number;
  readonly backedUp: boolean;
}

/**
 * Records passkey uses, each with the outcome it would have had recorded alone, in order. The
 * counter was checked against a row read before the signature was verified; checking it again
 * here, under the row lock, keeps two concurrent assertions from both passing.
 */
async function recordUses(q: Queryable, uses: readonly PasskeyUse[], usedAt: Date): Promise<boolean[]> {
  if (uses.length === 1) return [await recordOneUse(q, uses[0] as PasskeyUse, usedAt)];
  // Each passkey's first use goes in one statement; a later use of the same passkey must see the
  // counter the first one wrote, so it follows on its own (two decisions of one person in one
  // batch: rare outside a benchmark).
  const first = new Map<string, number>();
  uses.forEach((use, i) => {
    if (!first.has(use.passkeyId)) first.set(use.passkeyId, i);
  });
  const firsts = [...first.values()].map((i) => uses[i] as PasskeyUse);
  // The rows are locked in one global order (the person's id, as the group commit orders its
  // units, then the passkey's), in the CTE, before any is written: two transactions recording
  // uses of the same passkeys then cannot deadlock on them.
  const { rows } = await q.query<{ id: string }>(
    `WITH locked AS MATERIALIZED (
       SELECT id FROM passkeys WHERE id = ANY($1::text[])
        ORDER BY user_id COLLATE "C", id COLLATE "C"
          FOR UPDATE
     )
     UPDATE passkeys AS p SET sign_count = u.sign_count, backed_up = u.backed_up, last_used_at = $4
       FROM unnest($1::text[], $2::bigint[], $3::boolean[]) AS u (id, sign_count, backed_up)
      WHERE p.id = u.id AND p.id IN (SELECT id FROM locked) AND p.revoked_at IS NULL
        AND (p.sign_count < u.sign_count OR (p.sign_count = 0 AND u.sign_count = 0))
     RETURNING p.id`,
    [firsts.map((use) => use.passkeyId), firsts.map((use) => use.signCount), firsts.map((use) => use.backedUp), usedAt],
  );
  const recorded = new Set(rows.map((row) => row.id));
  const outcomes: boolean[] = [];
  for (const [i, use] of uses.entries()) {
    outcomes.push(first.get(use.passkeyId) === i ? recorded.has(use.passkeyId) : await recordOneUse(q, use, usedAt));
  }
  return outcomes;
}

function recordOneUse(q: Queryable, use: PasskeyUse, usedAt: Date): Promise<boolean> {
  return q
    .query(
      `UPDATE passkeys SET sign_count = $2, backed_up = $3, last_used_at = $4
       WHERE id = $1 AND revoked_at IS NULL AND (sign_count < $2 OR (sign_count = 0 AND $2 = 0))`,
      [use.passkeyId, use.signCount, use.backedUp, usedAt],
    )
    .then((result) => result.rowCount === 1);
}

function toRow(row: StoredPasskey): PasskeyRow {
  return {
    id: row.id,
    userId: row.user_id,
    credentialId: row.credential_id,
    publicKey: row.public_key,
    signCount: row.sign_count,
    transports: row.transports,
    name: row.name,
    backupEligible: row.backup_eligible,
    backedUp: row.backed_up,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
    counterRegressedAt: row.counter_regressed_at,
    revokedAt: row.revoked_at,
  };
}

/**
 * Builds the passkey store.
 *
 * @example
 * ```ts
 * const passkey = await passkeys.insert(tx, userId, verified, "Work laptop");
 * ```
 */
export function createPasskeyStore(deps: { dataKeys: UserDataKeys; clock: Clock }): PasskeyStore {
  const { dataKeys, clock } = deps;
  const now = () => new Date(clock.now());
  // Per transaction, so only uses of one group-commit batch share a statement; they are asked in
  // one fan-out, so the batch is cut once the promise jobs have run (see TickBatcherOptions).
  const recordInTurn = createTickBatcherPer((q: Queryable, uses: readonly PasskeyUse[]) => recordUses(q, uses, now()), {
    gather: "microtasks",
  });
  const sealName = async (q: Queryable, userId: string, passkeyId: string, name: string) =>
    encryptField(await dataKeys.forWriting(q, userId), nameContext(passkeyId), name);

  return Object.freeze({
    async insert(q: Queryable, userId: string, passkey: NewPasskey, name: string) {
      const id = `pk_${toBase64Url(randomBytes(16))}`;
      const { rows } = await q.query<StoredPasskey>(
        `INSERT INTO passkeys (id, user_id, credential_id, public_key, sign_count, transports, name, aaguid,
                               attestation_format, backup_eligible, backed_up, created_at)
         VALUES ($1, $2, $3, $4, $5, $6::text[], $7, $8, $9, $10, $11, $12)
         ON CONFLICT (credential_id) DO NOTHING
         RETURNING ${COLUMNS}`,
        [
          id,
          userId,
          passkey.credentialId,
          passkey.publicKey,
          passkey.signCount,
          [...passkey.transports],
          await sealName(q, userId, id, name),
          passkey.aaguid,
          passkey.attestationFormat,
          passkey.backupEligible,
          passkey.backedUp,
          now(),
        ],
      );
      // The flows refuse a registered credential up front (WebAuthn §7.1 step 25); this catches two
      // registrations of one credential racing past that check, with a coded error, not a 500.
      if (rows[0] === undefined) {
        throw new CountersignError("passkey_verification_failed", {
          cause: new Error("credential already registered"),
        });
      }
      return toRow(rows[0]);
    },

    async findByCredentialId(q: Queryable, credentialId: string) {
      const row = await lookupByCredentialId(q, credentialId);
      return row === undefined ? null : toRow(row);
    },

    async findForUser(q: Queryable, userId: string, passkeyId: string) {
      const { rows } = await q.query<StoredPasskey>(`SELECT ${COLUMNS} FROM passkeys WHERE user_id = $1 AND id = $2`, [
        userId,
        passkeyId,
      ]);
      return rows[0] === undefined ? null : toRow(rows[0]);
    },

    async listActive(q: Queryable, userId: string) {
      const { rows } = await q.query<StoredPasskey>(
        `SELECT ${COLUMNS} FROM passkeys WHERE user_id = $1 AND revoked_at IS NULL ORDER BY created_at, id`,
        [userId],
      );
      return rows.map(toRow);
    },

    recordUse(q: Queryable, passkeyId: string, use: { signCount: number; backedUp: boolean }) {
      return recordInTurn(q, { passkeyId, signCount: use.signCount, backedUp: use.backedUp });
    },

    async flagCounterRegression(q: Queryable, passkeyId: string) {
      await q.query("UPDATE passkeys SET counter_regressed_at = $2 WHERE id = $1", [passkeyId, now()]);
    },

    async rename(q: Queryable, userId: string, passkeyId: string, name: string) {
      const { rowCount } = await q.query(
        "UPDATE passkeys SET name = $3 WHERE user_id = $1 AND id = $2 AND revoked_at IS NULL",
        [userId, passkeyId, await sealName(q, userId, passkeyId, name)],
      );
      return rowCount === 1;
    },

    async revoke(q: Queryable, userId: string, passkeyId: string) {
      const { rowCount } = await q.query(
        "UPDATE passkeys SET revoked_at = $3 WHERE user_id = $1 AND id = $2 AND revoked_at IS NULL",
        [userId, passkeyId, now()],
      );
      return rowCount === 1;
    },

    async readName(q: Queryable, passkey: Pick<PasskeyRow, "id" | "name">) {
      const kid = fieldKeyId(passkey.name);
      const key = kid === null ? null : await dataKeys.loadKey(q, kid);
      return decryptFieldText(() => key, nameContext(passkey.id), passkey.name);
    },
  });
}
