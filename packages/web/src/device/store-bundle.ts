import { api } from "../api/api.ts";
import { ApiError } from "../api/api-error.ts";
import type { Account } from "../api/types.ts";
import { withStepUp } from "../webauthn/ceremonies.ts";
import { wrapBundle } from "./credential-bundle.ts";
import type { DeviceRecord } from "./device-db.ts";
import { refreshKeyring } from "./refresh-keyring.ts";

/**
 * Stores the AUK (received by pairing or opened with the recovery secret) as this device's
 * bundle, then unlocks from it: the same path as every later sign-in, so what is stored is what
 * is proven to work.
 */
export async function storeBundle(
  account: Account,
  record: DeviceRecord,
  auk: Uint8Array,
  accountKeyId: string,
): Promise<void> {
  if (record.deviceId === null) throw new ApiError("device_required", 403, "device required");
  const bundle = await wrapBundle(record.wrapping, auk, account.id, record.deviceId, accountKeyId);
  // The server stores a bundle only for a session proven by a passkey recently (a stolen cookie
  // must not overwrite it): after a password or recovery sign-in, or a pairing that outlasted the
  // window, this asks for the passkey once and stores it then. The AUK is still in memory.
  await withStepUp(() => api("PUT", "/v1/me/devices/current/bundle", { bundle, account_key_id: accountKeyId }));
  await refreshKeyring(account, record);
}
