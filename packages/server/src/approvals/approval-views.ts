import type { AgentApprovalView, PersonApprovalView, StoredDisplayPayload } from "@countersign/protocol";
import { type ApprovalRow, isTerminal } from "./approval-row.ts";
import type { SealedApproval } from "./approval-seal.ts";

// The views' shapes are the protocol package's, which the agent SDK and the app read them by;
// this file builds them from rows.

/**
 * The agent's view of a row; `number` only while open. `display`, given with the answer to
 * creation, is included for an end-to-end request (without its context, which the server lacks).
 */
export function toAgentView(
  row: ApprovalRow,
  number: string | null,
  nowMs: number,
  interval: number,
  display?: StoredDisplayPayload,
): AgentApprovalView {
  const open = !isTerminal(row.status);
  const shown =
    display !== undefined && row.e2e_account_key_id !== null ? { display_payload: withoutContext(display) } : {};
  return {
    id: row.id,
    status: row.status,
    reason: row.reason,
    action_type: row.action_type,
    number_match: open ? number : null,
    display_payload_hash: row.display_payload_hash,
    ...shown,
    created_at: row.created_at.toISOString(),
    expires_at: row.expires_at.toISOString(),
    expires_in: open ? Math.max(0, Math.ceil((row.expires_at.getTime() - nowMs) / 1000)) : 0,
    interval,
    decided_at: row.decided_at?.toISOString() ?? null,
    receipt: row.receipt,
  };
}

/**
 * The person's view of a row and its opened seal (null once the owner's data key was erased).
 * The number is never in it: the person must type it (T-1).
 */
export function toPersonView(row: ApprovalRow, opened: SealedApproval | null): PersonApprovalView {
  return {
    id: row.id,
    status: row.status,
    reason: row.reason,
    agent_id: row.agent_id,
    auth_mode: row.auth_mode,
    action_type: row.action_type,
    display_payload: opened?.display ?? null,
    display_payload_hash: row.display_payload_hash,
    e2e: row.e2e_account_key_id !== null,
    context_e2e: opened?.contextE2e ?? null,
    number_attempts_remaining: Math.max(0, 3 - row.number_attempts),
    created_at: row.created_at.toISOString(),
    expires_at: row.expires_at.toISOString(),
    delivered_at: row.delivered_at?.toISOString() ?? null,
    decided_at: row.decided_at?.toISOString() ?? null,
    receipt: row.receipt,
    has_evidence: row.evidence !== null,
  };
}

function withoutContext(display: StoredDisplayPayload): Omit<StoredDisplayPayload, "context"> {
  const { context: _context, ...rest } = display;
  return rest;
}
