import type { ReceiptClaims } from "@countersign/protocol";
import type { ReconcileApproval } from "./approval-lookup.ts";
import type { ExecutedAction } from "./executed-action.ts";
import type { FindingCode } from "./reconcile-finding.ts";

/** What the checks of an action matched to an approved request see. */
export interface MatchedAction {
  readonly action: ExecutedAction;
  /** The approved request the action names. */
  readonly approval: ReconcileApproval;
  /** The verified receipt's claims, when the line carried a receipt. */
  readonly claims: ReceiptClaims | undefined;
  /** The receipt's lifetime in seconds since the epoch (from the line's receipt, else the stored one). */
  readonly lifetime: { readonly iat: number; readonly exp: number } | undefined;
  /** The line that executed this approval first, if an earlier line did. */
  readonly firstExecutionLine: number | undefined;
}

/** A check's verdict: nothing, or a finding's code and message. */
export type CheckResult = { readonly code: FindingCode; readonly message: string } | undefined;

/** One check of an executed action against the approval it names. */
export type ActionCheck = (matched: MatchedAction) => CheckResult;

/** A receipt is only good for the request, agent, person, action and display it was issued for. */
export const receiptMatchesRequest: ActionCheck = ({ action, approval, claims }) => {
  if (claims === undefined) return undefined;
  const differences: string[] = [];
  if (action.requestId !== undefined && action.requestId !== claims.jti) {
    differences.push(`the line's request_id is ${action.requestId}, the receipt's jti ${claims.jti}`);
  }
  if (claims.aud !== approval.agent_id)
    differences.push(`aud ${claims.aud} is not the requesting agent ${approval.agent_id}`);
  if (claims.sub !== approval.user_id) differences.push(`sub ${claims.sub} is not the approver ${approval.user_id}`);
  if (claims.act !== approval.action_type)
    differences.push(`act ${claims.act} is not the requested ${approval.action_type}`);
  if (claims.dph !== approval.display_payload_hash) differences.push("dph is not the request's display payload hash");
  // A validly signed receipt the server did not store means the signing key signed outside the
  // decision ceremony: worth an investigation even if every claim agrees.
  if (differences.length === 0 && action.receipt !== approval.receipt) {
    differences.push("validly signed, but not the receipt the server issued for this request");
  }
  return differences.length === 0 ? undefined : { code: "RECEIPT_MISMATCH", message: differences.join("; ") };
};

/** The action executed is the action approved. */
export const actionTypeMatches: ActionCheck = ({ action, approval }) =>
  action.actionType === approval.action_type
    ? undefined
    : {
        code: "ACTION_MISMATCH",
        message: `executed ${action.actionType}, but ${approval.action_type} was approved`,
      };

/** What was executed is what the person saw (T-9), when the executor recorded its hash. */
export const displayHashMatches: ActionCheck = ({ action, approval }) =>
  action.displayPayloadHash === undefined || action.displayPayloadHash === approval.display_payload_hash
    ? undefined
    : {
        code: "HASH_MISMATCH",
        message: `executed display payload ${action.displayPayloadHash}, but ${approval.display_payload_hash} was approved`,
      };

/** Executed while the receipt was valid: from `iat` (inclusive) to `exp` (exclusive, RFC 7519 §4.1.4). */
export const withinReceiptLifetime: ActionCheck = ({ action, lifetime }) => {
  if (lifetime === undefined) return undefined;
  const at = new Date(action.executedAt).toISOString();
  if (action.executedAt >= lifetime.exp * 1000) {
    return {
      code: "EXPIRED_RECEIPT",
      message: `executed at ${at}, after the receipt expired at ${new Date(lifetime.exp * 1000).toISOString()}`,
    };
  }
  if (action.executedAt < lifetime.iat * 1000) {
    return {
      code: "EXECUTED_BEFORE_APPROVAL",
      message: `executed at ${at}, before the receipt was issued at ${new Date(lifetime.iat * 1000).toISOString()}`,
    };
  }
  return undefined;
};

/** A receipt authorizes one execution. */
export const executedOnce: ActionCheck = ({ firstExecutionLine }) =>
  firstExecutionLine === undefined
    ? undefined
    : { code: "DUPLICATE_EXECUTION", message: `already executed on line ${firstExecutionLine}` };

/**
 * The checks of an action whose approval was found and approved, in the order they are reported.
 * Every check runs: one line can show several problems.
 */
export const ACTION_CHECKS: readonly ActionCheck[] = [
  receiptMatchesRequest,
  actionTypeMatches,
  displayHashMatches,
  withinReceiptLifetime,
  executedOnce,
];
