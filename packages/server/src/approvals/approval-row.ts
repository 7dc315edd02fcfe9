import type { ApprovalReason, ApprovalStatus } from "@countersign/protocol";
import type { AgentAuthMode } from "../agent-auth/agent-request.ts";

export { isTerminalStatus as isTerminal } from "@countersign/protocol";
// The states and reasons (migration 008's CHECK constraints) are defined once, with the views.
export type { ApprovalReason, ApprovalStatus };

/** States a request can still leave: the person may decide, the agent may cancel. */
export const OPEN_STATUSES: readonly ApprovalStatus[] = ["pending", "delivered"];

/** A row of `approval_requests` (migration 008) as read. */
export interface ApprovalRow {
  id: string;
  user_id: string;
  agent_id: string;
  agent_credentials_version: number;
  auth_mode: AgentAuthMode;
  action_type: string;
  status: ApprovalStatus;
  reason: ApprovalReason | null;
  /** The display payload and the number, sealed under the owner's data key (see approval-seal.ts). */
  sealed: string;
  /**
   * `sha256:<hex>` (DESIGN §4.5). Null on an end-to-end request until the person decides: the
   * server cannot hash a context it cannot read, and takes the hash the person's passkey signed.
   */
  display_payload_hash: string | null;
  /** The account key set its context was encrypted to (migration 013); null: plaintext context. */
  e2e_account_key_id: string | null;
  ttl_seconds: number;
  callback_url: string | null;
  number_attempts: number;
  created_at: Date;
  expires_at: Date;
  delivered_at: Date | null;
  decided_at: Date | null;
  evidence: DecisionEvidence | null;
  receipt: string | null;
  last_polled_at: Date | null;
}

/** The columns of {@link ApprovalRow}, for SELECT and RETURNING lists. */
export const APPROVAL_COLUMNS =
  "id, user_id, agent_id, agent_credentials_version, auth_mode, action_type, status, reason, sealed, " +
  "display_payload_hash, ttl_seconds, callback_url, number_attempts, created_at, expires_at, delivered_at, " +
  "decided_at, evidence, receipt, last_polled_at, e2e_account_key_id";

/**
 * What is kept of a decision so that anyone can re-verify it offline (DESIGN §4.6, T-4): the
 * WebAuthn assertion exactly as the browser produced it, the public key it verifies with, and
 * every input of the challenge. Public by nature: it proves a decision and grants nothing.
 */
export interface DecisionEvidence {
  readonly v: 1;
  readonly request_id: string;
  readonly decision: "approve" | "reject";
  readonly display_payload_hash: string;
  readonly nonce: string;
  /** base64url of SHA-256(JCS({v, request_id, decision, display_payload_hash, nonce})). */
  readonly challenge: string;
  readonly rp_id: string;
  readonly origin: string;
  readonly credential_id: string;
  /** The passkey's COSE_Key (RFC 9052 §7), base64url, as registered. */
  readonly public_key_cose: string;
  readonly sign_count: number;
  readonly assertion: {
    readonly authenticator_data: string;
    readonly client_data_json: string;
    readonly signature: string;
    readonly user_handle: string | null;
  };
  readonly decided_at: string;
  /**
   * Present on a rejection of an end-to-end request by a device that could not decrypt its
   * context: the signed `display_payload_hash` is then over the payload with `context: null`.
   */
  readonly context_unread?: true;
}
