import { CountersignError, type PersonApprovalView } from "@countersign/protocol";
import type { AuthenticatedAgent } from "../agent-auth/agent-request.ts";
import type { InFlightApprovals, InFlightCancelReason } from "../agents/in-flight-approvals.ts";
import type { Transaction } from "../db/database.ts";
import { auditApproval } from "./approval-audit.ts";
import type { ActorContext, ApprovalDeps } from "./approval-deps.ts";
import { type ApprovalRow, type DecisionEvidence, isTerminal } from "./approval-row.ts";
import { openApproval } from "./approval-seal.ts";
import {
  type Blockers,
  cancelOpenForAgent,
  endApproval,
  expireDue,
  findForAgent,
  findForUser,
  type ListFilter,
  listForUser,
  markDelivered,
  recordPoll,
} from "./approval-store.ts";
import { toPersonView } from "./approval-views.ts";
import {
  type CreateApprovalInput,
  type CreateApprovalOptions,
  type CreatedApproval,
  createApproval,
  expireLazily,
  readBlockers,
} from "./create-approval.ts";
import { type DecidingPerson, type DecisionInput, type DecisionOutcome, decideApproval } from "./decide-approval.ts";

/** A poll arriving this much early still counts as on time (timers and clocks are not exact). */
const POLL_GRACE_MS = 500;
/** How many expired requests one sweep transaction ends. */
const EXPIRY_BATCH = 200;

/** The approvals domain (DESIGN §4.4–4.7), as the routes and the agent domain use it. */
export interface ApprovalService extends InFlightApprovals {
  create(
    agent: AuthenticatedAgent,
    input: CreateApprovalInput,
    actor: ActorContext,
    options?: CreateApprovalOptions,
  ): Promise<CreatedApproval>;
  /** A creation's first read, for a caller that starts it early (`CreateApprovalOptions.blockers`). */
  readBlockers(agent: AuthenticatedAgent, actionType: string): Promise<Blockers>;
  /** The agent's own request; expired lazily if its time is up. */
  getForAgent(agentId: string, approvalId: string): Promise<ApprovalRow>;
  /** A plain poll: like {@link getForAgent}, but 429 `slow_down` when faster than `interval`. */
  pollForAgent(agentId: string, approvalId: string): Promise<ApprovalRow>;
  /** The agent withdraws its open request (`DELETE`). */
  cancelByAgent(agentId: string, approvalId: string, actor: ActorContext): Promise<ApprovalRow>;
  listForPerson(
    userId: string,
    filter: Omit<ListFilter, "now">,
  ): Promise<{ items: PersonApprovalView[]; rows: ApprovalRow[] }>;
  /** One request for the person, with its display payload; a decision nonce while open. */
  showForPerson(
    userId: string,
    approvalId: string,
  ): Promise<{ view: PersonApprovalView; nonce: { nonce: string; expiresAt: Date } | null }>;
  /** The person's view of a row, with its display payload opened. */
  viewForPerson(row: ApprovalRow): Promise<PersonApprovalView>;
  /** A device's delivery acknowledgement (pending → delivered); idempotent. */
  acknowledge(userId: string, approvalId: string, actor: ActorContext): Promise<ApprovalRow>;
  decide(
    person: DecidingPerson,
    approvalId: string,
    input: DecisionInput,
    actor: ActorContext,
  ): Promise<DecisionOutcome>;
  /** The decision's evidence; `approval_not_found` when none (not the owner's, or undecided). */
  evidenceForPerson(userId: string, approvalId: string): Promise<DecisionEvidence>;
  evidenceForAgent(agentId: string, approvalId: string): Promise<DecisionEvidence>;
  /** The sweeper: expires open requests whose time is up; returns how many. */
  expireDue(): Promise<number>;
  /** The owner of the display payload's data key opens it; null after erasure. */
  readonly deps: ApprovalDeps;
}

/**
 * Builds the approvals service. It is also the agent domain's {@link InFlightApprovals}: revoking,
 * rotating or suspending an agent cancels its open requests in the same transaction.
 */
