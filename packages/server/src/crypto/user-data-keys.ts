import { randomFillSync } from "node:crypto";
import { toBase64Url } from "@countersign/protocol";
import { createBatchedLookup } from "../db/batched-lookup.ts";
import type { Database, Queryable, Transaction } from "../db/database.ts";
import { assertText } from "./assert-text.ts";
import { generateDataKey, rewrapDataKey, unwrapDataKey, wrapDataKey } from "./data-key.ts";
import { isKeyId } from "./key-id.ts";
import type { KeyRing } from "./key-ring.ts";

/**
 * Per-user data keys in the `user_data_keys` table (migration 003; DESIGN §4.9, threats A-3 and
 * T-5): created on first use, stored only wrapped by the key ring's current key-encryption key
 * (KEK), re-wrapped by `countersign keys rotate`, deleted to erase a user.
 *
 * There is no in-process cache of unwrapped keys across transactions: another process may erase a
 * key at any moment, and a cache that kept serving it would read (and, worse, write) under a key
 * that no longer exists. Within one transaction a key that was read is remembered (an approval
 * and its audit event seal under the same key; a group commit seals many under a few), because a
 * transaction cannot outlive what it read any more than it could without the memo. A key created
 * in the transaction is not: a savepoint rolled back around its INSERT would leave the memo
 * holding a key that exists nowhere.
 *
 * Outside a transaction, the keys that concurrent requests load in one turn of the event loop are
 * read by one statement (the tick batcher): fewer round trips, and every answer still comes from
 * a statement that ran after its caller asked, so an erased key is never served.
 */
export interface UserDataKeys {
  /**
   * The user's data key for encrypting, created and wrapped under the current KEK on first use.
   * Safe under concurrent first use (INSERT … ON CONFLICT, re-read): every caller gets the same
   * key. Run it in the transaction that writes the ciphertext (at the default READ COMMITTED
   * level), so a rollback drops a new key together with what it sealed.
   *
   * @throws TypeError when `userId` is not a non-empty well-formed string; Error when the stored
   *   key cannot be unwrapped (its KEK is not in the ring, or the row is corrupt).
   */
  forWriting(q: Queryable, userId: string): Promise<{ kid: string; key: Uint8Array }>;
  /**
   * Reads, in one statement, the existing keys of these users into the transaction's memory, so
   * that this transaction's later {@link UserDataKeys.forWriting} and `loadKey` calls for them
   * need no statement of their own (a group commit sealing for many people). Users without a key
   * are left to `forWriting` to create. Outside a transaction it does nothing.
   */
  prefetch(q: Queryable, userIds: readonly string[]): Promise<void>;
  /**
   * {@link UserDataKeys.prefetch} for a transaction about to begin: starts the read now, on `db`,
   * so that it overlaps the transaction's BEGIN, and returns what puts the keys into that
   * transaction's memory once it is open. Reading a key outside the transaction that seals under
   * it is no weaker than inside: at READ COMMITTED the read takes no lock either way, so an erase
   * may commit after it in both cases (the ciphertext is then unreadable, as erased data should
   * be). A failed read fails the returned function, never the caller that started it.
   */
  prefetchFor(db: Queryable, userIds: readonly string[]): (tx: Transaction) => Promise<void>;
  /**
   * The key with this id for decrypting; null when unknown or erased.
   *
   * @throws Error when a key with this id exists but cannot be unwrapped: a key ring missing an
   *   older KEK must not pass for erasure.
   */
  loadKey(q: Queryable, kid: string): Promise<Uint8Array | null>;
  /**
   * Crypto-shredding: deletes the user's data key; returns whether one existed. Their ciphertexts
   * stay but can never be read again. A later {@link UserDataKeys.forWriting} creates a new key.
   */
  erase(q: Queryable, userId: string): Promise<boolean>;
  /**
   * Re-wraps every data key not under the current KEK, in batches of `batchSize` (default 100),
   * each batch its own short transaction (FOR UPDATE SKIP LOCKED), so the server keeps running.
   * Keys that cannot be unwrapped are left as they are and reported. Field ciphertexts are not
   * touched: the data keys themselves do not change. `onProgress` gets the number of keys handled
   * so far (re-wrapped or failed) after each batch.
   */
  rotate(
    db: Database,
    options?: { batchSize?: number; onProgress?: (done: number) => void },
  ): Promise<{ rewrapped: number; failed: string[] /* user ids whose key could not be unwrapped */ }>;
}

/** Largest `batchSize` {@link UserDataKeys.rotate} accepts: one batch is one transaction. */
export const MAX_ROTATE_BATCH_SIZE = 10_000;

const DEFAULT_BATCH_SIZE = 100;
// A new key races at most a concurrent erase between the insert that lost and the re-read.
const MAX_CREATE_ATTEMPTS = 3;

interface StoredKey {
  user_id: string;
  key_id: string;
  kek_id: string;
  wrapped: string;
}

