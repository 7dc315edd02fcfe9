import {
  accountKeyFingerprint,
  accountPrivateKeyAad,
  accountPublicKeyOf,
  fromBase64Url,
  isCountersignError,
  openWithKey,
  timingSafeEqual,
  toBase64Url,
} from "@countersign/protocol";
import { api } from "../api/api.ts";
import { ApiError } from "../api/api-error.ts";
import type { Account, AccountKeyInfo, BundleAnswer, DeviceList } from "../api/types.ts";
import { unwrapBundle } from "./credential-bundle.ts";
import type { DeviceRecord } from "./device-db.ts";
import { type KeyIdMemory, keyIdMemory } from "./key-id-memory.ts";
import { setKeyring, setUnlocked } from "./keyring.ts";

/**
 * Looks at the account's key set and this device's bundle, and unlocks when it can: bundle →
 * AUK (this device's non-extractable wrapping key) → account private key, held in memory only.
 * A device without a usable bundle ends up `locked`, which the app offers to fix by pairing or
 * with the recovery secret.
 *
 * The server's word is not taken for the public key: it is derived from the opened private key
 * (authentic, as the private key is sealed under the AUK). When the server names another public
 * key, the device refuses to unlock (`refused`, no key kept): a server that pinned agents to a key
 * of its own would show them that key, and the person compares fingerprints to catch exactly that.
 * The fingerprint shown is computed here from the derived key.
 *
 * Nor is its word taken for which key set is current. The bundle's additional data names its key
 * set, so a bundle opens only as the key set it was made for; and the device remembers the key
 * sets it unlocked with (IndexedDB). A key set it has not seen is taken only when the server names
 * it as the active one and the bundle opens under its id; one it has seen before that is not the
 * newest is a retired key set served again, and the device refuses it (`refused`, `key-rollback`).
 */
export async function refreshKeyring(
  account: Account,
  record: DeviceRecord,
  memory: KeyIdMemory = keyIdMemory(),
): Promise<void> {
  const deviceId = record.deviceId;
  if (deviceId === null) return setKeyring({ status: "unregistered" });
  const { account_key: accountKey } = await api<{ account_key: AccountKeyInfo | null }>("GET", "/v1/me/account-key");
  if (accountKey === null) return setKeyring({ status: "no-account-key", deviceId });
  const seen = await memory.seen(account.id, deviceId);
  const rolledBack = (id: string) => seen.includes(id) && id !== seen.at(-1);
  if (rolledBack(accountKey.id)) return setKeyring({ status: "refused", deviceId, reason: "key-rollback" });
  const locked = {
    status: "locked",
    deviceId,
    accountKeyId: accountKey.id,
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
  const keyId = answer.account_key.id;
  if (rolledBack(keyId)) return setKeyring({ status: "refused", deviceId, reason: "key-rollback" });
  // A bundle of another key set than the one the server calls active opens nothing here.
  if (keyId !== accountKey.id) return setKeyring(locked);
  try {
    const auk = await unwrapBundle(record.wrapping, answer.bundle, account.id, deviceId, keyId);
    let key: Uint8Array;
    try {
      key = openWithKey(auk, answer.account_key.encrypted_private_key, accountPrivateKeyAad(account.id, keyId));
    } finally {
      auk.fill(0);
    }
    const publicKey = accountPublicKeyOf(key);
    const served = fromBase64Url(answer.account_key.public_key);
    if (served === null || !timingSafeEqual(served, publicKey)) {
      key.fill(0);
      return setKeyring({ status: "refused", deviceId, reason: "public-key-mismatch" });
    }
    if (seen.at(-1) !== keyId) {
      try {
        await memory.remember(account.id, deviceId, keyId);
      } catch (error) {
        key.fill(0);
        throw error;
      }
    }
    setUnlocked(
      {
        deviceId,
        accountKeyId: keyId,
        fingerprint: accountKeyFingerprint(publicKey),
        publicKey: toBase64Url(publicKey),
      },
      key,
    );
  } catch (error) {
    // A bundle this device cannot open (its keys were replaced) is as good as none.
    if (isCountersignError(error) && error.code === "e2e_decrypt_failed") return setKeyring(locked);
    throw error;
  }
}
