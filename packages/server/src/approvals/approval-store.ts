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
}

/**
 * Inserts a request unless one is already open for the same (user, agent, action type): the
 * partial unique index makes in-flight suppression race-free (T-1). Null when another won.
 */
export async function insertApproval(tx: Queryable, a: NewApproval): Promise<ApprovalRow | null> {
  const { rows } = await tx.query<ApprovalRow>(
    `INSERT INTO approval_requests (id, user_id, agent_id, agent_credentials_version, auth_mode, action_type, status,
       sealed, display_payload_hash, ttl_seconds, callback_url, created_at, expires_at, e2e_account_key_id)
     VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7, $8, $9, $10, $11, $12, $13)
     ON CONFLICT (user_id, agent_id, action_type) WHERE status IN ('pending', 'delivered') DO NOTHING
     RETURNING ${APPROVAL_COLUMNS}`,
    [
      a.id,
      a.userId,
      a.agentId,
      a.agentCredentialsVersion,
      a.authMode,
      a.actionType,
      a.sealed,
      a.displayPayloadHash,
      a.ttlSeconds,
      a.callbackUrl,
      a.createdAt,
      a.expiresAt,
      a.e2eAccountKeyId,
    ],
  );
  return rows[0] ?? null;
}

/**
 * {@link insertApproval} for the creations of a group commit: the requests inserted on one
 * transaction in one turn go in one INSERT, each with the outcome it would have had alone. Rows
 * go in in (user, agent, action type) order, the order every batch uses, so two batches racing
 * to open the same requests wait on each other in one order and cannot deadlock; of two in one
 * turn for the same (user, agent, action type), the first is inserted and the second gets null.
 */
export const insertApprovalInTurn: (tx: Queryable, approval: NewApproval) => Promise<ApprovalRow | null> =
  createTickBatcherPer(insertApprovals);

async function insertApprovals(tx: Queryable, approvals: readonly NewApproval[]): Promise<(ApprovalRow | null)[]> {
  if (approvals.length === 1) return [await insertApproval(tx, approvals[0] as NewApproval)];
  const key = (a: NewApproval) => `${a.userId}\n${a.agentId}\n${a.actionType}`;
  // Stable: two for the same key keep the order they were asked in.
  const batch = [...approvals].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  const column = <V>(of: (a: NewApproval) => V) => batch.map(of);
  const { rows } = await tx.query<ApprovalRow>(
    `INSERT INTO approval_requests (id, user_id, agent_id, agent_credentials_version, auth_mode, action_type, status,
       sealed, display_payload_hash, ttl_seconds, callback_url, created_at, expires_at, e2e_account_key_id)
     SELECT id, user_id, agent_id, version, auth_mode, action_type, 'pending', sealed, hash, ttl, callback_url,
            created_at, expires_at, e2e_key
       FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::text[], $6::text[], $7::text[], $8::text[],
                   $9::int[], $10::text[], $11::timestamptz[], $12::timestamptz[], $13::text[])
            WITH ORDINALITY AS t (id, user_id, agent_id, version, auth_mode, action_type, sealed, hash, ttl,
                                  callback_url, created_at, expires_at, e2e_key, position)
      ORDER BY position
     ON CONFLICT (user_id, agent_id, action_type) WHERE status IN ('pending', 'delivered') DO NOTHING
     RETURNING ${APPROVAL_COLUMNS}`,
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
    ],
  );
  const inserted = new Map(rows.map((row) => [row.id, row]));
  return approvals.map((a) => inserted.get(a.id) ?? null);
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
const endInTurn = createTickBatcherPer(endApprovals);

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

/**
 * Counts one creation against the agent's and the person's current one-minute windows (T-1
 * throttles) and returns both counts. In the creating transaction, so a request that is refused
 * or rolled back counts nothing.
 *
 * The creations a group commit counts in one turn (their late steps run together) share one
 * statement: each gets the counts it would have got counting alone, in the order it asked.
 *
 * The person's row is locked before the agent's: creations are grouped into transactions sorted
 * by (person, agent), so every transaction takes these locks in one global order and two of them
 * cannot deadlock on them.
 */
export function countCreation(
  tx: Queryable,
  scopes: { agent: string; user: string },
  windowStart: Date,
): Promise<{ agent: number; user: number }> {
  return countInTurn(tx, { scopes, windowStart });
}

interface CreationCount {
  readonly scopes: { readonly agent: string; readonly user: string };
  readonly windowStart: Date;
}

// Per transaction, so only creations sharing one batch share their counting.
const countInTurn = createTickBatcherPer(countCreations);

async function countCreations(
  tx: Queryable,
  inputs: readonly CreationCount[],
): Promise<{ agent: number; user: number }[]> {
  // Each window row once, with how many of these creations count in it, in the order the
  // creations lock them (person, then agent, creation by creation).
  const increments = new Map<string, { scope: string; windowStart: Date; n: number }>();
  const add = (scope: string, windowStart: Date) => {
    const key = `${scope}\n${windowStart.toISOString()}`;
    const entry = increments.get(key);
    if (entry === undefined) increments.set(key, { scope, windowStart, n: 1 });
    else entry.n += 1;
    return key;
  };
  const keys = inputs.map((input) => ({
    user: add(input.scopes.user, input.windowStart),
    agent: add(input.scopes.agent, input.windowStart),
  }));
  const rows = [...increments.values()];
  const { rows: totals } = await tx.query<{ scope: string; window_start: Date; count: number }>(
    `INSERT INTO approval_throttle_windows (scope, window_start, count)
     SELECT scope, window_start, n
       FROM unnest($1::text[], $2::timestamptz[], $3::int[]) WITH ORDINALITY AS t (scope, window_start, n, position)
      ORDER BY position
     ON CONFLICT (scope, window_start) DO UPDATE SET count = approval_throttle_windows.count + EXCLUDED.count
     RETURNING scope, window_start, count`,
    [rows.map((row) => row.scope), rows.map((row) => row.windowStart.toISOString()), rows.map((row) => row.n)],
  );
  // The total after this statement, less the increments of this batch's later creations: what
  // each creation would have read counting alone, one after another.
  const after = new Map(totals.map((row) => [`${row.scope}\n${row.window_start.toISOString()}`, row.count]));
  const seen = new Map<string, number>();
  const countOf = (key: string) => {
    const nth = (seen.get(key) ?? 0) + 1;
    seen.set(key, nth);
    return (after.get(key) ?? 0) - (increments.get(key)?.n ?? 0) + nth;
  };
  return keys.map((key) => {
    const user = countOf(key.user);
    return { user, agent: countOf(key.agent) };
  });
}

/** Deletes throttle windows and decision nonces that can no longer matter (periodic sweep). */
export async function sweepApprovalRecords(q: Queryable, now: Date): Promise<void> {
  await q.query("DELETE FROM approval_throttle_windows WHERE window_start < $1", [new Date(now.getTime() - 120_000)]);
  await q.query("DELETE FROM approval_decision_nonces WHERE expires_at <= $1", [now]);
}
