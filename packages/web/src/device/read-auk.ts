import { CountersignError } from "@countersign/protocol";
import { api } from "../api/api.ts";
import { ApiError } from "../api/api-error.ts";
import type { Account, BundleAnswer } from "../api/types.ts";
import { unwrapBundle } from "./credential-bundle.ts";
import type { DeviceRecord } from "./device-db.ts";
import { keyring } from "./keyring.ts";

/**
 * The AUK, opened from this device's bundle for one use (sending it to a device being paired).
 * The caller wipes it.
 *
 * @throws CountersignError `account_key_changed` when the bundle served is not of the key set
 *   this device is unlocked with (a new device must not be handed a retired key set).
 */
export async function readAuk(
  account: Account,
  record: DeviceRecord,
): Promise<{ auk: Uint8Array; accountKeyId: string }> {
  if (record.deviceId === null) throw new ApiError("device_required", 403, "device required");
  const answer = await api<BundleAnswer>("GET", "/v1/me/devices/current/bundle");
  // Only the key set this device unlocked with (and checked: public key, no rollback) is handed on.
  const unlocked = keyring.value;
  if (unlocked.status !== "unlocked" || unlocked.accountKeyId !== answer.account_key.id) {
    throw new CountersignError("account_key_changed");
  }
  const auk = await unwrapBundle(record.wrapping, answer.bundle, account.id, record.deviceId, answer.account_key.id);
  return { auk, accountKeyId: answer.account_key.id };
}
