import { CountersignError, randomBytes, toBase64Url } from "@countersign/protocol";
import type { AgentAuditEvent, AgentAuditSink } from "../agent-auth/agent-audit-sink.ts";
import type { Clock } from "../clock.ts";
import type { Database, Queryable, Transaction } from "../db/database.ts";
import { findActiveAccountKey } from "./agent-e2e-key.ts";
import type { CreateAgentInput } from "./agent-input.ts";
import type { AgentRow } from "./agent-row.ts";
import { type AgentSecrets, BEARER_TOKEN_DEFAULT_DAYS, ENROLLMENT_CODE_TTL_SECONDS } from "./agent-secrets.ts";
import {
  bumpCredentialsVersion,
  deleteEnrollmentCode,
  findOwnedAgent,
  insertAgent,
  pinAccountKey,
  putEnrollmentCode,
  setAgentStatus,
} from "./agent-store.ts";
import type { InFlightApprovals } from "./in-flight-approvals.ts";

/** A credential shown to the person once: an enrolment code (signed) or a bearer token. */
export type IssuedCredential =
  | { readonly kind: "enrollment_code"; readonly code: string; readonly expiresAt: Date }
  | { readonly kind: "bearer_token"; readonly token: string; readonly expiresAt: Date };

/** Who is acting, for the audit trail. */
export interface PersonContext {
  readonly userId: string;
  readonly ip: string;
  readonly requestId: string;
}

/** What the lifecycle operations need. */
export interface AgentLifecycleDeps {
  readonly db: Database;
  readonly clock: Clock;
  readonly secrets: AgentSecrets;
  readonly auditSink: AgentAuditSink;
  readonly inFlightApprovals: InFlightApprovals;
  readonly bearerOnlyAllowed: boolean;
}

const DAY_MS = 86_400_000;

/**
 * Creates an agent and its first credential in one transaction, with its audit event
 * (`agent.created`). A signed agent gets an enrolment code (10 minutes, single use); a bearer
 * agent its token. Either is returned once and stored only as a keyed digest. An agent created
 * with `e2e` is pinned to the account's active key set (DESIGN §4.11).
 *
 * @throws CountersignError `account_key_missing` for `e2e` when the account has no key set yet.
 */
export async function createAgent(
  deps: AgentLifecycleDeps,
  person: PersonContext,
  input: CreateAgentInput,
): Promise<{ agent: AgentRow; credential: IssuedCredential }> {
  const now = new Date(deps.clock.now());
  const bearer =
    input.authMode === "bearer_only"
      ? { ...deps.secrets.newBearerToken(), expiresAt: new Date(now.getTime() + input.bearerTokenTtlDays * DAY_MS) }
      : null;
  return deps.db.transaction(async (tx) => {
    const pinned = input.e2e ? await activeKeyId(tx, person.userId) : null;
    const agent = await insertAgent(tx, {
      id: `agt_${toBase64Url(randomBytes(16))}`,
      userId: person.userId,
      name: input.name,
      authMode: input.authMode,
      allowedActions: input.allowedActions,
      ipAllowlist: input.ipAllowlist,
      defaultTtlSeconds: input.defaultTtlSeconds,
      bearerTokenDigest: bearer?.digest ?? null,
      bearerExpiresAt: bearer?.expiresAt ?? null,
      createdAt: now,
      e2eAccountKeyId: pinned,
    });
    const credential = bearer
      ? ({ kind: "bearer_token", token: bearer.secret, expiresAt: bearer.expiresAt } as const)
      : await issueEnrollmentCode(tx, deps, agent, now);
    await deps.auditSink.append(
      tx,
      personEvent("agent.created", person, agent, {
        name: agent.name,
        allowed_actions: agent.allowed_actions,
        ip_allowlist: agent.ip_allowlist,
        default_ttl_seconds: agent.default_ttl_seconds,
        credential_expires_at: credential.expiresAt.toISOString(),
        e2e_account_key_id: agent.e2e_account_key_id,
      }),
    );
    return { agent, credential };
  });
}

/**
 * Revokes the agent at once and for good: the next request with its key or token is refused
 * with `agent_revoked`, its open enrolment code is deleted, and its in-flight approval requests
 * are canceled, all in one transaction. Revoking a revoked agent changes nothing.
 */
export async function revokeAgent(deps: AgentLifecycleDeps, person: PersonContext, agentId: string): Promise<AgentRow> {
  return deps.db.transaction(async (tx) => {
    const current = await lockOwnedAgent(tx, person.userId, agentId);
    if (current.status === "revoked") return current;
    const agent = await setAgentStatus(tx, agentId, "revoked", new Date(deps.clock.now()));
    await deleteEnrollmentCode(tx, agentId);
    const canceled = await deps.inFlightApprovals.cancelForAgent(tx, agentId, "agent_revoked");
    await deps.auditSink.append(
      tx,
      personEvent("agent.revoked", person, agent, { previous_status: current.status, canceled_requests: canceled }),
    );
    return agent;
  });
}

/**
 * Rotates the agent's credentials (DESIGN §4.3): the credentials version goes up by one, so the
 * old key (or token) is refused from the next request on; in-flight approval requests are
 * canceled; a signed agent gets a new enrolment code, a bearer agent a new token. An end-to-end
 * agent is re-pinned to the account's active key set, which the new enrolment hands to the agent:
 * after a key set reset, rotating is how an agent moves to the new key.
 */
