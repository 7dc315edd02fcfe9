import { assertBytes, utf8 } from "../encoding/bytes.ts";
import { hkdfSha256 } from "./hkdf-sha256.ts";

const TRANSFER_INFO = utf8("countersign/pairing-auk/v1");

/**
 * The 32-byte key that seals the AUK for its trip through the pairing relay (`sealed_auk`):
 * HKDF-SHA256(ikm = CPace ISK, salt = pairing sid, info = "countersign/pairing-auk/v1", L = 32).
 * Only the two devices that completed CPace with the same code know the ISK.
 */
export function pairingTransferKey(isk: Uint8Array, sid: Uint8Array): Uint8Array {
  assertBytes(isk, "isk", 64);
  assertBytes(sid, "sid");
  return hkdfSha256(isk, sid, TRANSFER_INFO, 32);
}
