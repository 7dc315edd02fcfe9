import { createBatchedLookup } from "../db/batched-lookup.ts";
import type { Queryable } from "../db/database.ts";
import { createTickBatcher, createTickBatcherPer } from "../db/tick-batcher.ts";
import {
  APPROVAL_COLUMNS,
  type ApprovalReason,
  type ApprovalRow,
  type ApprovalStatus,
  type DecisionEvidence,
} from "./approval-row.ts";

// The SQL of the approvals domain, one function per statement. Every state change is guarded by
// `status IN ('pending', 'delivered')`, so of two racing changes exactly one wins; the database
// trigger (migration 008) refuses anything that would touch a decided row even if a guard were
// ever missing.

/** A request about to be inserted. */
export interface NewApproval {
  readonly id: string;
  readonly userId: string;
  readonly agentId: string;
  readonly agentCredentialsVersion: number;
  readonly authMode: ApprovalRow["auth_mode"];
  readonly actionType: string;
  readonly sealed: string;
  /** Null for an end-to-end request, whose context the server cannot hash. */
  readonly displayPayloadHash: string | null;
  readonly e2eAccountKeyId: string | null;
  readonly ttlSeconds: number;
  readonly callbackUrl: string | null;
  readonly createdAt: Date;
  readonly expiresAt: Date;
  /** The start of the minute whose throttle windows count this creation. */
  readonly windowStart: Date;
}

/** A request as inserted, and the throttle counts its creation read (T-1). */
export interface InsertedApproval {
  readonly row: ApprovalRow;
  /** Creations in this minute's window, this one included: of its agent, and of its person. */
  readonly counts: { readonly agent: number; readonly user: number };
}

/**
 * Inserts a request unless one is already open for the same (user, agent, action type), and
 * counts its creation in the throttle windows of its agent and its person, in one statement:
 * the partial unique index makes in-flight suppression race-free (T-1), and a creation that
 * loses to an open request counts nothing. Null when another won.
 *
 * The requests inserted on one transaction in one turn (a group commit's creations) share the
 * statement, each with the outcome and the counts it would have had alone, one after another in
 * the statement's order. Rows go in in (user, agent, action type) order, the order every batch
 * uses, and the window rows are locked in that order too (a person's, then each of their
 * agents'), so two batches racing on the same people wait on each other in one order and cannot
 * deadlock. Of two in one turn for the same (user, agent, action type), the first is inserted and
 * the second gets null.
 *
 * `windowStart` is the start of the creation's minute. The window rows are the rows every creation
 * of a person locks: the caller inserts late in its transaction (a group commit's late step), so
 * they are held for the append and commit only.
 */
export const insertApprovalInTurn: (tx: Queryable, approval: NewApproval) => Promise<InsertedApproval | null> =
  createTickBatcherPer(insertApprovals, { gather: "microtasks" });

// Every column of the row but `sealed`, which the caller has in hand: returning it would send
// each request's largest value straight back.
const INSERTED_COLUMNS = APPROVAL_COLUMNS.split(",")
  .map((column) => column.trim())
  .filter((column) => column !== "sealed")
  .map((column) => `r.${column}`)
  .join(", ");