export async function rotateAgentCredentials(
  deps: AgentLifecycleDeps,
  person: PersonContext,
  agentId: string,
): Promise<{ agent: AgentRow; credential: IssuedCredential }> {
  const now = new Date(deps.clock.now());
  return deps.db.transaction(async (tx) => {
    const current = await lockOwnedAgent(tx, person.userId, agentId);
    if (current.status === "revoked") throw new CountersignError("agent_revoked");
    let agent: AgentRow;
    let credential: IssuedCredential;
    if (current.auth_mode === "bearer_only") {
      if (!deps.bearerOnlyAllowed) throw new CountersignError("bearer_not_allowed");
      const token = deps.secrets.newBearerToken();
      const expiresAt = new Date(now.getTime() + BEARER_TOKEN_DEFAULT_DAYS * DAY_MS);
      agent = await bumpCredentialsVersion(tx, agentId, { digest: token.digest, expiresAt, at: now });
      credential = { kind: "bearer_token", token: token.secret, expiresAt };
    } else {
      agent = await bumpCredentialsVersion(tx, agentId, null);
      if (agent.e2e_account_key_id !== null) {
        agent = await pinAccountKey(tx, agentId, await activeKeyId(tx, person.userId));
      }
      credential = await issueEnrollmentCode(tx, deps, agent, now);
    }
    const canceled = await deps.inFlightApprovals.cancelForAgent(tx, agentId, "credentials_rotated");
    await deps.auditSink.append(
      tx,
      personEvent("agent.credentials_rotated", person, agent, {
        previous_credentials_version: current.credentials_version,
        canceled_requests: canceled,
        ...(agent.e2e_account_key_id === null
          ? {}
          : { e2e_account_key_id: agent.e2e_account_key_id, previous_e2e_account_key_id: current.e2e_account_key_id }),
      }),
    );
    return { agent, credential };
  });
}

/**
 * Suspends (`active` → `suspended`, in-flight requests canceled) or resumes (`suspended` →
 * `active`) an agent. Asking for the state it is already in changes nothing; a revoked agent
 * cannot be resumed or suspended (`agent_revoked`).
 */
export async function setAgentSuspended(
  deps: AgentLifecycleDeps,
  person: PersonContext,
  agentId: string,
  suspended: boolean,
): Promise<AgentRow> {
  return deps.db.transaction((tx) => setAgentSuspendedIn(tx, deps, person, agentId, suspended));
}

/**
 * {@link setAgentSuspended} inside the caller's transaction: how "I didn't ask for this" on a
 * rejection suspends the agent in the same transaction as the rejection (T-1). `cause` is
 * recorded in the audit event.
 */
export async function setAgentSuspendedIn(
  tx: Transaction,
  deps: Pick<AgentLifecycleDeps, "clock" | "auditSink" | "inFlightApprovals">,
  person: PersonContext,
  agentId: string,
  suspended: boolean,
  cause?: { readonly approvalId: string },
): Promise<AgentRow> {
  const current = await lockOwnedAgent(tx, person.userId, agentId);
  if (current.status === "revoked") throw new CountersignError("agent_revoked");
  const target = suspended ? "suspended" : "active";
  if (current.status === target) return current;
  const agent = await setAgentStatus(tx, agentId, target, new Date(deps.clock.now()));
  const canceled = suspended ? await deps.inFlightApprovals.cancelForAgent(tx, agentId, "agent_suspended") : 0;
  await deps.auditSink.append(
    tx,
    personEvent(suspended ? "agent.suspended" : "agent.resumed", person, agent, {
      ...(suspended ? { canceled_requests: canceled } : {}),
      ...(cause === undefined ? {} : { reported_approval_id: cause.approvalId, reason: "not_requested" }),
    }),
  );
  return agent;
}

async function issueEnrollmentCode(
  tx: Queryable,
  deps: Pick<AgentLifecycleDeps, "secrets">,
  agent: AgentRow,
  now: Date,
): Promise<IssuedCredential> {
  const code = deps.secrets.newEnrollmentCode();
  const expiresAt = new Date(now.getTime() + ENROLLMENT_CODE_TTL_SECONDS * 1000);
  await putEnrollmentCode(tx, {
    agentId: agent.id,
    digest: code.digest,
    credentialsVersion: agent.credentials_version,
    expiresAt,
  });
  return { kind: "enrollment_code", code: code.secret, expiresAt };
}

/** The id of the person's active account key set, to pin. */
async function activeKeyId(tx: Queryable, userId: string): Promise<string> {
  const key = await findActiveAccountKey(tx, userId);
  if (key === undefined) throw new CountersignError("account_key_missing");
  return key.id;
}

/** The owner's agent, locked; another person's agent is "not found", never "forbidden". */
async function lockOwnedAgent(tx: Queryable, userId: string, agentId: string): Promise<AgentRow> {
  const agent = await findOwnedAgent(tx, userId, agentId, { forUpdate: true });
  if (agent === undefined) throw new CountersignError("not_found", { message: "No such agent." });
  return agent;
}

function personEvent(
  type: string,
  person: PersonContext,
  agent: AgentRow,
  context: Record<string, unknown>,
): AgentAuditEvent {
  return {
    type,
    userId: person.userId,
    actor: { kind: "user", id: person.userId },
    subject: { kind: "agent", id: agent.id },
    context: {
      auth_mode: agent.auth_mode,
      status: agent.status,
      credentials_version: agent.credentials_version,
      ...context,
      ip: person.ip,
      request_id: person.requestId,
    },
  };
}
