import { CountersignError } from "../errors/countersign-error.ts";
import { FIELD_SIZE_BYTES } from "./cpace-suite.ts";
import { lvCat, lvSplit } from "./lv-cat.ts";

/** Associated data longer than this is refused; Countersign sends a device id. */
export const MAX_AD_BYTES = 1024;

/** A decoded CPace message: the public share Y and the associated data AD. */
export interface CpaceMessage {
  y: Uint8Array;
  ad: Uint8Array;
}

/**
 * Encodes a CPace message as lv_cat(Y, AD). The draft leaves the network encoding to the
 * application ("Responsibilities of the application layer"); this is the same length-value form
 * its initiator-responder transcript uses for each message (transcript_ir = lv_cat(Ya, ADa) ‖
 * lv_cat(Yb, ADb)), so the transcript is the two messages as sent.
 */
export function encodeCpaceMessage(message: CpaceMessage): Uint8Array {
  return lvCat(message.y, message.ad);
}

/**
 * Decodes lv_cat(Y, AD), refusing anything but exactly two fields with a 32-byte, canonical Y.
 *
 * Canonical means bit 255 clear and u < p: X25519 output (RFC 7748 §5 encodeUCoordinate) is
 * always canonical, so an honest peer never sends anything else. The draft's non-canonical
 * vectors (test-vectors/cpace X25519_points) are therefore refused here as malformed, while
 * scalar_mult_vfy still computes the draft's results for them.
 *
 * @throws CountersignError `pairing_message_invalid`.
 */
export function decodeCpaceMessage(encoded: Uint8Array): CpaceMessage {
  if (!(encoded instanceof Uint8Array)) throw new CountersignError("pairing_message_invalid");
  const parts = lvSplit(encoded, MAX_AD_BYTES);
  if (parts?.length !== 2) throw new CountersignError("pairing_message_invalid");
  const [y, ad] = parts as [Uint8Array, Uint8Array];
  if (y.length !== FIELD_SIZE_BYTES || !isCanonicalU(y)) throw new CountersignError("pairing_message_invalid");
  return { y, ad };
}

/** Whether a 32-byte little-endian u coordinate is < p = 2^255 − 19 (which implies bit 255 clear). */
function isCanonicalU(u: Uint8Array): boolean {
  if (((u[31] as number) & 0x80) !== 0) return false;
  // u ≥ p only when bytes 31..1 are 0x7f, 0xff… and byte 0 is ≥ 0xed.
  if (u[31] !== 0x7f) return true;
  for (let i = 30; i >= 1; i--) if (u[i] !== 0xff) return true;
  return (u[0] as number) < 0xed;
}
