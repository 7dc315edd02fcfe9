import type { AgentStatus } from "../agent-auth/agent-request.ts";
import type { Queryable } from "../db/database.ts";
import { AGENT_COLUMNS, type AgentRow } from "./agent-row.ts";

/**
 * The SQL of the agent domain (migration 006). Every query a person's request makes names the
 * owner (`user_id`), so one person can never read or change another's agent.
 */

/** What a new agent row holds. */
export interface NewAgentRow {
  id: string;
  userId: string;
  name: string;
  authMode: AgentRow["auth_mode"];
  allowedActions: readonly string[];
  ipAllowlist: readonly string[];
  defaultTtlSeconds: number | null;
  bearerTokenDigest: string | null;
  bearerExpiresAt: Date | null;
  createdAt: Date;
  /** The account key set to pin (migration 013), or null for plaintext context. */
  e2eAccountKeyId: string | null;
}

export async function insertAgent(tx: Queryable, agent: NewAgentRow): Promise<AgentRow> {
  const { rows } = await tx.query<AgentRow>(
    `INSERT INTO agents (id, user_id, name, auth_mode, allowed_actions, ip_allowlist, default_ttl_seconds,
                         bearer_token_digest, bearer_expires_at, created_at, enrolled_at, e2e_account_key_id)
     VALUES ($1, $2, $3, $4, $5::text[], $6::text[], $7, $8, $9, $10, $11, $12)
     RETURNING ${AGENT_COLUMNS}`,
    [
      agent.id,
      agent.userId,
      agent.name,
      agent.authMode,
      [...agent.allowedActions],
      [...agent.ipAllowlist],
      agent.defaultTtlSeconds,
      agent.bearerTokenDigest,
      agent.bearerExpiresAt,
      agent.createdAt,
      // A bearer agent holds its credential from the start; a signed one once it enrols a key.
      agent.authMode === "bearer_only" ? agent.createdAt : null,
      agent.e2eAccountKeyId,
    ],
  );
  return one(rows);
}

/** The owner's agents, newest first. */
export async function listAgents(q: Queryable, userId: string): Promise<AgentRow[]> {
  const { rows } = await q.query<AgentRow>(
    `SELECT ${AGENT_COLUMNS} FROM agents WHERE user_id = $1 ORDER BY created_at DESC, id`,
    [userId],
  );
  return rows;
}

/** The owner's agent, locked for the rest of the transaction when `forUpdate`. */
export async function findOwnedAgent(
  q: Queryable,
  userId: string,
  agentId: string,
  options: { forUpdate?: boolean } = {},
): Promise<AgentRow | undefined> {
  const { rows } = await q.query<AgentRow>(
    `SELECT ${AGENT_COLUMNS} FROM agents WHERE id = $1 AND user_id = $2${options.forUpdate ? " FOR UPDATE" : ""}`,
    [agentId, userId],
  );
  return rows[0];
}

/** Any agent by id, for the request checks and enrolment. */
export async function findAgentById(
  q: Queryable,
  agentId: string,
  options: { forUpdate?: boolean } = {},
): Promise<AgentRow | undefined> {
  const { rows } = await q.query<AgentRow>(
    `SELECT ${AGENT_COLUMNS} FROM agents WHERE id = $1${options.forUpdate ? " FOR UPDATE" : ""}`,
    [agentId],
  );
  return rows[0];
}

/**
 * Agents by id (missing ids are left out), with the number of the last agent change committed
 * as this statement saw it (migration 010): the rows reflect every change up to that number.
 */
export async function findAgentsByIdsWithChangeSeq(
  q: Queryable,
  agentIds: readonly string[],
): Promise<(AgentRow & { change_seq: number })[]> {
  const { rows } = await q.query<AgentRow & { change_seq: number }>(
    `SELECT ${AGENT_COLUMNS}, (SELECT seq FROM agent_change_counter) AS change_seq
       FROM agents WHERE id = ANY($1::text[])`,
    [[...agentIds]],
  );
  return rows;
}

/** The number of the last agent change committed (migration 010). */
export async function readAgentChangeSeq(q: Queryable): Promise<number> {
  const { rows } = await q.query<{ seq: number }>("SELECT seq FROM agent_change_counter");
  return one(rows).seq;
}

/** A key with its agent's current row, in one round trip. */
export async function findKeyWithAgent(
  q: Queryable,
  keyId: string,
): Promise<(AgentRow & { key_public_key: Uint8Array; key_credentials_version: number }) | undefined> {
  const columns = AGENT_COLUMNS.split(", ")
    .map((column) => `a.${column}`)
    .join(", ");
  const { rows } = await q.query<AgentRow & { key_public_key: Uint8Array; key_credentials_version: number }>(
    `SELECT k.public_key AS key_public_key, k.credentials_version AS key_credentials_version, ${columns}
       FROM agent_keys k JOIN agents a ON a.id = k.agent_id
      WHERE k.key_id = $1`,
    [keyId],
  );
  return rows[0];
}

/** A bearer-only agent by its token's digest. */
export async function findAgentByBearerDigest(q: Queryable, digest: string): Promise<AgentRow | undefined> {
  const { rows } = await q.query<AgentRow>(
    `SELECT ${AGENT_COLUMNS} FROM agents WHERE bearer_token_digest = $1 AND auth_mode = 'bearer_only'`,
    [digest],
  );
  return rows[0];
}

