import { x25519 } from "@noble/curves/ed25519.js";
import { assertBytes } from "../encoding/bytes.ts";
import { FIELD_SIZE_BYTES, NEUTRAL } from "./cpace-suite.ts";

/**
 * G_X25519.scalar_mult_vfy(y, g) = X25519(y, g) (draft, "CPace group objects G_X25519 …"; RFC 7748
 * §5), returning G.I (32 zero bytes) when the result is the neutral element, i.e. when g is one
 * of the low-order points of the curve or its twist. Non-canonical encodings (bit 255 set, or
 * u ≥ p) are processed as RFC 7748 requires: bit 255 cleared, then reduced mod p.
 *
 * noble refuses low-order u coordinates before running the ladder (so no timing depends on the
 * secret for them) and throws; that is exactly the all-zero case, so we return G.I for it.
 */
export function scalarMultVfy(scalar: Uint8Array, point: Uint8Array): Uint8Array {
  assertBytes(scalar, "scalar", FIELD_SIZE_BYTES);
  assertBytes(point, "point", FIELD_SIZE_BYTES);
  try {
    return x25519.scalarMult(scalar, point);
  } catch {
    return NEUTRAL.slice();
  }
}

/** Whether a scalar_mult_vfy result is G.I, in time independent of its contents. */
export function isNeutral(result: Uint8Array): boolean {
  let acc = 0;
  for (const byte of result) acc |= byte;
  return acc === 0;
}