/**
 * Builds the data-key store over a key ring (see {@link createKeyRingFromConfig}).
 *
 * @example
 * ```ts
 * const dataKeys = createUserDataKeys(ring);
 * const stored = await db.transaction(async (tx) => {
 *   const key = await dataKeys.forWriting(tx, userId);
 *   return encryptField(key, { table: "audit_log", column: "context", rowId }, json);
 * });
 * const kid = fieldKeyId(stored);
 * const key = kid === null ? null : await dataKeys.loadKey(db, kid);
 * const json = decryptFieldText(() => key, { table: "audit_log", column: "context", rowId }, stored);
 * ```
 */
export function createUserDataKeys(ring: KeyRing): UserDataKeys {
  // Per open transaction: user id → its key, key id → its key. Weak, so a finished transaction's
  // entries go with it; only transactions (which have afterCommit) get one, never the pool.
  const memos = new WeakMap<
    Queryable,
    { byUser: Map<string, { kid: string; key: Uint8Array }>; byKid: Map<string, Uint8Array> }
  >();
  const memoOf = (q: Queryable) => {
    if (typeof (q as Partial<Transaction>).afterCommit !== "function") return undefined;
    let memo = memos.get(q);
    if (memo === undefined) {
      memo = { byUser: new Map(), byKid: new Map() };
      memos.set(q, memo);
    }
    return memo;
  };

  // Outside a transaction, the loads of one turn share a statement (see above).
  const readByKid = createBatchedLookup<string, StoredKey>({
    sql: "SELECT user_id, key_id, kek_id, wrapped FROM user_data_keys WHERE key_id = ANY($1::text[])",
    idOf: (kid) => kid,
    rowId: (row) => row.key_id,
  });

  function unwrapStored(row: StoredKey): Uint8Array {
    const key = unwrapDataKey(ring, row.user_id, row.kek_id, row.wrapped);
    if (key !== null) return key;
    // An operator error (a KEK removed too early) or a damaged row, never a reason to treat the
    // user as erased. The message names ids only, never key material.
    throw new Error(
      ring.has(row.kek_id)
        ? `data key ${row.key_id} could not be unwrapped`
        : `data key ${row.key_id} is wrapped by key-encryption key "${row.kek_id}", which is not in the key ring`,
    );
  }

  async function readForUsers(q: Queryable, userIds: readonly string[]): Promise<StoredKey[]> {
    for (const userId of userIds) assertText(userId, "userId");
    const { rows } = await q.query<StoredKey>(
      "SELECT user_id, key_id, kek_id, wrapped FROM user_data_keys WHERE user_id = ANY($1::text[])",
      [userIds],
    );
    return rows;
  }

  /** Keeps keys read for a transaction in its memory; a key already there stays as it is. */
  function remember(memo: NonNullable<ReturnType<typeof memoOf>>, rows: readonly StoredKey[]): void {
    for (const row of rows) {
      if (memo.byUser.has(row.user_id)) continue;
      const key = unwrapStored(row);
      memo.byUser.set(row.user_id, { kid: row.key_id, key });
      memo.byKid.set(row.key_id, key);
    }
  }

  async function readByUser(q: Queryable, userId: string): Promise<StoredKey | undefined> {
    const { rows } = await q.query<StoredKey>(
      "SELECT user_id, key_id, kek_id, wrapped FROM user_data_keys WHERE user_id = $1",
      [userId],
    );
    return rows[0];
  }

  return Object.freeze({
    async forWriting(q: Queryable, userId: string) {
      assertText(userId, "userId");
      const memo = memoOf(q);
      const known = memo?.byUser.get(userId);
      if (known !== undefined) return known;
      for (let attempt = 0; attempt < MAX_CREATE_ATTEMPTS; attempt += 1) {
        const existing = await readByUser(q, userId);
        if (existing !== undefined) {
          const found = { kid: existing.key_id, key: unwrapStored(existing) };
          memo?.byUser.set(userId, found);
          memo?.byKid.set(found.kid, found.key);
          return found;
        }

        const key = generateDataKey();
        const kid = newDataKeyId();
        const { kekId, wrapped } = wrapDataKey(ring, userId, key);
        // A concurrent first use inserts too; the loser's insert waits for the winner's commit,
        // does nothing, and the re-read above (a fresh snapshot under READ COMMITTED) finds the
        // winner's key, so every caller seals under the same one.
        const inserted = await q.query(
          `INSERT INTO user_data_keys (user_id, key_id, kek_id, wrapped) VALUES ($1, $2, $3, $4)
           ON CONFLICT (user_id) DO NOTHING`,
          [userId, kid, kekId, wrapped],
        );
        if (inserted.rowCount === 1) return { kid, key };
        key.fill(0);
      }
      throw new Error("could not create a data key: it was erased as fast as it was created");
    },

    async prefetch(q: Queryable, userIds: readonly string[]) {
      const memo = memoOf(q);
      if (memo === undefined) return;
      const wanted = [...new Set(userIds)].filter((userId) => !memo.byUser.has(userId));
      if (wanted.length === 0) return;
      remember(memo, await readForUsers(q, wanted));
    },

    prefetchFor(db: Queryable, userIds: readonly string[]) {
      const wanted = [...new Set(userIds)];
      const read = wanted.length === 0 ? Promise.resolve([]) : readForUsers(db, wanted);
      // Awaited by the function below; this only keeps a read nobody awaits any more (the
      // transaction failed to open) from being an unhandled rejection.
      read.catch(() => {});
      return async (tx: Transaction) => {
        const memo = memoOf(tx);
        const rows = await read;
        if (memo !== undefined) remember(memo, rows);
      };
    },

    async loadKey(q: Queryable, kid: string) {
      // Not a kid of ours (a malformed envelope): no need to ask the database.
      if (!isKeyId(kid)) return null;
      const memo = memoOf(q);
      const known = memo?.byKid.get(kid);
      if (known !== undefined) return known;
      const row = await readByKid(q, kid);
      if (row === undefined) return null;
      const key = unwrapStored(row);
      memo?.byKid.set(kid, key);
      return key;
    },

    async erase(q: Queryable, userId: string) {
      assertText(userId, "userId");
      const { rowCount } = await q.query("DELETE FROM user_data_keys WHERE user_id = $1", [userId]);
      // Nothing later in this transaction may seal or open under the erased key: forget them all
      // (erasure is rare; the memo only saves reads).
      memos.delete(q);
      return rowCount > 0;
    },

    async rotate(db: Database, options: { batchSize?: number; onProgress?: (done: number) => void } = {}) {
      const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
      if (!Number.isSafeInteger(batchSize) || batchSize < 1 || batchSize > MAX_ROTATE_BATCH_SIZE) {
        throw new RangeError(`batchSize must be an integer from 1 to ${MAX_ROTATE_BATCH_SIZE}`);
      }
      const current = ring.currentKid;
      const failed = new Set<string>();
      let rewrapped = 0;
      let done = 0;

      // One batch: lock up to `batchSize` keys of `kekId` after `after`, re-wrap them in memory
      // and write them back in one statement. Returns the last user id seen, or null when none.
      const batch = (kekId: string, after: string, skipLocked: boolean) =>
        db.transaction(async (tx) => {
          const { rows } = await tx.query<StoredKey>(
            `SELECT user_id, key_id, kek_id, wrapped FROM user_data_keys
             WHERE kek_id = $1 AND user_id > $2 ORDER BY user_id LIMIT $3
             FOR UPDATE${skipLocked ? " SKIP LOCKED" : ""}`,
            [kekId, after, batchSize],
          );
          const userIds: string[] = [];
          const wrappedKeys: string[] = [];
          for (const row of rows) {
            if (failed.has(row.user_id)) continue;
            const next = rewrapDataKey(ring, row.user_id, row.kek_id, row.wrapped);
            done += 1;
            if (next === null) {
              failed.add(row.user_id);
            } else {
              userIds.push(row.user_id);
              wrappedKeys.push(next.wrapped);
            }
          }
          if (userIds.length > 0) {
            await tx.query(
              `UPDATE user_data_keys AS k SET kek_id = $1, wrapped = v.wrapped, rewrapped_at = now()
               FROM unnest($2::text[], $3::text[]) AS v (user_id, wrapped) WHERE k.user_id = v.user_id`,
              [current, userIds, wrappedKeys],
            );
          }
          return { last: rows.at(-1)?.user_id ?? null, rewrapped: userIds.length };
        });

      const pass = async (skipLocked: boolean) => {
        const { rows: keks } = await db.query<{ kek_id: string }>(
          "SELECT DISTINCT kek_id FROM user_data_keys WHERE kek_id <> $1 ORDER BY kek_id",
          [current],
        );
        for (const { kek_id: kekId } of keks) {
          // The CHECK on user_id keeps every id above the empty string.
          let after = "";
          for (;;) {
            const result = await batch(kekId, after, skipLocked);
            if (result.last === null) break;
            rewrapped += result.rewrapped;
            after = result.last;
            options.onProgress?.(done);
          }
        }
      };

      // The first pass skips keys another transaction holds, so it never queues behind live
      // traffic. Whatever it skipped, or a server still on the old ring created meanwhile, is
      // swept by a second pass that waits for each lock instead (still one short batch at a time).
      await pass(true);
      const { rows } = await db.query<{ remaining: number }>(
        "SELECT count(*)::int AS remaining FROM user_data_keys WHERE kek_id <> $1",
        [current],
      );
      if ((rows[0]?.remaining ?? 0) > failed.size) await pass(false);

      return { rewrapped, failed: [...failed] };
    },
  });
}

/** A new data key id: `dk_` and 16 random bytes in base64url, 25 characters (a valid kid). */
function newDataKeyId(): string {
  return `dk_${toBase64Url(randomFillSync(new Uint8Array(16)))}`;
}
