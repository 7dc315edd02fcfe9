import { accountPrivateKeyAad, isCountersignError, openWithKey } from "@countersign/protocol";
import { api } from "../api/api.ts";
import { ApiError } from "../api/api-error.ts";
import type { Account, AccountKeyInfo, BundleAnswer, DeviceList } from "../api/types.ts";
import { unwrapBundle } from "./credential-bundle.ts";
import type { DeviceRecord } from "./device-db.ts";
import { setKeyring, setUnlocked } from "./keyring.ts";

/**
 * Looks at the account's key set and this device's bundle, and unlocks when it can: bundle →
 * AUK (this device's non-extractable wrapping key) → account private key, held in memory only.
 * A device without a usable bundle ends up `locked`, which the app offers to fix by pairing or
 * with the recovery secret.
 */
export async function refreshKeyring(account: Account, record: DeviceRecord): Promise<void> {
  const deviceId = record.deviceId;
  if (deviceId === null) return setKeyring({ status: "unregistered" });
  const { account_key: accountKey } = await api<{ account_key: AccountKeyInfo | null }>("GET", "/v1/me/account-key");
  if (accountKey === null) return setKeyring({ status: "no-account-key", deviceId });
  const locked = {
    status: "locked",
    deviceId,
    accountKeyId: accountKey.id,
    fingerprint: accountKey.fingerprint,
    needsPasskey: false,
  } as const;
  let answer: BundleAnswer;
  try {
    answer = await api<BundleAnswer>("GET", "/v1/me/devices/current/bundle");
  } catch (error) {
    if (!(error instanceof ApiError) || error.code !== "bundle_not_available") throw error;
    // The server keeps a bundle back from a session not recently proven by a passkey (a
    // recovery session, say): then a passkey confirmation unlocks, no pairing needed.
    const { devices } = await api<DeviceList>("GET", "/v1/me/devices");
    const held = devices.some((device) => device.id === deviceId && device.has_bundle);
    return setKeyring({ ...locked, needsPasskey: held });
  }
  try {
    const auk = await unwrapBundle(record.wrapping, answer.bundle, account.id, deviceId);
    const key = openWithKey(
      auk,
      answer.account_key.encrypted_private_key,
      accountPrivateKeyAad(account.id, answer.account_key.id),
    );
    auk.fill(0);
    setUnlocked(
      {
        deviceId,
        accountKeyId: answer.account_key.id,
        fingerprint: answer.account_key.fingerprint,
        publicKey: answer.account_key.public_key,
      },
      key,
    );
  } catch (error) {
    // A bundle this device cannot open (its keys were replaced) is as good as none.
    if (isCountersignError(error) && error.code === "e2e_decrypt_failed") return setKeyring(locked);
    throw error;
  }
}