/** Sets the status (and when it changed); returns the new row. */
export async function setAgentStatus(tx: Queryable, agentId: string, status: AgentStatus, at: Date): Promise<AgentRow> {
  const { rows } = await tx.query<AgentRow>(
    `UPDATE agents SET status = $2, status_changed_at = $3 WHERE id = $1 RETURNING ${AGENT_COLUMNS}`,
    [agentId, status, at],
  );
  return one(rows);
}

/**
 * Starts a new credentials version: every key enrolled before is refused from now on. A signed
 * agent is unenrolled until it enrols a new key; a bearer agent gets its new token's digest.
 */
export async function bumpCredentialsVersion(
  tx: Queryable,
  agentId: string,
  bearer: { digest: string; expiresAt: Date; at: Date } | null,
): Promise<AgentRow> {
  const { rows } = await tx.query<AgentRow>(
    bearer === null
      ? `UPDATE agents SET credentials_version = credentials_version + 1, enrolled_at = NULL
          WHERE id = $1 RETURNING ${AGENT_COLUMNS}`
      : `UPDATE agents SET credentials_version = credentials_version + 1, bearer_token_digest = $2,
                bearer_expires_at = $3, enrolled_at = $4
          WHERE id = $1 RETURNING ${AGENT_COLUMNS}`,
    bearer === null ? [agentId] : [agentId, bearer.digest, bearer.expiresAt, bearer.at],
  );
  return one(rows);
}

/** Pins an end-to-end agent to another account key set (a rotation re-pins to the active one). */
export async function pinAccountKey(tx: Queryable, agentId: string, accountKeyId: string): Promise<AgentRow> {
  const { rows } = await tx.query<AgentRow>(
    `UPDATE agents SET e2e_account_key_id = $2 WHERE id = $1 RETURNING ${AGENT_COLUMNS}`,
    [agentId, accountKeyId],
  );
  return one(rows);
}

/** Replaces the agent's open enrolment code. */
export async function putEnrollmentCode(
  tx: Queryable,
  code: { agentId: string; digest: string; credentialsVersion: number; expiresAt: Date },
): Promise<void> {
  await tx.query(
    `INSERT INTO agent_enrollment_codes (agent_id, code_digest, credentials_version, expires_at)
     VALUES ($1, $2, $3, $4)
     ON CONFLICT (agent_id) DO UPDATE
       SET code_digest = EXCLUDED.code_digest, credentials_version = EXCLUDED.credentials_version,
           expires_at = EXCLUDED.expires_at`,
    [code.agentId, code.digest, code.credentialsVersion, code.expiresAt],
  );
}

export async function deleteEnrollmentCode(tx: Queryable, agentId: string): Promise<void> {
  await tx.query("DELETE FROM agent_enrollment_codes WHERE agent_id = $1", [agentId]);
}

/**
 * Takes the code out of the table and returns what it was for (A-5: consumed atomically). Of
 * concurrent consumers of one code exactly one gets the row; the others wait for its
 * transaction and then find nothing.
 */
export async function consumeEnrollmentCode(
  tx: Queryable,
  digest: string,
): Promise<{ agent_id: string; credentials_version: number; expires_at: Date } | undefined> {
  const { rows } = await tx.query<{ agent_id: string; credentials_version: number; expires_at: Date }>(
    "DELETE FROM agent_enrollment_codes WHERE code_digest = $1 RETURNING agent_id, credentials_version, expires_at",
    [digest],
  );
  return rows[0];
}

/** Records an enrolled key; false when this public key (so this key id) is already enrolled. */
export async function insertAgentKey(
  tx: Queryable,
  key: { keyId: string; agentId: string; publicKey: Uint8Array; credentialsVersion: number; createdAt: Date },
): Promise<boolean> {
  const result = await tx.query(
    `INSERT INTO agent_keys (key_id, agent_id, public_key, credentials_version, created_at)
     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (key_id) DO NOTHING RETURNING 1`,
    [key.keyId, key.agentId, key.publicKey, key.credentialsVersion, key.createdAt],
  );
  return result.rowCount === 1;
}

export async function markEnrolled(tx: Queryable, agentId: string, at: Date): Promise<AgentRow> {
  const { rows } = await tx.query<AgentRow>(
    `UPDATE agents SET enrolled_at = $2 WHERE id = $1 RETURNING ${AGENT_COLUMNS}`,
    [agentId, at],
  );
  return one(rows);
}

/** Sets last-used unless another request did within the last `granularityMs` (at most one write a minute). */
export async function touchLastUsed(q: Queryable, agentId: string, at: Date, granularityMs: number): Promise<void> {
  await q.query("UPDATE agents SET last_used_at = $2 WHERE id = $1 AND (last_used_at IS NULL OR last_used_at <= $3)", [
    agentId,
    at,
    new Date(at.getTime() - granularityMs),
  ]);
}

/** Deletes enrolment codes past their expiry; returns how many. */
export async function sweepExpiredEnrollmentCodes(q: Queryable, nowMs: number): Promise<number> {
  const result = await q.query("DELETE FROM agent_enrollment_codes WHERE expires_at <= $1", [new Date(nowMs)]);
  return result.rowCount;
}

function one<R>(rows: R[]): R {
  const row = rows[0];
  if (row === undefined) throw new Error("expected a row");
  return row;
}
