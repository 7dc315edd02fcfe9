// An agent as the management API shows it to its person: one definition for the server that
// builds the view and the app that renders it (DESIGN §4.1–4.3).

/** How an agent authenticates, fixed when it is created (T-10): `signed` requests, or a bearer token. */
export const AGENT_AUTH_MODES = Object.freeze(["signed", "bearer_only"] as const);

/** One of {@link AGENT_AUTH_MODES}. */
export type AgentAuthMode = (typeof AGENT_AUTH_MODES)[number];

/** An agent's lifecycle states. Revoked is final. */
export const AGENT_STATUSES = Object.freeze(["active", "suspended", "revoked"] as const);

/** One of {@link AGENT_STATUSES}. */
export type AgentStatus = (typeof AGENT_STATUSES)[number];

/**
 * The account key set an end-to-end agent is pinned to, as agent views and the enrolment answer
 * show it (DESIGN §4.11): the agent encrypts `context` to `public_key`, and the person compares
 * `fingerprint` with the one their app shows before trusting the agent's pin.
 */
export interface AgentE2eKey {
  readonly account_key_id: string;
  /** The raw 32-byte X25519 public key, base64url without padding. */
  readonly public_key: string;
  /** `accountKeyFingerprint(public_key)`, computed once when the key set was stored. */
  readonly fingerprint: string;
}

/** An agent as the person's app shows it (the JSON of the management API). */
export interface AgentView {
  id: string;
  name: string;
  auth_mode: AgentAuthMode;
  /** T-7: signed agents prove every request with their key; bearer agents are shown unverified. */
  verified: boolean;
  status: AgentStatus;
  /** Whether a key is enrolled under the current credentials version (bearer agents: always). */
  enrolled: boolean;
  allowed_actions: string[];
  ip_allowlist: string[];
  default_ttl_seconds: number | null;
  credentials_version: number;
  created_at: string;
  enrolled_at: string | null;
  last_used_at: string | null;
  bearer_token_expires_at: string | null;
  /** The pinned account key set when the agent encrypts context end to end (DESIGN §4.11). */
  e2e: AgentE2eKey | null;
}
