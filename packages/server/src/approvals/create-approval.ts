import { randomInt } from "node:crypto";
import {
  CountersignError,
  displayPayloadHash,
  fromBase64Url,
  randomBytes,
  type SealedContext,
  type StoredDisplayPayload,
  toBase64Url,
  utf8,
} from "@countersign/protocol";
import type { AuthenticatedAgent } from "../agent-auth/agent-request.ts";
import type { JsonValue } from "../audit/audit-event.ts";
import type { Transaction } from "../db/database.ts";
import { approvalAuditEvent, auditApproval } from "./approval-audit.ts";
import type { ActorContext, ApprovalDeps } from "./approval-deps.ts";
import type { ApprovalRow } from "./approval-row.ts";
import { openApproval, sealApproval } from "./approval-seal.ts";
import { type Blockers, expireOne, findOpenFor, insertApprovalInTurn } from "./approval-store.ts";
import { assertDisplayContext, assertDisplayText } from "./display-text.ts";

/** The body of `POST /v1/approvals` after schema validation (DESIGN §4.4). */
export interface CreateApprovalInput {
  readonly action_type: string;
  readonly title: string;
  readonly body?: string;
  readonly context?: Record<string, unknown>;
  /** The context encrypted to the agent's pinned account key set (DESIGN §4.11), never opened here. */
  readonly context_e2e?: SealedContext;
  readonly binding_message?: string;
  readonly ttl_seconds?: number;
  /** Already checked by the route (https only, SSRF rules); null when absent. */
  readonly callbackUrl: string | null;
}

/** What the caller of {@link createApproval} may add to the creating transaction. */
export interface CreateApprovalOptions {
  /**
   * Runs inside the transaction that creates the request, once it is inserted and counted, with
   * what creation will answer: its writes commit with the request or not at all (the route
   * stores the agent's idempotent answer here). It may throw to refuse the creation.
   */
  readonly alongside?: (tx: Transaction, created: CreatedApproval) => Promise<void>;
  /**
   * {@link readBlockers} for this agent and action type, started by the caller before it had the
   * whole input (the route, while the Idempotency-Key is claimed); read here when absent.
   */
  readonly blockers?: Promise<Blockers>;
}

/**
 * A creation's first read: the open request for the same agent and action type, the last
 * rejection within the cool-down, the person's default TTL and the agent's pinned key set
 * (`createBlockerReader` in approval-store.ts: batched across concurrent creations).
 */
export function readBlockers(deps: ApprovalDeps, agent: AuthenticatedAgent, actionType: string): Promise<Blockers> {
  const cooldownFrom = new Date(deps.clock.now() - deps.config.approvals.cooldownSeconds * 1000);
  return deps.blockers({ userId: agent.userId, agentId: agent.id, actionType, cooldownFrom });
}

/** `context` is a JSON object of at most 16 KiB (DESIGN §4.4), measured as UTF-8 JSON. */
export const MAX_CONTEXT_BYTES = 16 * 1024;
/** TTL when neither the request, the agent nor the person's setting names one. */
export const FALLBACK_TTL_SECONDS = 300;

/** What creation answers: the request, its number, and whether it is new or in flight already. */
export interface CreatedApproval {
  readonly row: ApprovalRow;
  readonly number: string;
  /** What the app shows; its context is null on an end-to-end request. */
  readonly display: StoredDisplayPayload;
  /** False when an open request for the same (user, agent, action type) was returned (T-1). */
  readonly created: boolean;
}

/**
 * Creates an approval request for an authenticated agent (DESIGN §4.4, T-1):
 *
 * 1. the text is plain and visible, the context small enough (T-9); an agent pinned to an account
 *    key set sends its context encrypted to that set, which must still be the account's active
 *    one, and any other agent sends plaintext (DESIGN §4.11);
 * 2. an open request for the same (user, agent, action type) is returned as it is, with no new
 *    event or push (in-flight suppression) — unless its time is up, then it is expired first;
 * 3. within the cool-down after a rejection of the same triple: 429 `cooldown_active`;
 * 4. otherwise the number is drawn, the display payload hashed and sealed, the row inserted and
 *    the throttles counted (one statement), and the audit event appended, in one transaction. An end-to-end
 *    request has no display hash: the server cannot read its context, so the agent hashes it
 *    locally from the `display` returned, and the person's decision supplies it. The unique index
 *    on open requests settles races: a concurrent duplicate that loses the insert returns the
 *    winner.
 *
 * The caller has already checked the action type against the agent's allowlist.
 */
