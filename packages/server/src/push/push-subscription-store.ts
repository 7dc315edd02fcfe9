import { createHmac, createSecretKey, randomBytes } from "node:crypto";
import { toBase64Url, utf8 } from "@countersign/protocol";
import type { Clock } from "../clock.ts";
import { decryptFieldText, encryptField, type FieldContext } from "../crypto/field-cipher.ts";
import { fieldKeyId } from "../crypto/field-key-id.ts";
import { hkdfSha256 } from "../crypto/hkdf.ts";
import type { UserDataKeys } from "../crypto/user-data-keys.ts";
import type { Queryable } from "../db/database.ts";
import type { PushTarget } from "./push-message.ts";

/** A subscription's kind: a browser's Web Push subscription or a native app's device token. */
export type PushKind = PushTarget["kind"];

/** A stored subscription, opened. */
export interface PushSubscriptionRow {
  readonly id: string;
  readonly userId: string;
  readonly target: PushTarget;
  readonly createdAt: Date;
  readonly lastSuccessAt: Date | null;
  readonly failureCount: number;
  readonly lastFailureAt: Date | null;
  readonly lastFailure: string | null;
}

/** The `push_subscriptions` table (migration 011): targets sealed under the owner's data key. */
export interface PushSubscriptionStore {
  /**
   * Stores `target` for `userId`, or refreshes it when the same endpoint or token is already
   * stored (for this person or, after a sign-in to another account on that browser, another
   * one: it moves). `deviceId` is the device of the session that subscribes (or null), so that
   * revoking the device removes the subscription. Returns the row and whether it is new.
   */
  save(
    q: Queryable,
    userId: string,
    target: PushTarget,
    deviceId?: string | null,
  ): Promise<{ row: PushSubscriptionRow; created: boolean }>;
  /** The person's subscriptions, oldest first; those whose data key was erased are left out. */
  listForUser(q: Queryable, userId: string): Promise<PushSubscriptionRow[]>;
  /**
   * What the notifier reads for new requests, for many people in one statement: each one's
   * subscriptions as `listForUser` lists them, or none when that person turned notifications off
   * (`user_settings`). Everyone asked for has an entry.
   */
  listNotifiable(q: Queryable, userIds: readonly string[]): Promise<Map<string, PushSubscriptionRow[]>>;
  /** Deletes the person's subscription to this endpoint or token; false when there was none. */
  removeForUser(q: Queryable, userId: string, kind: PushKind, endpointOrToken: string): Promise<boolean>;
  /** Deletes every subscription made from a device (it was revoked); returns how many. */
  removeForDevice(q: Queryable, deviceId: string): Promise<number>;
  /** Deletes a subscription the push service called gone. */
  remove(q: Queryable, id: string): Promise<void>;
  recordSuccess(q: Queryable, id: string): Promise<void>;
  /** Counts a failed delivery with a short, fixed reason (never a response body). */
  recordFailure(q: Queryable, id: string, reason: string): Promise<void>;
}

interface StoredSubscription {
  id: string;
  user_id: string;
  kind: PushKind;
  target: string;
  keys: string | null;
  created_at: Date;
  last_success_at: Date | null;
  failure_count: number;
  last_failure_at: Date | null;
  last_failure: string | null;
}

const COLUMNS =
  "id, user_id, kind, target, keys, created_at, last_success_at, failure_count, last_failure_at, last_failure";
const fieldContext = (id: string, column: "target" | "keys"): FieldContext => ({
  table: "push_subscriptions",
  column,
  rowId: id,
});

/**
 * HKDF `info` of the target-digest key. Its own prefix, disjoint from `countersign/key/` and
 * `countersign/blind-index/` (RFC 5869 §3.2: distinct info, independent keys).
 */
export const PUSH_TARGET_DIGEST_INFO = "countersign/push/v1/target-digest";

