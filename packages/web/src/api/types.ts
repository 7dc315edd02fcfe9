import type { AgentE2eKey, AgentView, ApprovalStatus, PersonApprovalView } from "@countersign/protocol";

/** An approval request as `GET /v1/me/approvals` shows it to its person: the server's own view type. */
export type Approval = PersonApprovalView;
export type { ApprovalStatus };

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

/** An agent as its person sees it: the server's own view type. */
export type Agent = AgentView;

/** A one-time credential handed out at creation or rotation. */
export type IssuedCredential =
  | { kind: "enrollment_code"; code: string; expires_at: string; api_base_url: string }
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
  auth_method: "passkey" | "password" | "recovery";
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
  password_set: boolean;
  /** Whether this server offers password sign-in. */
  password_login_enabled: boolean;
  recovery_codes_remaining: number;
}

/** `GET /v1/me/settings`. */
export interface Settings {
  default_ttl_seconds: number | null;
  notifications_enabled: boolean;
}

/** A device of the account (`GET /v1/me/devices`), one browser with its own Device Key. */
export interface Device {
  id: string;
  /** Null once the account's data key was erased: the name was sealed under it. */
  name: string | null;
  platform: string | null;
  created_at: string;
  last_seen_at: string;
  current: boolean;
  has_bundle: boolean;
  /** Whether new requests are pushed to this device. */
  has_push: boolean;
}

/** `GET /v1/me/devices`. */
export interface DeviceList {
  devices: Device[];
  session_handle: string;
  current_device_id: string | null;
}

/** The account's active key set, public parts (`GET /v1/me/account-key`). */
export interface AccountKeyInfo {
  id: string;
  public_key: string;
  fingerprint: string;
  created_at: string;
  has_recovery: boolean;
}

/** `GET /v1/me/devices/current/bundle`. */
export interface BundleAnswer {
  bundle: string;
  account_key: { id: string; public_key: string; fingerprint: string; encrypted_private_key: string };
}

/** `GET /v1/me/account-key/recovery`. */
export interface RecoveryWrap {
  account_key_id: string;
  recovery_wrapped_auk: string;
  encrypted_private_key: string;
  public_key: string;
}

/** The body of `POST /v1/me/account-key` and of its reset. */
export interface AccountKeyBody {
  id: string;
  public_key: string;
  encrypted_private_key: string;
  recovery_wrapped_auk?: string;
  bundle: string;
}

/** The states of a pairing session (spec §2). */
export type PairingState = "waiting" | "joined" | "confirmed" | "completed" | "failed" | "expired" | "canceled";

/** `GET /v1/me/pairings/:id`. */
export interface Pairing {
  id: string;
  state: PairingState;
  sid: string;
  initiator_device_id: string;
  responder_device_id: string | null;
  initiator_message: string;
  responder_message: string | null;
  responder_tag: string | null;
  initiator_tag: string | null;
  sealed_auk: string | null;
  expires_at: string;
}

/** `GET /v1/me/pairings/open`. */
export interface OpenPairing {
  id: string;
  sid: string;
  initiator_device_id: string;
  initiator_message: string;
  expires_at: string;
}

/** The account key set an end-to-end agent is pinned to. */
export type AgentE2e = AgentE2eKey;