async function insertApprovals(tx: Queryable, approvals: readonly NewApproval[]): Promise<(InsertedApproval | null)[]> {
  const key = (a: NewApproval) => `${a.userId}\n${a.agentId}\n${a.actionType}`;
  // Stable: two for the same key keep the order they were asked in.
  const batch = [...approvals].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  const column = <V>(of: (a: NewApproval) => V) => batch.map(of);
  const { rows } = await tx.query<Omit<ApprovalRow, "sealed"> & { user_total: number; agent_total: number }>(
    `WITH input AS (
       SELECT *
         FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::text[], $6::text[], $7::text[], $8::text[],
                     $9::int[], $10::text[], $11::timestamptz[], $12::timestamptz[], $13::text[], $14::timestamptz[])
              WITH ORDINALITY AS t (id, user_id, agent_id, version, auth_mode, action_type, sealed, hash, ttl,
                                    callback_url, created_at, expires_at, e2e_key, window_start, position)
     ), inserted AS (
       INSERT INTO approval_requests (id, user_id, agent_id, agent_credentials_version, auth_mode, action_type, status,
         sealed, display_payload_hash, ttl_seconds, callback_url, created_at, expires_at, e2e_account_key_id)
       SELECT id, user_id, agent_id, version, auth_mode, action_type, 'pending', sealed, hash, ttl, callback_url,
              created_at, expires_at, e2e_key
         FROM input
        ORDER BY position
       ON CONFLICT (user_id, agent_id, action_type) WHERE status IN ('pending', 'delivered') DO NOTHING
       RETURNING ${APPROVAL_COLUMNS}
     ), increments AS (
       -- Each window row once, with how many inserted requests count in it; "first" orders the
       -- locks: a person's row before their agents', creation by creation.
       SELECT s.scope, i.window_start, count(*)::int AS n, min(i.position * 2 + s.k) AS first
         FROM inserted r
         JOIN input i ON i.id = r.id
         CROSS JOIN LATERAL (VALUES ('user:' || i.user_id, 0), ('agent:' || i.agent_id, 1)) AS s (scope, k)
        GROUP BY s.scope, i.window_start
     ), counted AS (
       INSERT INTO approval_throttle_windows (scope, window_start, count)
       SELECT scope, window_start, n FROM increments ORDER BY first
       ON CONFLICT (scope, window_start) DO UPDATE SET count = approval_throttle_windows.count + EXCLUDED.count
       RETURNING scope, window_start, count
     )
     SELECT ${INSERTED_COLUMNS}, u.count AS user_total, a.count AS agent_total
       FROM inserted r
       JOIN input i ON i.id = r.id
       JOIN counted u ON u.scope = 'user:' || r.user_id AND u.window_start = i.window_start
       JOIN counted a ON a.scope = 'agent:' || r.agent_id AND a.window_start = i.window_start`,
    [
      column((a) => a.id),
      column((a) => a.userId),
      column((a) => a.agentId),
      column((a) => a.agentCredentialsVersion),
      column((a) => a.authMode),
      column((a) => a.actionType),
      column((a) => a.sealed),
      column((a) => a.displayPayloadHash),
      column((a) => a.ttlSeconds),
      column((a) => a.callbackUrl),
      column((a) => a.createdAt),
      column((a) => a.expiresAt),
      column((a) => a.e2eAccountKeyId),
      column((a) => a.windowStart),
    ],
  );
  const byId = new Map(rows.map((row) => [row.id, row]));
  // The total after the statement, less the increments of the creations after this one: what
  // each would have read counting alone, one after another in the statement's order.
  const later = new Map<string, number>();
  const results = new Map<string, InsertedApproval>();
  for (const a of batch.toReversed()) {
    const found = byId.get(a.id);
    if (found === undefined) continue;
    const { user_total: userTotal, agent_total: agentTotal, ...row } = found;
    const userKey = `user:${a.userId}\n${a.windowStart.getTime()}`;
    const agentKey = `agent:${a.agentId}\n${a.windowStart.getTime()}`;
    const counts = { user: userTotal - (later.get(userKey) ?? 0), agent: agentTotal - (later.get(agentKey) ?? 0) };
    later.set(userKey, (later.get(userKey) ?? 0) + 1);
    later.set(agentKey, (later.get(agentKey) ?? 0) + 1);
    results.set(a.id, { row: { ...row, sealed: a.sealed }, counts });
  }
  return approvals.map((a) => results.get(a.id) ?? null);
}

/** What a new request must know before anything else: see {@link createBlockerReader}. */
export interface Blockers {
  readonly openId: string | null;
  readonly lastRejectedAt: Date | null;
  readonly userDefaultTtl: number | null;
  /** The account key set the agent is pinned to (migration 013); null: plaintext context. */
  readonly agentE2eKeyId: string | null;
  /** The person's active account key set, if any (migration 012). */
  readonly activeAccountKeyId: string | null;
}

/** The (user, agent, action type) a new request is for, and where its cool-down window starts. */
export interface BlockerKey {
  readonly userId: string;
  readonly agentId: string;
  readonly actionType: string;
  readonly cooldownFrom: Date;
}

