import { CountersignError } from "@countersign/protocol";
import type { ApprovalState } from "../client/approval-state.ts";
import { assertReceiptDph } from "./assert-receipt-dph.ts";

/**
 * The client's last check before it hands over an approved state: its receipt's `dph` must be
 * `expected`, the display payload hash the agent computed when it asked. A client pinned to an
 * account key (end-to-end context) must be given that hash: the server only records the hash the
 * person's app sent, so without the agent's own there is nothing to tie the receipt to what the
 * agent asked, and the approval is refused rather than returned unchecked (DESIGN §4.11).
 *
 * @throws CountersignError `display_hash_mismatch` for another `dph`, or for an end-to-end client
 *   given no hash to check against.
 *
 * @example
 * ```ts
 * checkApprovedReceipt(state, options.displayPayloadHash, client.e2e !== undefined);
 * ```
 */
export function checkApprovedReceipt(state: ApprovalState, expected: string | undefined, pinned: boolean): void {
  if (state.status !== "approved" || state.receipt === null) return;
  if (expected !== undefined) {
    assertReceiptDph(state.receipt, expected);
    return;
  }
  if (pinned) {
    throw new CountersignError("display_hash_mismatch", {
      message:
        "An end-to-end request's approval is accepted only against the display payload hash this agent computed when it asked: " +
        "pass displayPayloadHash (countersign-agent status --dph).",
    });
  }
}