/**
 * Builds the store. The target digest is HMAC-SHA-256 (RFC 2104) over the kind and the target,
 * length-prefixed, under a key derived once from the master key.
 *
 * @example
 * ```ts
 * const store = createPushSubscriptionStore({ dataKeys, clock, masterKey: config.secrets.masterKey });
 * await store.save(tx, userId, { kind: "webpush", endpoint, p256dh, auth });
 * ```
 */
export function createPushSubscriptionStore(deps: {
  dataKeys: UserDataKeys;
  clock: Clock;
  masterKey: Uint8Array;
}): PushSubscriptionStore {
  const { dataKeys, clock } = deps;
  // Kept as a KeyObject: Node 24 prepares raw key bytes slowly on every HMAC (crypto/aead.ts).
  const digestKey = createSecretKey(hkdfSha256(deps.masterKey, new Uint8Array(0), utf8(PUSH_TARGET_DIGEST_INFO), 32));
  const now = () => new Date(clock.now());
  const digest = (kind: PushKind, target: string) => {
    const mac = createHmac("sha256", digestKey);
    for (const part of [kind, target]) {
      const bytes = utf8(part);
      const prefix = Buffer.alloc(4);
      prefix.writeUInt32BE(bytes.length);
      mac.update(prefix).update(bytes);
    }
    return mac.digest("hex");
  };
  const targetOf = (target: PushTarget) => (target.kind === "webpush" ? target.endpoint : target.token);
  const seal = async (q: Queryable, userId: string, id: string, target: PushTarget) => {
    const key = await dataKeys.forWriting(q, userId);
    return {
      target: encryptField(key, fieldContext(id, "target"), targetOf(target)),
      keys:
        target.kind === "webpush"
          ? encryptField(key, fieldContext(id, "keys"), JSON.stringify({ p256dh: target.p256dh, auth: target.auth }))
          : null,
    };
  };
  const open = async (q: Queryable, row: StoredSubscription, keyCache: Map<string, Uint8Array | null>) => {
    const load = async (sealed: string) => {
      const kid = fieldKeyId(sealed);
      if (kid === null) return null;
      if (!keyCache.has(kid)) keyCache.set(kid, await dataKeys.loadKey(q, kid));
      return keyCache.get(kid) ?? null;
    };
    const targetKey = await load(row.target);
    const target = decryptFieldText(() => targetKey, fieldContext(row.id, "target"), row.target);
    if (target === null) return null;
    let pushTarget: PushTarget;
    if (row.kind === "webpush") {
      if (row.keys === null) return null;
      const keysKey = await load(row.keys);
      const keys = decryptFieldText(() => keysKey, fieldContext(row.id, "keys"), row.keys);
      if (keys === null) return null;
      const { p256dh, auth } = JSON.parse(keys) as { p256dh: string; auth: string };
      pushTarget = { kind: "webpush", endpoint: target, p256dh, auth };
    } else {
      pushTarget = { kind: row.kind, token: target };
    }
    const opened: PushSubscriptionRow = {
      id: row.id,
      userId: row.user_id,
      target: pushTarget,
      createdAt: row.created_at,
      lastSuccessAt: row.last_success_at,
      failureCount: row.failure_count,
      lastFailureAt: row.last_failure_at,
      lastFailure: row.last_failure,
    };
    return opened;
  };
  const openOne = async (q: Queryable, row: StoredSubscription | undefined) => {
    const opened = row === undefined ? null : await open(q, row, new Map());
    if (opened === null) throw new Error("a subscription just written could not be opened");
    return opened;
  };

  return Object.freeze({
    async save(q: Queryable, userId: string, target: PushTarget, deviceId: string | null = null) {
      const targetDigest = digest(target.kind, targetOf(target));
      // Two attempts: an INSERT that loses a race to a concurrent one finds that row next time.
      for (let attempt = 0; attempt < 2; attempt++) {
        const existing = await q.query<{ id: string }>(
          "SELECT id FROM push_subscriptions WHERE target_digest = $1 FOR UPDATE",
          [targetDigest],
        );
        const id = existing.rows[0]?.id;
        if (id !== undefined) {
          // Re-sealed under the (possibly new) owner's key; the failure record starts afresh.
          const sealed = await seal(q, userId, id, target);
          const { rows } = await q.query<StoredSubscription>(
            `UPDATE push_subscriptions
                SET user_id = $2, target = $3, keys = $4, device_id = $5,
                    failure_count = 0, last_failure_at = NULL, last_failure = NULL
              WHERE id = $1 RETURNING ${COLUMNS}`,
            [id, userId, sealed.target, sealed.keys, deviceId],
          );
          return { row: await openOne(q, rows[0]), created: false };
        }
        const newId = `psub_${toBase64Url(randomBytes(16))}`;
        const sealed = await seal(q, userId, newId, target);
        const { rows } = await q.query<StoredSubscription>(
          `INSERT INTO push_subscriptions (id, user_id, kind, target_digest, target, keys, created_at, device_id)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
           ON CONFLICT (target_digest) DO NOTHING
           RETURNING ${COLUMNS}`,
          [newId, userId, target.kind, targetDigest, sealed.target, sealed.keys, now(), deviceId],
        );
        if (rows[0] !== undefined) return { row: await openOne(q, rows[0]), created: true };
      }
      throw new Error("push subscription kept changing while being saved");
    },

    async listForUser(q: Queryable, userId: string) {
      const { rows } = await q.query<StoredSubscription>(
        `SELECT ${COLUMNS} FROM push_subscriptions WHERE user_id = $1 ORDER BY created_at, id`,
        [userId],
      );
      const keyCache = new Map<string, Uint8Array | null>();
      const opened: PushSubscriptionRow[] = [];
      for (const row of rows) {
        const subscription = await open(q, row, keyCache);
        if (subscription !== null) opened.push(subscription);
      }
      return opened;
    },

    async listNotifiable(q: Queryable, userIds: readonly string[]) {
      const { rows } = await q.query<StoredSubscription>(
        `SELECT ${COLUMNS} FROM push_subscriptions p
          WHERE user_id = ANY($1::text[])
            AND NOT EXISTS (SELECT 1 FROM user_settings s WHERE s.user_id = p.user_id AND NOT s.notifications_enabled)
          ORDER BY created_at, id`,
        [userIds],
      );
      const byUser = new Map<string, PushSubscriptionRow[]>(userIds.map((userId) => [userId, []]));
      const keyCache = new Map<string, Uint8Array | null>();
      for (const row of rows) {
        const subscription = await open(q, row, keyCache);
        if (subscription !== null) byUser.get(row.user_id)?.push(subscription);
      }
      return byUser;
    },

    async removeForUser(q: Queryable, userId: string, kind: PushKind, endpointOrToken: string) {
      const { rowCount } = await q.query("DELETE FROM push_subscriptions WHERE target_digest = $1 AND user_id = $2", [
        digest(kind, endpointOrToken),
        userId,
      ]);
      return rowCount === 1;
    },

    async removeForDevice(q: Queryable, deviceId: string) {
      const { rowCount } = await q.query("DELETE FROM push_subscriptions WHERE device_id = $1", [deviceId]);
      return rowCount;
    },

    async remove(q: Queryable, id: string) {
      await q.query("DELETE FROM push_subscriptions WHERE id = $1", [id]);
    },

    async recordSuccess(q: Queryable, id: string) {
      await q.query(
        "UPDATE push_subscriptions SET last_success_at = $2, failure_count = 0, last_failure = NULL WHERE id = $1",
        [id, now()],
      );
    },

    async recordFailure(q: Queryable, id: string, reason: string) {
      await q.query(
        `UPDATE push_subscriptions SET failure_count = failure_count + 1, last_failure_at = $2, last_failure = $3
          WHERE id = $1`,
        [id, now(), reason.slice(0, 200)],
      );
    },
  });
}
