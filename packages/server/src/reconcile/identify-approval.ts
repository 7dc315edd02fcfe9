import type { ReceiptClaims } from "@countersign/protocol";
import type { CheckResult } from "./action-checks.ts";
import type { ReconcileApproval } from "./approval-lookup.ts";
import type { ExecutedAction } from "./executed-action.ts";
import type { ReceiptCheck } from "./receipt-verifier.ts";

/** The approval an action names, or the finding that it has none. */
export type Identified =
  | { readonly approval: ReconcileApproval; readonly claims: ReceiptClaims | undefined }
  | { readonly requestId: string | null; readonly finding: NonNullable<CheckResult> };

/**
 * Which approved request an action line stands for. A receipt decides when there is one (a
 * request id next to it is compared later); an invalid receipt names nothing, whatever it
 * claims, so a forged receipt never counts as executing a real approval.
 */
export function identifyApproval(
  action: ExecutedAction,
  receiptCheck: ReceiptCheck | undefined,
  approvals: ReadonlyMap<string, ReconcileApproval>,
): Identified {
  if (receiptCheck !== undefined && !receiptCheck.ok) {
    return {
      requestId: action.requestId ?? null,
      finding: { code: "INVALID_RECEIPT", message: `the receipt is not valid: ${receiptCheck.reason}` },
    };
  }
  const claims = receiptCheck?.claims;
  const requestId = claims?.jti ?? action.requestId;
  if (requestId === undefined) {
    return {
      requestId: null,
      finding: { code: "NO_APPROVAL", message: "the action names no approval (neither receipt nor request_id)" },
    };
  }
  const approval = approvals.get(requestId);
  if (approval === undefined) {
    return {
      requestId,
      finding: {
        code: "NO_APPROVAL",
        message:
          claims === undefined
            ? `no approval request ${requestId} exists`
            : `the receipt verifies, but no approval request ${requestId} exists (deleted with its person or agent?)`,
      },
    };
  }
  if (approval.status !== "approved") {
    const reason = approval.reason === null ? "" : ` (${approval.reason})`;
    return {
      requestId,
      finding: { code: "NO_APPROVAL", message: `request ${requestId} is ${approval.status}${reason}, not approved` },
    };
  }
  return { approval, claims };
}
