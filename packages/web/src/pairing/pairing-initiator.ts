import {
  CountersignError,
  type CpaceResult,
  cpaceStart,
  fromUtf8,
  generatePairingCode,
  pairingTransferKey,
  randomBytes,
  sealWithKey,
  toBase64Url,
} from "@countersign/protocol";
import { api } from "../api/api.ts";
import type { Account, Pairing } from "../api/types.ts";
import type { DeviceRecord } from "../device/device-db.ts";
import { readAuk } from "../device/read-auk.ts";
import { decodeMessage } from "./decode-message.ts";
import { pairingAukAad, pairingSetup } from "./pairing-inputs.ts";
import { pollPairing } from "./poll-pairing.ts";

/** A pairing this device started: the code to show and what finishing it needs. */
export interface StartedPairing {
  id: string;
  /** `XXXX-XXXX`, shown to the person and typed (or scanned) on the new device. */
  code: string;
  expiresAt: string;
  sid: Uint8Array;
  finish(peerMessage: Uint8Array): CpaceResult;
}

/**
 * Starts "Add a device" (spec §4): a fresh code, CPace as the initiator, MSGa and the sid to
 * the relay. The code never leaves this device except through the person's eyes.
 */
export async function startPairing(account: Account, record: DeviceRecord): Promise<StartedPairing> {
  if (record.deviceId === null) throw new CountersignError("device_required");
  const code = generatePairingCode();
  const sid = randomBytes(16);
  const cpace = cpaceStart("initiator", pairingSetup({ code, userId: account.id, sid, deviceId: record.deviceId }));
  const { pairing } = await api<{ pairing: { id: string; expires_at: string } }>("POST", "/v1/me/pairings", {
    sid: toBase64Url(sid),
    message: toBase64Url(cpace.message),
  });
  return { id: pairing.id, code, expiresAt: pairing.expires_at, sid, finish: (peer) => cpace.finish(peer) };
}

/**
 * Waits for the new device to join, checks its confirmation tag, and only then sends Ta and the
 * AUK sealed under the CPace key; waits for the new device to complete. A tag that does not
 * verify (a wrong code, or someone guessing) ends the pairing with `/fail`: the one guess is spent.
 */
export async function finishPairing(
  account: Account,
  record: DeviceRecord,
  started: StartedPairing,
  signal: AbortSignal,
): Promise<void> {
  const joined = await pollPairing(started.id, ["joined"], signal);
  let result: CpaceResult;
  try {
    result = started.finish(decodeMessage(joined.responder_message));
    if (!result.verifyPeerTag(decodeMessage(joined.responder_tag))) throw new CountersignError("pairing_failed");
    // The device CPace authenticated is the one the relay says joined.
    if (fromUtf8(result.peerAd) !== joined.responder_device_id) throw new CountersignError("pairing_failed");
  } catch (cause) {
    await failPairing(started.id, "confirmation_failed");
    throw new CountersignError("pairing_failed", { cause });
  }
  const { auk } = await readAuk(account, record);
  const key = pairingTransferKey(result.isk, started.sid);
  try {
    const sealed = sealWithKey(key, auk, pairingAukAad(account.id, started.id));
    await api<{ pairing: Pairing }>("POST", `/v1/me/pairings/${started.id}/confirm`, {
      tag: toBase64Url(result.confirmationTag),
      sealed_auk: sealed,
    });
  } finally {
    auk.fill(0);
    key.fill(0);
    result.isk.fill(0);
  }
  await pollPairing(started.id, ["completed"], signal);
}

/** Ends a pairing (`canceled` by the person, or `confirmation_failed`); best effort when closing. */
export async function failPairing(id: string, reason: "confirmation_failed" | "canceled"): Promise<void> {
  await api("POST", `/v1/me/pairings/${id}/fail`, { reason });
}
