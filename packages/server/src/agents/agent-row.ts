import type { AgentE2eKey, AgentView } from "@countersign/protocol";
import type { AgentAuthMode, AgentStatus, AuthenticatedAgent } from "../agent-auth/agent-request.ts";

/** A row of `agents` (migration 006) as read, without the bearer token's digest. */
export interface AgentRow {
  id: string;
  user_id: string;
  name: string;
  auth_mode: AgentAuthMode;
  status: AgentStatus;
  allowed_actions: string[];
  ip_allowlist: string[];
  default_ttl_seconds: number | null;
  credentials_version: number;
  bearer_expires_at: Date | null;
  created_at: Date;
  enrolled_at: Date | null;
  last_used_at: Date | null;
  status_changed_at: Date | null;
  /** The account key set its context is encrypted to (migration 013); null: plaintext context. */
  e2e_account_key_id: string | null;
}

/** The columns of {@link AgentRow}, for SELECT and RETURNING lists. */
export const AGENT_COLUMNS =
  "id, user_id, name, auth_mode, status, allowed_actions, ip_allowlist, default_ttl_seconds, credentials_version, " +
  "bearer_expires_at, created_at, enrolled_at, last_used_at, status_changed_at, e2e_account_key_id";

/** The agent as the request checks see it. */
export function toAuthenticatedAgent(row: AgentRow): AuthenticatedAgent {
  return Object.freeze({
    id: row.id,
    userId: row.user_id,
    name: row.name,
    authMode: row.auth_mode,
    status: row.status,
    credentialsVersion: row.credentials_version,
    allowedActions: Object.freeze([...row.allowed_actions]),
    ipAllowlist: Object.freeze([...row.ip_allowlist]),
    defaultTtlSeconds: row.default_ttl_seconds,
    lastUsedAt: row.last_used_at?.getTime() ?? null,
    e2eAccountKeyId: row.e2e_account_key_id,
  });
}

// The view's shape is the protocol package's, which the app reads it by.
export type { AgentView };

/**
 * The management API's view of a row; `e2e` is the row's pinned key set, looked up by the caller
 * (`AgentsService.e2eKeysOf`), since the row holds only its id.
 */
export function toAgentView(row: AgentRow, e2e: AgentE2eKey | null): AgentView {
  return {
    id: row.id,
    name: row.name,
    auth_mode: row.auth_mode,
    verified: row.auth_mode === "signed",
    status: row.status,
    enrolled: row.enrolled_at !== null,
    allowed_actions: [...row.allowed_actions],
    ip_allowlist: [...row.ip_allowlist],
    default_ttl_seconds: row.default_ttl_seconds,
    credentials_version: row.credentials_version,
    created_at: row.created_at.toISOString(),
    enrolled_at: row.enrolled_at?.toISOString() ?? null,
    last_used_at: row.last_used_at?.toISOString() ?? null,
    bearer_token_expires_at: row.bearer_expires_at?.toISOString() ?? null,
    e2e,
  };
}
