import { CountersignError } from "@countersign/protocol";
import { decodeJwt } from "jose";

/**
 * Refuses a receipt whose `dph` is not the display payload hash the agent expects (DESIGN §4.7,
 * §4.11). For an end-to-end request the server could not check the person's hash against the
 * context, only record it; the agent closes the loop here: its own hash over its plaintext
 * must be what the person's passkey signed and the receipt carries. The signature itself is
 * checked by whoever acts on the receipt (`verifyReceipt`).
 *
 * @throws CountersignError `display_hash_mismatch` when the receipt names another display payload
 *   (or has no readable `dph`).
 *
 * @example
 * ```ts
 * assertReceiptDph(outcome.receipt, pending.displayPayloadHash);
 * ```
 */
export function assertReceiptDph(receipt: string, expected: string): void {
  let dph: unknown;
  try {
    dph = decodeJwt(receipt).dph;
  } catch (cause) {
    throw new CountersignError("display_hash_mismatch", { message: "The receipt cannot be read.", cause });
  }
  if (dph !== expected) {
    throw new CountersignError("display_hash_mismatch", {
      message: "The receipt approves another display payload than the one this agent asked for: do not act on it.",
      details: { expected, receipt_dph: typeof dph === "string" ? dph : null },
    });
  }
}
