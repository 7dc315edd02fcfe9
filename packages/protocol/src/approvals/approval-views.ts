import type { AgentAuthMode } from "../agents/agent-view.ts";
import type { SealedContext } from "../e2e/seal-context.ts";
import type { DisplayPayload } from "../jcs/display-payload-hash.ts";

// The approval request as the API shows it, to its agent and to its person: one definition for
// the server that builds these views, the agent SDK that reads them and the app that renders
// them, so none of them can drift from the others unnoticed (DESIGN §4.4).

/** The states of an approval request, in lifecycle order: `pending → delivered → approved | rejected | expired | canceled`. */
export const APPROVAL_STATUSES = Object.freeze([
  "pending",
  "delivered",
  "approved",
  "rejected",
  "expired",
  "canceled",
] as const);

/** A state of an approval request (see {@link APPROVAL_STATUSES}). */
export type ApprovalStatus = (typeof APPROVAL_STATUSES)[number];

/** The final states: a request in one never changes again (the database enforces it). */
export type TerminalApprovalStatus = Exclude<ApprovalStatus, "pending" | "delivered">;

/** Why a request was rejected, expired or canceled; null for every other outcome. */
export const APPROVAL_REASONS = Object.freeze([
  "number_mismatch",
  "not_requested",
  "expired",
  "canceled_by_agent",
  "agent_revoked",
  "credentials_rotated",
  "agent_suspended",
] as const);

/** One of {@link APPROVAL_REASONS}. */
export type ApprovalReason = (typeof APPROVAL_REASONS)[number];

/**
 * Whether a status is final.
 *
 * @example
 * ```ts
 * if (isTerminalStatus(view.status)) console.log("decided:", view.status);
 * ```
 */
export function isTerminalStatus(status: ApprovalStatus): status is TerminalApprovalStatus {
  return status !== "pending" && status !== "delivered";
}

/**
 * The display payload as the server holds and shows it: for an end-to-end request `context` is
 * null, since the server has only `context_e2e`, which the app decrypts before rendering and
 * hashing (DESIGN §4.11).
 */
export type StoredDisplayPayload = Omit<DisplayPayload, "context"> & {
  readonly context: DisplayPayload["context"] | null;
};

/** An approval as its agent sees it (DESIGN §4.4): the answer to creation and polls, and the SSE stream's data. */
export interface AgentApprovalView {
  id: string;
  status: ApprovalStatus;
  reason: ApprovalReason | null;
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

/** An approval as the person's app sees it: everything shown, but never the number (T-1). */
export interface PersonApprovalView {
  id: string;
  status: ApprovalStatus;
  reason: ApprovalReason | null;
  agent_id: string;
  auth_mode: AgentAuthMode;
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
