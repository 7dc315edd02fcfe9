import type { DisplayPayload } from "@countersign/protocol";

/** The states of an approval request (DESIGN §4.4). */
export type ApprovalStatus = "pending" | "delivered" | "approved" | "rejected" | "expired" | "canceled";

/** An approval request as `GET /v1/me/approvals` shows it to its person. */
export interface Approval {
  id: string;
  status: ApprovalStatus;
  reason: string | null;
  agent_id: string;
  auth_mode: string;
  action_type: string;
  display_payload: DisplayPayload | null;
  display_payload_hash: string;
  number_attempts_remaining: number;
  created_at: string;
  expires_at: string;
  delivered_at: string | null;
  decided_at: string | null;
  receipt: string | null;
  has_evidence: boolean;
}

/** What a decision needs besides the person: the single-use nonce and the passkeys allowed. */
export interface DecisionTicket {
  nonce: string;
  nonce_expires_at: string;
  rp_id: string;
  user_verification: "required";
  allow_credentials: { id: string; type: "public-key"; transports: string[] }[];
}

/** `GET /v1/me/approvals/:id`. */
export interface ApprovalDetail {
  approval: Approval;
  decision: DecisionTicket | null;
}

/** `GET /v1/me/approvals`. */
export interface ApprovalList {
  approvals: Approval[];
  next_cursor: string | null;
}

/** An agent as its person sees it. */
export interface Agent {
  id: string;
  name: string;
  auth_mode: "signed" | "bearer_only";
  verified: boolean;
  status: "active" | "suspended" | "revoked";
  enrolled: boolean;
  allowed_actions: string[];
  ip_allowlist: string[];
  default_ttl_seconds: number | null;
  credentials_version: number;
  created_at: string;
  enrolled_at: string | null;
  last_used_at: string | null;
  bearer_token_expires_at: string | null;
}

/** A one-time credential handed out at creation or rotation. */
export type IssuedCredential =
  | { kind: "enrollment_code"; code: string; expires_at: string; api_base_url?: string }
  | { kind: "bearer_token"; token: string; expires_at: string };

/** A passkey of the account. */
export interface Passkey {
  id: string;
  name: string;
  created_at: string;
  last_used_at: string | null;
  backup_eligible: boolean;
  backed_up: boolean;
  transports: string[];
  counter_regressed_at: string | null;
}

/** A signed-in session (a device). */
export interface SessionInfo {
  id: string;
  current: boolean;
  auth_method: string;
  created_at: string;
  last_seen_at: string;
  expires_at: string;
  step_up_at: string | null;
  user_agent: string | null;
}

/** `GET /v1/account`. */
export interface Account {
  id: string;
  email: string;
  created_at: string;
  recovery_codes_remaining: number;
}

/** `GET /v1/me/settings`. */
export interface Settings {
  default_ttl_seconds: number | null;
  notifications_enabled: boolean;
}