export async function createApproval(
  deps: ApprovalDeps,
  agent: AuthenticatedAgent,
  input: CreateApprovalInput,
  actor: ActorContext,
  options: CreateApprovalOptions = {},
): Promise<CreatedApproval> {
  const { db, clock, config } = deps;
  checkContent(input);
  const key = { userId: agent.userId, agentId: agent.id, actionType: input.action_type };
  const now = new Date(clock.now());

  const blockers = await (options.blockers ?? readBlockers(deps, agent, input.action_type));
  const e2eKeyId = checkE2e(input, blockers);
  if (blockers.openId !== null) {
    const open = await findOpenFor(db, key);
    if (open !== null && open.expires_at.getTime() > now.getTime()) return existing(deps, open);
    if (open !== null) await expireLazily(deps, open.id, now);
  }
  if (blockers.lastRejectedAt !== null) {
    const until = blockers.lastRejectedAt.getTime() + config.approvals.cooldownSeconds * 1000;
    throw new CountersignError("cooldown_active", {
      retryAfter: Math.max(1, Math.ceil((until - now.getTime()) / 1000)),
    });
  }

  const ttlSeconds = input.ttl_seconds ?? agent.defaultTtlSeconds ?? blockers.userDefaultTtl ?? FALLBACK_TTL_SECONDS;
  const id = `apr_${toBase64Url(randomBytes(16))}`;
  const expiresAt = new Date(now.getTime() + ttlSeconds * 1000);
  const shown = {
    agent_id: agent.id,
    agent_name: agent.name,
    agent_verified: agent.authMode === "signed",
    action_type: input.action_type,
    title: input.title,
    body: input.body ?? "",
    binding_message: input.binding_message ?? null,
    created_at: now.toISOString(),
    expires_at: expiresAt.toISOString(),
  };
  const display: StoredDisplayPayload = { ...shown, context: e2eKeyId === null ? (input.context ?? {}) : null };
  const hash = e2eKeyId === null ? await displayPayloadHash({ ...shown, context: input.context ?? {} }) : null;
  const contextE2e = e2eKeyId === null ? null : (input.context_e2e ?? null);
  // T-1: uniform over 000000–999999 (crypto.randomInt rejects modulo bias), zero-padded.
  const number = String(randomInt(0, 1_000_000)).padStart(6, "0");

  // Grouped with concurrent creations into one transaction under load (group commit), so the
  // audit chain's lock is taken once per batch rather than once per request; and as a late step,
  // so the creations of a batch insert their requests with one statement.
  const row = await deps.grouped.run(
    async (tx) => {
      const sealed = await sealApproval(deps.dataKeys, tx, agent.userId, id, { display, number, contextE2e });
      return {
        late: async (late: Transaction) => {
          // Counted in the throttle windows by the same statement (T-1): the window rows are the
          // rows every creation of this person and agent locks, so they are held for the append
          // and commit only.
          const windowStart = new Date(Math.floor(now.getTime() / 60_000) * 60_000);
          const result = await insertApprovalInTurn(late, {
            id,
            userId: agent.userId,
            agentId: agent.id,
            agentCredentialsVersion: agent.credentialsVersion,
            authMode: agent.authMode,
            actionType: input.action_type,
            sealed,
            displayPayloadHash: hash,
            e2eAccountKeyId: e2eKeyId,
            ttlSeconds,
            callbackUrl: input.callbackUrl,
            createdAt: now,
            expiresAt,
            windowStart,
          });
          if (result === null) return { value: null, events: [] };
          const { row: inserted, counts } = result;
          if (counts.agent > config.approvals.perAgentPerMinute || counts.user > config.approvals.perUserPerMinute) {
            throw new CountersignError("throttled", {
              retryAfter: Math.max(1, Math.ceil((windowStart.getTime() + 60_000 - now.getTime()) / 1000)),
            });
          }
          await deps.notifier.changed(late, inserted, "approval.created");
          await options.alongside?.(late, { row: inserted, number, display, created: true });
          const event = approvalAuditEvent({
            type: "approval.created",
            row: inserted,
            actor: { type: "agent", id: agent.id },
            requestId: actor.requestId,
            details: {
              ttl_seconds: ttlSeconds,
              webhook: input.callbackUrl !== null,
              ...(e2eKeyId === null ? {} : { e2e_account_key_id: e2eKeyId }),
            },
            // An end-to-end request's context stays out of the log too: it is null in `display`.
            context: { ip: actor.ip, display_payload: display as unknown as JsonValue },
          });
          return { value: inserted, events: [event] };
        },
      };
    },
    { orderKey: `${agent.userId}|${agent.id}`, sealsFor: agent.userId },
  );
  if (row !== null) return { row, number, display, created: true };

  // Lost the insert to a concurrent identical request: answer with the one that won.
  const winner = await findOpenFor(db, key);
  if (winner === null) throw new Error("an open approval request blocked the insert but is gone");
  return existing(deps, winner);
}

