import { type CpaceSetup, normalizePairingCode, pairingChannelId, utf8 } from "@countersign/protocol";

/**
 * The CPace inputs of a Countersign pairing (spec §1, §4): PRS = the 8 code characters,
 * CI = the account and the app's origin, sid = the pairing's 16 random bytes, AD = this side's
 * device id, so both parties' identities are bound into the key.
 *
 * @throws CountersignError `pairing_code_invalid` for a code that is not 8 Crockford characters.
 */
export function pairingSetup(args: { code: string; userId: string; sid: Uint8Array; deviceId: string }): CpaceSetup {
  return {
    prs: utf8(normalizePairingCode(args.code)),
    ci: pairingChannelId(args.userId, window.location.origin),
    sid: args.sid,
    ad: utf8(args.deviceId),
  };
}

/** The additional data of the AUK sent over a pairing: it opens only for this account and pairing. */
export function pairingAukAad(userId: string, pairingId: string): Uint8Array {
  return utf8(`countersign/pairing-auk/v1|${userId}|${pairingId}`);
}
