import { api } from "../api/api.ts";
import type { Account } from "../api/types.ts";
import { withStepUp } from "../webauthn/ceremonies.ts";
import { createAccountKeySet } from "./create-account-key-set.ts";
import type { DeviceRecord } from "./device-db.ts";
import { refreshKeyring } from "./refresh-keyring.ts";

/**
 * Creates the account key set on this device: the first one (`create`, at sign-up or for an
 * account from before end-to-end keys) or a replacement (`reset`, when the old one is lost: its
 * context stays unreadable and every other device's bundle is dropped).
 *
 * @returns the new recovery secret, to show once as a Recovery Kit.
 */
export async function establishAccountKey(
  account: Account,
  record: DeviceRecord,
  mode: "create" | "reset",
): Promise<string> {
  if (record.deviceId === null) throw new Error("device not registered");
  const set = await createAccountKeySet({ userId: account.id, deviceId: record.deviceId, wrapping: record.wrapping });
  const path = mode === "create" ? "/v1/me/account-key" : "/v1/me/account-key/reset";
  await withStepUp(() => api("POST", path, set.body));
  await refreshKeyring(account, record);
  return set.recoverySecret;
}