/**
 * What a new request for (user, agent, action type) must know first: the open request's id, if
 * any (suppression), the latest rejection since `cooldownFrom` (cool-down), the person's default
 * TTL (used when neither the request nor the agent names one), and the key sets end-to-end
 * context is checked against — the agent's pin, read fresh rather than from the agent row cache,
 * and the account's active one.
 *
 * The keys of concurrent creations that arrive in one turn of the event loop are read by one
 * statement (a read, so batching changes only how many round trips are made: each answer still
 * comes from a statement that ran after its request arrived).
 */
export function createBlockerReader(db: Queryable): (key: BlockerKey) => Promise<Blockers> {
  return createTickBatcher<BlockerKey, Blockers>(async (keys) => {
    const { rows } = await db.query<{
      position: string;
      open_id: string | null;
      last_rejected_at: Date | null;
      user_ttl: number | null;
      agent_e2e_key_id: string | null;
      active_key_id: string | null;
    }>(
      `SELECT k.position,
         (SELECT id FROM approval_requests
           WHERE user_id = k.user_id AND agent_id = k.agent_id AND action_type = k.action_type
             AND status IN ('pending', 'delivered')) AS open_id,
         (SELECT max(decided_at) FROM approval_requests
           WHERE user_id = k.user_id AND agent_id = k.agent_id AND action_type = k.action_type
             AND status = 'rejected' AND decided_at > k.cooldown_from) AS last_rejected_at,
         (SELECT default_ttl_seconds FROM user_settings WHERE user_id = k.user_id) AS user_ttl,
         (SELECT e2e_account_key_id FROM agents WHERE id = k.agent_id) AS agent_e2e_key_id,
         (SELECT id FROM account_keys WHERE user_id = k.user_id AND retired_at IS NULL) AS active_key_id
       FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[])
         WITH ORDINALITY AS k (user_id, agent_id, action_type, cooldown_from, position)`,
      [
        keys.map((key) => key.userId),
        keys.map((key) => key.agentId),
        keys.map((key) => key.actionType),
        keys.map((key) => key.cooldownFrom.toISOString()),
      ],
    );
    const byPosition = new Map(rows.map((row) => [Number(row.position), row]));
    return keys.map((_, i) => {
      const row = byPosition.get(i + 1);
      return {
        openId: row?.open_id ?? null,
        lastRejectedAt: row?.last_rejected_at ?? null,
        userDefaultTtl: row?.user_ttl ?? null,
        agentE2eKeyId: row?.agent_e2e_key_id ?? null,
        activeAccountKeyId: row?.active_key_id ?? null,
      };
    });
  });
}

/** The open request for (user, agent, action type), after an insert lost the race to it. */
export async function findOpenFor(
  q: Queryable,
  key: { userId: string; agentId: string; actionType: string },
): Promise<ApprovalRow | null> {
  const { rows } = await q.query<ApprovalRow>(
    `SELECT ${APPROVAL_COLUMNS} FROM approval_requests
     WHERE user_id = $1 AND agent_id = $2 AND action_type = $3 AND status IN ('pending', 'delivered')`,
    [key.userId, key.agentId, key.actionType],
  );
  return rows[0] ?? null;
}

/** One request, if it belongs to this agent (another agent's request is "not found"). */
export async function findForAgent(q: Queryable, agentId: string, id: string): Promise<ApprovalRow | null> {
  const { rows } = await q.query<ApprovalRow>(
    `SELECT ${APPROVAL_COLUMNS} FROM approval_requests WHERE id = $1 AND agent_id = $2`,
    [id, agentId],
  );
  return rows[0] ?? null;
}

/** One request, if it belongs to this person. */
export async function findForUser(q: Queryable, userId: string, id: string): Promise<ApprovalRow | null> {
  const { rows } = await q.query<ApprovalRow>(
    `SELECT ${APPROVAL_COLUMNS} FROM approval_requests WHERE id = $1 AND user_id = $2`,
    [id, userId],
  );
  return rows[0] ?? null;
}

