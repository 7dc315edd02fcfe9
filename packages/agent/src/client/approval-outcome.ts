import { CountersignError } from "@countersign/protocol";
import type { ApprovalReason, ApprovalState } from "./approval-state.ts";

/**
 * How an approval request ended, as {@link PendingApproval.wait} reports it. Switch on `status`:
 * only `approved` authorizes the action, and it always carries the receipt. An expiry is its own
 * case, never a rejection, and a request that is still open is never reported as any of these.
 *
 * @example
 * ```ts
 * const outcome = await approval.wait();
 * switch (outcome.status) {
 *   case "approved": return deploy(outcome.receipt);
 *   case "rejected": return log("rejected", outcome.reason);
 *   case "expired": return log("nobody answered in time");
 *   case "canceled": return log("canceled", outcome.reason);
 * }
 * ```
 */
export type ApprovalOutcome =
  | {
      readonly status: "approved";
      readonly id: string;
      /** The signed receipt (compact JWS) to hand to the system that performs the action. */
      readonly receipt: string;
      readonly reason: null;
      readonly approval: ApprovalState;
    }
  | {
      readonly status: "rejected";
      readonly id: string;
      /** `number_mismatch` after three wrong numbers, `not_requested` for "I didn't ask for this", or null. */
      readonly reason: ApprovalReason | null;
      readonly approval: ApprovalState;
    }
  | {
      readonly status: "expired";
      readonly id: string;
      readonly reason: ApprovalReason | null;
      readonly approval: ApprovalState;
    }
  | {
      readonly status: "canceled";
      readonly id: string;
      /** `canceled_by_agent`, `agent_revoked`, `credentials_rotated` or `agent_suspended`. */
      readonly reason: ApprovalReason | null;
      readonly approval: ApprovalState;
    };

/**
 * The outcome of a request in a terminal state, or null while it is open.
 *
 * @example
 * ```ts
 * const outcome = outcomeOf(await client.get(id));
 * if (outcome?.status === "approved") deploy(outcome.receipt);
 * ```
 */
export function outcomeOf(state: ApprovalState): ApprovalOutcome | null {
  const base = { id: state.id, approval: state };
  switch (state.status) {
    case "approved":
      if (state.receipt === null) {
        throw new CountersignError("internal_error", { message: "The server reported an approval without a receipt." });
      }
      return { ...base, status: "approved", receipt: state.receipt, reason: null };
    case "rejected":
    case "expired":
    case "canceled":
      return { ...base, status: state.status, reason: state.reason };
    default:
      return null;
  }
}
