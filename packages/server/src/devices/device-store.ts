import { randomBytes, toBase64Url } from "@countersign/protocol";
import type { Clock } from "../clock.ts";
import { decryptFieldText, encryptField, type FieldContext } from "../crypto/field-cipher.ts";
import { fieldKeyId } from "../crypto/field-key-id.ts";
import type { UserDataKeys } from "../crypto/user-data-keys.ts";
import type { Queryable } from "../db/database.ts";

/** A stored device. `name` and `platform` are still sealed; {@link DeviceStore.readLabels} opens them. */
export interface DeviceRow {
  readonly id: string;
  readonly userId: string;
  readonly name: string;
  readonly platform: string;
  /** SPKI (DER) of the device's ECDSA P-256 signing key. */
  readonly signingPublicKey: Uint8Array;
  /** The AUK sealed by the device's wrapping key, for the key set `bundleAccountKeyId`. */
  readonly bundle: string | null;
  readonly bundleAccountKeyId: string | null;
  readonly createdAt: Date;
  readonly lastSeenAt: Date;
  readonly revokedAt: Date | null;
}

/** What registering a device stores. */
export interface NewDevice {
  readonly name: string;
  readonly platform: string;
  readonly signingPublicKey: Uint8Array;
}

/** A device's labels, opened; null each when the owner's data key was erased. */
export interface DeviceLabels {
  readonly name: string | null;
  readonly platform: string | null;
}

/** The `devices` table (migration 012): labels sealed under the owner's data key. */
export interface DeviceStore {
  insert(q: Queryable, userId: string, device: NewDevice): Promise<DeviceRow>;
  /** The user's device with this id, revoked or not; `lock` takes a row lock (FOR UPDATE). */
  find(q: Queryable, userId: string, deviceId: string, options?: { lock?: boolean }): Promise<DeviceRow | null>;
  /** The user's devices that are not revoked, oldest first. */
  listActive(q: Queryable, userId: string): Promise<DeviceRow[]>;
  readLabels(q: Queryable, device: DeviceRow, keyCache?: Map<string, Uint8Array | null>): Promise<DeviceLabels>;
  /** Records that the device was used now; never moves backwards. */
  touch(q: Queryable, deviceId: string): Promise<void>;
  /** Marks the device revoked and drops its bundle; false when it was not an active device of the user. */
  revoke(q: Queryable, userId: string, deviceId: string): Promise<boolean>;
  /** Stores the device's credential bundle for an account key set. */
  setBundle(q: Queryable, deviceId: string, bundle: string, accountKeyId: string): Promise<void>;
  /** Drops every bundle of the user's devices (the AUK they wrap is retired); returns how many. */
  clearBundles(q: Queryable, userId: string): Promise<number>;
}

interface StoredDevice {
  id: string;
  user_id: string;
  name: string;
  platform: string;
  signing_public_key: Uint8Array;
  bundle: string | null;
  bundle_account_key_id: string | null;
  created_at: Date;
  last_seen_at: Date;
  revoked_at: Date | null;
}

const COLUMNS =
  "id, user_id, name, platform, signing_public_key, bundle, bundle_account_key_id, created_at, last_seen_at, revoked_at";

/** Where a device label lives, for the field cipher's AAD. */
export const deviceLabelField = (deviceId: string, column: "name" | "platform"): FieldContext => ({
  table: "devices",
  column,
  rowId: deviceId,
});

const toRow = (row: StoredDevice): DeviceRow => ({
  id: row.id,
  userId: row.user_id,
  name: row.name,
  platform: row.platform,
  signingPublicKey: new Uint8Array(row.signing_public_key),
  bundle: row.bundle,
  bundleAccountKeyId: row.bundle_account_key_id,
  createdAt: row.created_at,
  lastSeenAt: row.last_seen_at,
  revokedAt: row.revoked_at,
});

/**
 * Builds the store. Labels are sealed like passkey names: people name devices after themselves
 * ("Alice's iPhone"), and the platform says what they own.
 *
 * @example
 * ```ts
 * const devices = createDeviceStore({ dataKeys, clock });
 * const device = await devices.insert(tx, userId, { name: "Laptop", platform: "macOS", signingPublicKey });
 * ```
 */
export function createDeviceStore(deps: { dataKeys: UserDataKeys; clock: Clock }): DeviceStore {
  const { dataKeys, clock } = deps;
  const now = () => new Date(clock.now());

  return Object.freeze({
    async insert(q: Queryable, userId: string, device: NewDevice) {
      const id = `dev_${toBase64Url(randomBytes(16))}`;
      const key = await dataKeys.forWriting(q, userId);
      const at = now();
      const { rows } = await q.query<StoredDevice>(
        `INSERT INTO devices (id, user_id, name, platform, signing_public_key, created_at, last_seen_at)
         VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING ${COLUMNS}`,
        [
          id,
          userId,
          encryptField(key, deviceLabelField(id, "name"), device.name),
          encryptField(key, deviceLabelField(id, "platform"), device.platform),
          device.signingPublicKey,
          at,
        ],
      );
      return toRow(rows[0] as StoredDevice);
    },

    async find(q: Queryable, userId: string, deviceId: string, options: { lock?: boolean } = {}) {
      const { rows } = await q.query<StoredDevice>(
        `SELECT ${COLUMNS} FROM devices WHERE user_id = $1 AND id = $2${options.lock ? " FOR UPDATE" : ""}`,
        [userId, deviceId],
      );
      return rows[0] === undefined ? null : toRow(rows[0]);
    },

    async listActive(q: Queryable, userId: string) {
      const { rows } = await q.query<StoredDevice>(
        `SELECT ${COLUMNS} FROM devices WHERE user_id = $1 AND revoked_at IS NULL ORDER BY created_at, id`,
        [userId],
      );
      return rows.map(toRow);
    },

    async readLabels(q: Queryable, device: DeviceRow, keyCache = new Map<string, Uint8Array | null>()) {
      const open = async (column: "name" | "platform", sealed: string) => {
        const kid = fieldKeyId(sealed);
        if (kid === null) return null;
        if (!keyCache.has(kid)) keyCache.set(kid, await dataKeys.loadKey(q, kid));
        return decryptFieldText(() => keyCache.get(kid), deviceLabelField(device.id, column), sealed);
      };
      return { name: await open("name", device.name), platform: await open("platform", device.platform) };
    },

    async touch(q: Queryable, deviceId: string) {
      await q.query("UPDATE devices SET last_seen_at = $2 WHERE id = $1 AND last_seen_at < $2", [deviceId, now()]);
    },

    async revoke(q: Queryable, userId: string, deviceId: string) {
      const { rowCount } = await q.query(
        `UPDATE devices SET revoked_at = $3, bundle = NULL, bundle_account_key_id = NULL
          WHERE user_id = $1 AND id = $2 AND revoked_at IS NULL`,
        [userId, deviceId, now()],
      );
      return rowCount === 1;
    },

    async setBundle(q: Queryable, deviceId: string, bundle: string, accountKeyId: string) {
      await q.query("UPDATE devices SET bundle = $2, bundle_account_key_id = $3 WHERE id = $1 AND revoked_at IS NULL", [
        deviceId,
        bundle,
        accountKeyId,
      ]);
    },

    async clearBundles(q: Queryable, userId: string) {
      const { rowCount } = await q.query(
        "UPDATE devices SET bundle = NULL, bundle_account_key_id = NULL WHERE user_id = $1 AND bundle IS NOT NULL",
        [userId],
      );
      return rowCount;
    },
  });
}