/** A request as a decision finds it, with its agent's state at the same moment. */
export interface DecisionTarget {
  readonly row: ApprovalRow;
  /** Null when the agent row is gone. */
  readonly agent: { readonly status: string; readonly credentialsVersion: number } | null;
}

/**
 * One request of this person and, in the same statement, its agent's status and credentials
 * version (DESIGN §4.6: a request whose agent was revoked, suspended or rotated is refused).
 * Concurrent decisions read theirs together.
 */
export async function findForDecision(q: Queryable, userId: string, id: string): Promise<DecisionTarget | null> {
  const found = await lookupForDecision(q, id);
  // Another person's request is "not found", exactly as an unknown id.
  if (found === undefined || found.user_id !== userId) return null;
  const { agent_now: agentNow, ...row } = found;
  return {
    row,
    agent: agentNow === null ? null : { status: agentNow[0], credentialsVersion: Number(agentNow[1]) },
  };
}

const lookupForDecision = createBatchedLookup<string, ApprovalRow & { agent_now: [string, string] | null }>({
  sql: `SELECT ${APPROVAL_COLUMNS},
               (SELECT ARRAY[a.status, a.credentials_version::text] FROM agents a WHERE a.id = approval_requests.agent_id)
                 AS agent_now
          FROM approval_requests WHERE id = ANY($1::text[])`,
  idOf: (id) => id,
  rowId: (row) => row.id,
});

/** How an open request ends. */
export interface Ending {
  readonly status: Exclude<ApprovalStatus, "pending" | "delivered">;
  readonly reason: ApprovalReason | null;
  readonly decidedAt: Date;
  readonly evidence?: DecisionEvidence;
  readonly receipt?: string;
  /**
   * The hash the person's passkey signed, for an end-to-end request whose hash is still NULL
   * (migration 013 allows exactly that once); a request that has a hash keeps it.
   */
  readonly displayPayloadHash?: string;
  /** Only while unexpired at this instant (a decision); otherwise whenever still open. */
  readonly unexpiredAt?: Date;
}

/**
 * Ends one open request; null when it was no longer open (another change got there first) or,
 * with `unexpiredAt`, its time was up by then. The row lock the UPDATE takes settles races.
 */
export async function endApproval(tx: Queryable, id: string, ending: Ending): Promise<ApprovalRow | null> {
  const { rows } = await tx.query<ApprovalRow>(
    `UPDATE approval_requests
        SET status = $2, reason = $3, decided_at = $4, evidence = $5, receipt = $6,
            display_payload_hash = COALESCE(display_payload_hash, $7)
      WHERE id = $1 AND status IN ('pending', 'delivered') AND ($8::timestamptz IS NULL OR expires_at > $8)
      RETURNING ${APPROVAL_COLUMNS}`,
    [
      id,
      ending.status,
      ending.reason,
      ending.decidedAt,
      ending.evidence === undefined ? null : JSON.stringify(ending.evidence),
      ending.receipt ?? null,
      ending.displayPayloadHash ?? null,
      ending.unexpiredAt ?? null,
    ],
  );
  return rows[0] ?? null;
}

/**
 * {@link endApproval} for the decisions of a group commit: the endings asked on one transaction in
 * one turn go in one UPDATE, each with the outcome it would have had alone. A request named twice
 * in one turn (two devices deciding at once) is ended by the first; the later ones follow on
 * their own and find it ended.
 */
export function endApprovalInTurn(tx: Queryable, id: string, ending: Ending): Promise<ApprovalRow | null> {
  return endInTurn(tx, { id, ending });
}

interface IdentifiedEnding {
  readonly id: string;
  readonly ending: Ending;
}

// Per transaction, so only the endings of one batch share a statement.
const endInTurn = createTickBatcherPer(endApprovals, { gather: "microtasks" });

