import type { ApprovalOutcome } from "../client/approval-outcome.ts";
import type { ApprovalState } from "../client/approval-state.ts";

/**
 * The CLI's `--json` form of a request: the server's field names, one line.
 *
 * @example
 * ```ts
 * io.stdout.write(approvalJson(state)); // {"id":"apr_…","status":"pending",…}\n
 * ```
 */
export function approvalJson(state: ApprovalState | ApprovalOutcome): string {
  const approval = "approval" in state ? state.approval : state;
  return `${JSON.stringify({
    id: approval.id,
    status: approval.status,
    reason: approval.reason,
    action_type: approval.actionType,
    number_match: approval.numberMatch,
    display_payload_hash: approval.displayPayloadHash,
    created_at: approval.createdAt.toISOString(),
    expires_at: approval.expiresAt.toISOString(),
    decided_at: approval.decidedAt?.toISOString() ?? null,
    receipt: approval.receipt,
  })}\n`;
}

const ENDINGS: Record<ApprovalOutcome["status"], string> = {
  approved: "Approved.",
  rejected: "Rejected by the person: not approved.",
  expired: "Expired: nobody approved it in time. Not approved.",
  canceled: "Canceled: not approved.",
};

const REASONS: Record<string, string> = {
  number_mismatch: " (three wrong numbers were typed)",
  not_requested: ' (the person said "I didn\'t ask for this"; the agent is suspended)',
  canceled_by_agent: "",
  agent_revoked: " (the agent was revoked)",
  credentials_rotated: " (the agent's key was rotated)",
  agent_suspended: " (the agent is suspended)",
};

/**
 * One line for the person at the terminal saying how the request ended.
 *
 * @example
 * ```ts
 * io.stderr.write(describeOutcome(outcome)); // "Expired: nobody approved it in time. Not approved.\n"
 * ```
 */
export function describeOutcome(outcome: ApprovalOutcome): string {
  const reason = outcome.reason === null ? "" : (REASONS[outcome.reason] ?? "");
  return `${ENDINGS[outcome.status]}${reason}\n`;
}