export function createApprovalService(deps: ApprovalDeps): ApprovalService {
  const { db, clock } = deps;
  const now = () => new Date(clock.now());

  async function lazyExpire(row: ApprovalRow): Promise<ApprovalRow> {
    if (isTerminal(row.status) || row.expires_at.getTime() > clock.now()) return row;
    return (await expireLazily(deps, row.id, now())) ?? (await reread(row));
  }
  async function reread(row: ApprovalRow): Promise<ApprovalRow> {
    const fresh = await findForUser(db, row.user_id, row.id);
    if (fresh === null) throw new CountersignError("approval_not_found");
    return fresh;
  }

  const service: ApprovalService = {
    deps,
    create: (agent, input, actor, options) => createApproval(deps, agent, input, actor, options),
    readBlockers: (agent, actionType) => readBlockers(deps, agent, actionType),

    async getForAgent(agentId, approvalId) {
      const row = await findForAgent(db, agentId, approvalId);
      if (row === null) throw new CountersignError("approval_not_found");
      return lazyExpire(row);
    },

    async pollForAgent(agentId, approvalId) {
      const intervalMs = deps.config.approvals.pollIntervalSeconds * 1000;
      const at = now();
      const row = await recordPoll(db, agentId, approvalId, at, intervalMs - POLL_GRACE_MS);
      if (row !== null) return lazyExpire(row);
      const existing = await findForAgent(db, agentId, approvalId);
      if (existing === null) throw new CountersignError("approval_not_found");
      const last = existing.last_polled_at?.getTime() ?? 0;
      throw new CountersignError("slow_down", {
        retryAfter: Math.max(1, Math.ceil((last + intervalMs - at.getTime()) / 1000)),
        details: { interval: deps.config.approvals.pollIntervalSeconds },
      });
    },

    async cancelByAgent(agentId, approvalId, actor) {
      const row = await service.getForAgent(agentId, approvalId);
      if (isTerminal(row.status)) {
        throw new CountersignError(row.status === "expired" ? "approval_expired" : "approval_not_pending");
      }
      const ended = await db.transaction(async (tx) => {
        const canceled = await endApproval(tx, approvalId, {
          status: "canceled",
          reason: "canceled_by_agent",
          decidedAt: now(),
        });
        if (canceled === null) return null;
        await deps.notifier.changed(tx, canceled, "approval.updated");
        await auditApproval(deps.audit, tx, {
          type: "approval.canceled",
          row: canceled,
          actor: { type: "agent", id: agentId },
          requestId: actor.requestId,
          context: { ip: actor.ip },
        });
        return canceled;
      });
      if (ended === null) throw new CountersignError("approval_not_pending");
      return ended;
    },

    async listForPerson(userId, filter) {
      const rows = await listForUser(db, userId, { ...filter, now: now() });
      const page = rows.slice(0, filter.limit);
      const items: PersonApprovalView[] = [];
      const keys = new Map<string, Uint8Array | null>();
      for (const row of page) {
        const fresh = await lazyExpire(row);
        items.push(toPersonView(fresh, await openApproval(deps.dataKeys, db, fresh, keys)));
      }
      return { items, rows };
    },

    async showForPerson(userId, approvalId) {
      const found = await findForUser(db, userId, approvalId);
      if (found === null) throw new CountersignError("approval_not_found");
      const row = await lazyExpire(found);
      const opened = await openApproval(deps.dataKeys, db, row);
      const nonce =
        isTerminal(row.status) || opened === null
          ? null
          : await deps.nonces.issue(db, { requestId: row.id, userId, now: now() });
      return { view: toPersonView(row, opened), nonce };
    },

    async viewForPerson(row) {
      return toPersonView(row, await openApproval(deps.dataKeys, db, row));
    },

    async acknowledge(userId, approvalId, actor) {
      const at = now();
      const delivered = await db.transaction(async (tx) => {
        const row = await markDelivered(tx, userId, approvalId, at);
        if (row === null) return null;
        await deps.notifier.changed(tx, row, "approval.updated");
        await auditApproval(deps.audit, tx, {
          type: "approval.delivered",
          row,
          actor: { type: "user", id: userId },
          requestId: actor.requestId,
          context: { ip: actor.ip, user_agent: actor.userAgent },
        });
        return row;
      });
      if (delivered !== null) return delivered;
      // Already delivered, decided or expired: acknowledging again changes nothing.
      const row = await findForUser(db, userId, approvalId);
      if (row === null) throw new CountersignError("approval_not_found");
      return lazyExpire(row);
    },

    decide: (person, approvalId, input, actor) => decideApproval(deps, person, approvalId, input, actor),

    async evidenceForPerson(userId, approvalId) {
      const row = await findForUser(db, userId, approvalId);
      if (row?.evidence == null) throw new CountersignError("approval_not_found", { message: "No decision evidence." });
      return row.evidence;
    },

    async evidenceForAgent(agentId, approvalId) {
      const row = await findForAgent(db, agentId, approvalId);
      if (row?.evidence == null) throw new CountersignError("approval_not_found", { message: "No decision evidence." });
      return row.evidence;
    },

    async expireDue() {
      let total = 0;
      for (;;) {
        const count = await db.transaction(async (tx) => {
          const expired = await expireDue(tx, now(), EXPIRY_BATCH);
          for (const row of expired) await deps.notifier.changed(tx, row, "approval.updated");
          if (expired.length > 0) {
            await deps.audit.appendAll(
              tx,
              expired.map((row) => ({
                type: "approval.expired",
                actor: { type: "system" as const },
                subject: { type: "approval", id: row.id },
                userId: row.user_id,
                details: {
                  agent_id: row.agent_id,
                  auth_mode: row.auth_mode,
                  action_type: row.action_type,
                  status: row.status,
                  reason: row.reason,
                  display_payload_hash: row.display_payload_hash,
                },
              })),
            );
          }
          return expired.length;
        });
        total += count;
        if (count < EXPIRY_BATCH) return total;
      }
    },

    async cancelForAgent(tx: Transaction, agentId: string, reason: InFlightCancelReason) {
      const canceled = await cancelOpenForAgent(tx, agentId, reason, now());
      for (const row of canceled) await deps.notifier.changed(tx, row, "approval.updated");
      for (const row of canceled) {
        await auditApproval(deps.audit, tx, {
          type: "approval.canceled",
          row,
          actor: { type: "system" },
          requestId: null,
        });
      }
      return canceled.length;
    },
  };
  return Object.freeze(service);
}