async function endApprovals(tx: Queryable, endings: readonly IdentifiedEnding[]): Promise<(ApprovalRow | null)[]> {
  if (endings.length === 1) {
    const [{ id, ending }] = endings as [IdentifiedEnding];
    return [await endApproval(tx, id, ending)];
  }
  const first = new Map<string, IdentifiedEnding>();
  for (const input of endings) if (!first.has(input.id)) first.set(input.id, input);
  // In id order, the order the rows are then locked in, as near as the plan allows.
  const batch = [...first.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const column = <V>(of: (ending: Ending) => V) => batch.map((input) => of(input.ending));
  const { rows } = await tx.query<ApprovalRow>(
    `UPDATE approval_requests
        SET status = v.new_status, reason = v.new_reason, decided_at = v.new_decided_at,
            evidence = v.new_evidence::jsonb, receipt = v.new_receipt,
            display_payload_hash = COALESCE(display_payload_hash, v.new_hash)
       FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::text[], $6::text[], $7::text[],
                   $8::timestamptz[])
            AS v (end_id, new_status, new_reason, new_decided_at, new_evidence, new_receipt, new_hash, unexpired_at)
      WHERE id = v.end_id AND status IN ('pending', 'delivered')
        AND (v.unexpired_at IS NULL OR expires_at > v.unexpired_at)
      RETURNING ${APPROVAL_COLUMNS}`,
    [
      batch.map((input) => input.id),
      column((ending) => ending.status),
      column((ending) => ending.reason),
      column((ending) => ending.decidedAt),
      column((ending) => (ending.evidence === undefined ? null : JSON.stringify(ending.evidence))),
      column((ending) => ending.receipt ?? null),
      column((ending) => ending.displayPayloadHash ?? null),
      column((ending) => ending.unexpiredAt ?? null),
    ],
  );
  const ended = new Map(rows.map((row) => [row.id, row]));
  const outcomes: (ApprovalRow | null)[] = [];
  for (const input of endings) {
    outcomes.push(
      first.get(input.id) === input ? (ended.get(input.id) ?? null) : await endApproval(tx, input.id, input.ending),
    );
  }
  return outcomes;
}

/**
 * Counts one wrong number (T-1); the third makes the request `rejected` with `number_mismatch`
 * in the same statement. Null when the request was no longer open.
 */
export async function recordWrongNumber(tx: Queryable, id: string, now: Date): Promise<ApprovalRow | null> {
  const { rows } = await tx.query<ApprovalRow>(
    `UPDATE approval_requests
        SET number_attempts = number_attempts + 1,
            status = CASE WHEN number_attempts + 1 >= 3 THEN 'rejected' ELSE status END,
            reason = CASE WHEN number_attempts + 1 >= 3 THEN 'number_mismatch' ELSE reason END,
            decided_at = CASE WHEN number_attempts + 1 >= 3 THEN $2::timestamptz ELSE decided_at END
      WHERE id = $1 AND status IN ('pending', 'delivered')
      RETURNING ${APPROVAL_COLUMNS}`,
    [id, now],
  );
  return rows[0] ?? null;
}

/** A device's delivery acknowledgement: `pending` → `delivered`. Null when not pending. */
export async function markDelivered(q: Queryable, userId: string, id: string, now: Date): Promise<ApprovalRow | null> {
  const { rows } = await q.query<ApprovalRow>(
    `UPDATE approval_requests SET status = 'delivered', delivered_at = $3
      WHERE id = $1 AND user_id = $2 AND status = 'pending' AND expires_at > $3
      RETURNING ${APPROVAL_COLUMNS}`,
    [id, userId, now],
  );
  return rows[0] ?? null;
}

/**
 * Records an agent's poll if the previous one was at least `minGapMs` ago (RFC 8628 §3.5-style
 * `slow_down`). Null when the agent polled too fast — or the request is not its own; the caller
 * tells the two apart.
 */
export async function recordPoll(
  q: Queryable,
  agentId: string,
  id: string,
  now: Date,
  minGapMs: number,
): Promise<ApprovalRow | null> {
  const { rows } = await q.query<ApprovalRow>(
    `UPDATE approval_requests SET last_polled_at = $3
      WHERE id = $1 AND agent_id = $2 AND (last_polled_at IS NULL OR last_polled_at <= $4)
      RETURNING ${APPROVAL_COLUMNS}`,
    [id, agentId, now, new Date(now.getTime() - minGapMs)],
  );
  return rows[0] ?? null;
}

/** Ends up to `limit` open requests whose time is up (the sweeper), skipping rows others hold. */
export async function expireDue(tx: Queryable, now: Date, limit: number): Promise<ApprovalRow[]> {
  const { rows } = await tx.query<ApprovalRow>(
    `UPDATE approval_requests SET status = 'expired', reason = 'expired', decided_at = expires_at
      WHERE id IN (
        SELECT id FROM approval_requests
         WHERE status IN ('pending', 'delivered') AND expires_at <= $1
         ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED)
        AND status IN ('pending', 'delivered')
      RETURNING ${APPROVAL_COLUMNS}`,
    [now, limit],
  );
  return rows;
}

/** Expires one request whose time is up (lazily, on read); null when it was not open or not due. */
export async function expireOne(tx: Queryable, id: string, now: Date): Promise<ApprovalRow | null> {
  const { rows } = await tx.query<ApprovalRow>(
    `UPDATE approval_requests SET status = 'expired', reason = 'expired', decided_at = expires_at
      WHERE id = $1 AND status IN ('pending', 'delivered') AND expires_at <= $2
      RETURNING ${APPROVAL_COLUMNS}`,
    [id, now],
  );
  return rows[0] ?? null;
}

/** Cancels every open request of an agent (revoke, rotate, suspend; T-2). */
export async function cancelOpenForAgent(
  tx: Queryable,
  agentId: string,
  reason: ApprovalReason,
  now: Date,
): Promise<ApprovalRow[]> {
  const { rows } = await tx.query<ApprovalRow>(
    `UPDATE approval_requests SET status = 'canceled', reason = $2, decided_at = $3
      WHERE agent_id = $1 AND status IN ('pending', 'delivered')
      RETURNING ${APPROVAL_COLUMNS}`,
    [agentId, reason, now],
  );
  return rows;
}

/** Filters of the person's list. */
export interface ListFilter {
  /** `open`: pending and delivered; `closed`: everything decided; `all`. */
  readonly state: "open" | "closed" | "all";
  readonly agentId?: string;
  readonly status?: ApprovalStatus;
  /** Keyset cursor: rows strictly older than this (created_at, id). */
  readonly before?: { readonly createdAt: Date; readonly id: string };
  readonly limit: number;
  /** Now: a request past its expiry counts as closed even before the sweeper has marked it. */
  readonly now: Date;
}

/** The person's requests, newest first, one page (`limit` + 1 rows read to know if more exist). */
export async function listForUser(q: Queryable, userId: string, filter: ListFilter): Promise<ApprovalRow[]> {
  const where = ["user_id = $1"];
  const params: unknown[] = [userId];
  const add = (sql: string, ...values: unknown[]) => {
    const placeholders = values.map((value) => {
      params.push(value);
      return `$${params.length}`;
    });
    where.push(sql.replace(/\?/g, () => placeholders.shift() as string));
  };
  if (filter.state === "open") add("status IN ('pending', 'delivered') AND expires_at > ?", filter.now);
  if (filter.state === "closed") add("(status NOT IN ('pending', 'delivered') OR expires_at <= ?)", filter.now);
  if (filter.agentId !== undefined) add("agent_id = ?", filter.agentId);
  if (filter.status !== undefined) add("status = ?", filter.status);
  if (filter.before !== undefined) add("(created_at, id) < (?, ?)", filter.before.createdAt, filter.before.id);
  params.push(filter.limit + 1);
  const { rows } = await q.query<ApprovalRow>(
    `SELECT ${APPROVAL_COLUMNS} FROM approval_requests WHERE ${where.join(" AND ")}
     ORDER BY created_at DESC, id DESC LIMIT $${params.length}`,
    params,
  );
  return rows;
}

/** Deletes throttle windows and decision nonces that can no longer matter (periodic sweep). */
export async function sweepApprovalRecords(q: Queryable, now: Date): Promise<void> {
  await q.query("DELETE FROM approval_throttle_windows WHERE window_start < $1", [new Date(now.getTime() - 120_000)]);
  await q.query("DELETE FROM approval_decision_nonces WHERE expires_at <= $1", [now]);
}
