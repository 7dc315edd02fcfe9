import { api } from "../api/api.ts";
import { ApiError } from "../api/api-error.ts";
import type { Account, BundleAnswer } from "../api/types.ts";
import { unwrapBundle } from "./credential-bundle.ts";
import type { DeviceRecord } from "./device-db.ts";

/**
 * The AUK, opened from this device's bundle for one use (sending it to a device being paired).
 * The caller wipes it.
 */
export async function readAuk(
  account: Account,
  record: DeviceRecord,
): Promise<{ auk: Uint8Array; accountKeyId: string }> {
  if (record.deviceId === null) throw new ApiError("device_required", 403, "device required");
  const answer = await api<BundleAnswer>("GET", "/v1/me/devices/current/bundle");
  const auk = await unwrapBundle(record.wrapping, answer.bundle, account.id, record.deviceId);
  return { auk, accountKeyId: answer.account_key.id };
}
