import { CountersignError } from "@countersign/protocol";
import type { AgentAuditSink } from "../agent-auth/agent-audit-sink.ts";
import type { Clock } from "../clock.ts";
import type { Database } from "../db/database.ts";
import { type AgentE2eKey, findAccountKeysByIds, toAgentE2eKey } from "./agent-e2e-key.ts";
import type { AgentSecrets } from "./agent-secrets.ts";
import { consumeEnrollmentCode, findAgentById, insertAgentKey, markEnrolled } from "./agent-store.ts";

/** A key to enrol, whose possession the enrolment request's signature already proved. */
export interface EnrollmentInput {
  readonly code: string;
  /** The raw 32-byte Ed25519 public key. */
  readonly publicKey: Uint8Array;
  /** Its RFC 7638 thumbprint (`agentKeyId`). */
  readonly keyId: string;
  readonly ip: string;
  readonly requestId: string;
}

/** What enrolment established. */
export interface EnrollmentResult {
  readonly agentId: string;
  readonly keyId: string;
  readonly credentialsVersion: number;
  /** The key set an end-to-end agent encrypts context to; the agent pins it (DESIGN §4.11). */
  readonly e2e: AgentE2eKey | null;
}

/**
 * Binds a key to the agent an enrolment code was issued for (DESIGN §4.3), in one transaction:
 * the code is consumed with DELETE … RETURNING (so of concurrent enrolments exactly one wins,
 * A-5), the agent must still be a signed, unrevoked agent on the code's credentials version, and
 * the key is recorded under that version with an `agent.enrolled` audit event. Every way a code
 * can be wrong — unknown, used, expired, superseded by a rotation, its agent revoked — gets the
 * one code `enrollment_code_invalid`.
 *
 * An end-to-end agent learns the account key set it is pinned to. If that set was retired since
 * the code was issued (a key reset), enrolling would pin a key nobody can decrypt with any more:
 * that is refused with `account_key_changed`, and the person rotates the agent to re-pin it.
 *
 * @throws CountersignError `enrollment_code_invalid`, `account_key_changed`, or `agent_key_in_use`
 *   when this public key was ever enrolled before (the code is then not consumed).
 */
export async function enrollAgentKey(
  deps: { db: Database; clock: Clock; secrets: AgentSecrets; auditSink: AgentAuditSink },
  input: EnrollmentInput,
): Promise<EnrollmentResult> {
  const digest = deps.secrets.enrollmentCodeDigest(input.code);
  if (digest === null) throw new CountersignError("enrollment_code_invalid");
  const now = new Date(deps.clock.now());
  return deps.db.transaction(async (tx) => {
    const code = await consumeEnrollmentCode(tx, digest);
    if (code === undefined || code.expires_at.getTime() <= now.getTime()) {
      throw new CountersignError("enrollment_code_invalid");
    }
    const agent = await findAgentById(tx, code.agent_id, { forUpdate: true });
    if (
      agent === undefined ||
      agent.status === "revoked" ||
      agent.auth_mode !== "signed" ||
      agent.credentials_version !== code.credentials_version
    ) {
      throw new CountersignError("enrollment_code_invalid");
    }
    let e2e: AgentE2eKey | null = null;
    if (agent.e2e_account_key_id !== null) {
      const pinned = (await findAccountKeysByIds(tx, [agent.e2e_account_key_id])).get(agent.e2e_account_key_id);
      if (pinned === undefined || pinned.retired) throw new CountersignError("account_key_changed");
      e2e = toAgentE2eKey(pinned);
    }
    const inserted = await insertAgentKey(tx, {
      keyId: input.keyId,
      agentId: agent.id,
      publicKey: input.publicKey,
      credentialsVersion: agent.credentials_version,
      createdAt: now,
    });
    if (!inserted) throw new CountersignError("agent_key_in_use");
    await markEnrolled(tx, agent.id, now);
    await deps.auditSink.append(tx, {
      type: "agent.enrolled",
      userId: agent.user_id,
      actor: { kind: "agent", id: agent.id },
      subject: { kind: "agent", id: agent.id },
      context: {
        auth_mode: agent.auth_mode,
        key_id: input.keyId,
        credentials_version: agent.credentials_version,
        e2e_account_key_id: agent.e2e_account_key_id,
        ip: input.ip,
        request_id: input.requestId,
      },
    });
    return { agentId: agent.id, keyId: input.keyId, credentialsVersion: agent.credentials_version, e2e };
  });
}
