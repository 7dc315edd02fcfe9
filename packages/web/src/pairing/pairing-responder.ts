import {
  CountersignError,
  type CpaceResult,
  cpaceStart,
  fromUtf8,
  normalizePairingCode,
  openWithKey,
  pairingTransferKey,
  toBase64Url,
} from "@countersign/protocol";
import { api } from "../api/api.ts";
import type { Account, OpenPairing } from "../api/types.ts";
import type { DeviceRecord } from "../device/device-db.ts";
import { storeBundle } from "../device/store-bundle.ts";
import { decodeMessage } from "./decode-message.ts";
import { failPairing } from "./pairing-initiator.ts";
import { pairingAukAad, pairingSetup } from "./pairing-inputs.ts";
import { pollPairing } from "./poll-pairing.ts";

/**
 * Pairs this (new) device with the code shown on an enrolled one (spec §4): CPace as the
 * responder over the account's open pairing, MSGb and Tb in the one join the relay allows, then
 * Ta is checked before the sealed AUK is opened and kept as this device's bundle.
 *
 * @throws CountersignError `pairing_code_invalid` (malformed code), `pairing_failed` (a wrong
 *   code or a tampered exchange: the pairing is burnt), or the relay's coded errors.
 */
export async function joinPairing(
  account: Account,
  record: DeviceRecord,
  code: string,
  signal: AbortSignal,
): Promise<void> {
  if (record.deviceId === null) throw new CountersignError("device_required");
  const deviceId = record.deviceId;
  // Checked before anything reaches the relay, so a typo costs no guess.
  normalizePairingCode(code);
  const setupFor = (sid: Uint8Array) => pairingSetup({ code, userId: account.id, sid, deviceId });

  const { pairing: open } = await api<{ pairing: OpenPairing }>("GET", "/v1/me/pairings/open");
  const sid = decodeMessage(open.sid);
  const cpace = cpaceStart("responder", setupFor(sid));
  let result: CpaceResult;
  try {
    result = cpace.finish(decodeMessage(open.initiator_message));
  } catch (cause) {
    await failPairing(open.id, "confirmation_failed");
    throw new CountersignError("pairing_failed", { cause });
  }
  await api("POST", `/v1/me/pairings/${open.id}/join`, {
    message: toBase64Url(cpace.message),
    tag: toBase64Url(result.confirmationTag),
  });

  const confirmed = await pollPairing(open.id, ["confirmed"], signal);
  const key = pairingTransferKey(result.isk, sid);
  let auk: Uint8Array;
  try {
    if (!result.verifyPeerTag(decodeMessage(confirmed.initiator_tag))) throw new Error("initiator tag");
    if (fromUtf8(result.peerAd) !== open.initiator_device_id) throw new Error("initiator device");
    auk = openWithKey(key, confirmed.sealed_auk ?? "", pairingAukAad(account.id, open.id));
  } catch (cause) {
    await failPairing(open.id, "confirmation_failed");
    throw new CountersignError("pairing_failed", { cause });
  } finally {
    key.fill(0);
    result.isk.fill(0);
  }
  try {
    const { account_key: accountKey } = await api<{ account_key: { id: string } | null }>("GET", "/v1/me/account-key");
    if (accountKey === null) throw new CountersignError("account_key_missing");
    await storeBundle(account, record, auk, accountKey.id);
  } finally {
    auk.fill(0);
  }
  await api("POST", `/v1/me/pairings/${open.id}/complete`);
}