async function existing(deps: ApprovalDeps, row: ApprovalRow): Promise<CreatedApproval> {
  const sealed = await openApproval(deps.dataKeys, deps.db, row);
  if (sealed === null) throw new Error(`approval ${row.id} cannot be opened: its owner's data key is gone`);
  return { row, number: sealed.number, display: sealed.display, created: false };
}

/** Expires a request found open past its time, with its audit event and notifications. */
export async function expireLazily(deps: ApprovalDeps, id: string, now: Date): Promise<ApprovalRow | null> {
  return deps.db.transaction(async (tx) => {
    const expired = await expireOne(tx, id, now);
    if (expired === null) return null;
    await deps.notifier.changed(tx, expired, "approval.updated");
    await auditApproval(deps.audit, tx, {
      type: "approval.expired",
      row: expired,
      actor: { type: "system" },
      requestId: null,
    });
    return expired;
  });
}

/**
 * DESIGN §4.11: an agent pinned to an account key set must send `context_e2e` (and no plaintext
 * `context`), encrypted to the key set it was pinned to, which must also be the account's active
 * one — after a key reset the person can no longer decrypt the old one, and the agent must be
 * re-enrolled with the new pin. Any other agent sends plaintext. Returns the key set to record,
 * or null for a plaintext request.
 */
function checkE2e(input: CreateApprovalInput, blockers: Blockers): string | null {
  if (blockers.agentE2eKeyId === null) {
    if (input.context_e2e !== undefined) throw new CountersignError("e2e_not_enabled");
    return null;
  }
  if (input.context !== undefined || input.context_e2e === undefined) {
    throw new CountersignError("e2e_context_required");
  }
  const { kid } = input.context_e2e;
  if (kid !== blockers.agentE2eKeyId || kid !== blockers.activeAccountKeyId) {
    throw new CountersignError("account_key_changed");
  }
  return kid;
}

function checkContent(input: CreateApprovalInput): void {
  assertDisplayText("title", input.title, { multiline: false });
  if (input.body !== undefined) assertDisplayText("body", input.body, { multiline: true });
  if (input.binding_message !== undefined) {
    assertDisplayText("binding_message", input.binding_message, { multiline: false });
  }
  if (input.context !== undefined) {
    if (utf8(JSON.stringify(input.context)).length > MAX_CONTEXT_BYTES) {
      throw new CountersignError("validation_failed", {
        message: "context must be at most 16 KiB of JSON.",
        details: { issues: [{ path: "/context", message: "must be at most 16384 bytes as JSON" }] },
      });
    }
    assertDisplayContext(input.context);
  }
  if (input.context_e2e !== undefined) {
    // The schema bounds the lengths; the bytes must also decode (HPKE's enc is one X25519 point).
    const { enc, ct } = input.context_e2e;
    if (fromBase64Url(enc)?.length !== 32 || fromBase64Url(ct) === null) {
      throw new CountersignError("validation_failed", {
        message: "context_e2e is not a valid end-to-end encrypted context.",
        details: { issues: [{ path: "/context_e2e", message: "enc must be 32 bytes and ct base64url" }] },
      });
    }
  }
}
