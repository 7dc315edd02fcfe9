import {
  accountPrivateKeyAad,
  CountersignError,
  openWithKey,
  parseRecoverySecret,
  recoveryAukAad,
  recoveryKeyFromSecret,
} from "@countersign/protocol";
import { api } from "../api/api.ts";
import type { Account, RecoveryWrap } from "../api/types.ts";
import { withStepUp } from "../webauthn/ceremonies.ts";
import type { DeviceRecord } from "./device-db.ts";
import { storeBundle } from "./store-bundle.ts";

/**
 * Restores this device's access to end-to-end context with the Recovery Kit's secret (D-3):
 * fetch the recovery-wrapped AUK, open it with the key derived from the secret, check that the
 * AUK opens the account private key, then keep it as this device's bundle.
 *
 * @throws CountersignError `recovery_secret_invalid` for a malformed or wrong secret.
 */
export async function recoverWithSecret(account: Account, record: DeviceRecord, input: string): Promise<void> {
  const secret = parseRecoverySecret(input);
  const wrap = await withStepUp(() => api<RecoveryWrap>("GET", "/v1/me/account-key/recovery"));
  const key = recoveryKeyFromSecret(secret, account.id);
  let auk: Uint8Array;
  try {
    auk = openWithKey(key, wrap.recovery_wrapped_auk, recoveryAukAad(account.id, wrap.account_key_id));
    // Proven before it is stored: an AUK that does not open the private key is no use.
    openWithKey(auk, wrap.encrypted_private_key, accountPrivateKeyAad(account.id, wrap.account_key_id)).fill(0);
  } catch (cause) {
    // Well-formed but wrong: say so in the person's terms, not as a decryption failure.
    throw new CountersignError("recovery_secret_invalid", { cause });
  } finally {
    key.fill(0);
    secret.fill(0);
  }
  try {
    await storeBundle(account, record, auk, wrap.account_key_id);
  } finally {
    auk.fill(0);
  }
}
