import type { ApprovalOutcome } from "../client/approval-outcome.ts";
import type { ApprovalState } from "../client/approval-state.ts";

/**
 * The structured result of the `request_approval` and `wait_for_approval` tools.
 *
 * @example
 * ```ts
 * const output = result.structuredContent as ApprovalToolOutput;
 * if (output.approved) await act(output.receipt);
 * ```
 */
export interface ApprovalToolOutput {
  [key: string]: unknown;
  readonly id: string;
  readonly status: string;
  readonly reason: string | null;
  readonly approved: boolean;
  readonly number_match: string | null;
  /** Null while an end-to-end request waited on by id is open (the server cannot hash its context). */
  readonly display_payload_hash: string | null;
  readonly expires_at: string;
  readonly receipt: string | null;
  /** False when an already open request for the action type was returned instead of a new one. */
  readonly created: boolean;
}

const SAY: Record<ApprovalOutcome["status"], string> = {
  approved: "APPROVED by the person. You may now perform exactly the action that was described.",
  rejected: "REJECTED by the person. Do not perform the action.",
  expired: "EXPIRED: the person did not approve in time. Do not perform the action.",
  canceled: "CANCELED. Do not perform the action.",
};

/**
 * The MCP tool result for an approval: a text line an LLM cannot misread, and the same as
 * structured content (with the receipt once approved).
 *
 * @example
 * ```ts
 * return approvalToolResult(outcome, pending.approval, pending.created);
 * ```
 */
export function approvalToolResult(
  outcome: ApprovalOutcome | null,
  asked: ApprovalState,
  created = true,
): { content: Array<{ type: "text"; text: string }>; structuredContent: ApprovalToolOutput } {
  const state = outcome?.approval ?? asked;
  const structuredContent: ApprovalToolOutput = {
    id: state.id,
    status: state.status,
    reason: state.reason,
    approved: outcome?.status === "approved",
    number_match: outcome === null ? asked.numberMatch : null,
    display_payload_hash: state.displayPayloadHash,
    expires_at: state.expiresAt.toISOString(),
    receipt: outcome?.status === "approved" ? outcome.receipt : null,
    created,
  };
  const text =
    outcome === null
      ? `Approval request ${asked.id} is open. Tell the person to open Countersign on their phone and type ${asked.numberMatch}. Then call wait_for_approval with id ${asked.id}. Do not perform the action before it is approved.`
      : `${SAY[outcome.status]}${outcome.reason ? ` (${outcome.reason})` : ""} Request ${outcome.id}.`;
  return { content: [{ type: "text", text }], structuredContent };
}
