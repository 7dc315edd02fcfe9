import type { SealedContext } from "@countersign/protocol";
import { type ApprovalRow, isTerminal } from "./approval-row.ts";
import type { SealedApproval, StoredDisplayPayload } from "./approval-seal.ts";

/** An approval as its agent sees it (DESIGN §4.4): the answer of create, poll and the SSE stream. */
export interface AgentApprovalView {
  id: string;
  status: ApprovalRow["status"];
  reason: ApprovalRow["reason"];
  action_type: string;
  /** The number the agent shows its person while the request is open; null once decided. */
  number_match: string | null;
  /** Null on an end-to-end request until decided (the agent hashes it locally: DESIGN §4.11). */
  display_payload_hash: string | null;
  /**
   * End-to-end requests, in the answer to creation only: every display payload field but
   * `context`, so the agent computes the display hash over its plaintext context.
   */
  display_payload?: Omit<StoredDisplayPayload, "context">;
  created_at: string;
  expires_at: string;
  /** Seconds left, 0 once expired or decided. */
  expires_in: number;
  /** Seconds to wait between polls; faster gets 429 `slow_down`. */
  interval: number;
  decided_at: string | null;
  /** The signed receipt (DESIGN §4.7), once approved. */
  receipt: string | null;
}

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

/** An approval as the person's app sees it: everything shown, but never the number. */
export interface PersonApprovalView {
  id: string;
  status: ApprovalRow["status"];
  reason: ApprovalRow["reason"];
  agent_id: string;
  auth_mode: ApprovalRow["auth_mode"];
  action_type: string;
  /** Null only when the owner's data key was erased; its `context` is null on an end-to-end request. */
  display_payload: StoredDisplayPayload | null;
  /** Null on an end-to-end request until decided: the app hashes what it decrypted and rendered. */
  display_payload_hash: string | null;
  /** Whether the context is end-to-end encrypted (DESIGN §4.11). */
  e2e: boolean;
  /** The encrypted context for the app to open with the account private key; null when plaintext. */
  context_e2e: SealedContext | null;
  /** Wrong numbers left before the request is rejected (T-1). */
  number_attempts_remaining: number;
  created_at: string;
  expires_at: string;
  delivered_at: string | null;
  decided_at: string | null;
  receipt: string | null;
  has_evidence: boolean;
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
