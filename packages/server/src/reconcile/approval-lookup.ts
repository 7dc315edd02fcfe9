import type { ApprovalReason, ApprovalStatus } from "../approvals/approval-row.ts";
import type { Queryable, QueryResult } from "../db/database.ts";

/** What reconciliation reads of an approval request (migration 008). */
export interface ReconcileApproval {
  readonly id: string;
  readonly user_id: string;
  readonly agent_id: string;
  readonly action_type: string;
  readonly status: ApprovalStatus;
  readonly reason: ApprovalReason | null;
  readonly display_payload_hash: string;
  readonly decided_at: Date | null;
  readonly receipt: string | null;
}

const COLUMNS = "id, user_id, agent_id, action_type, status, reason, display_payload_hash, decided_at, receipt";

/** The form of an approval request id; anything else cannot be in the table. */
export const REQUEST_ID = /^apr_[A-Za-z0-9_-]{22}$/;

/** The requests with these ids, in one query; missing ids are left out. */
export async function findApprovalsByIds(
  q: Queryable,
  ids: readonly string[],
): Promise<Map<string, ReconcileApproval>> {
  const wanted = [...new Set(ids)].filter((id) => REQUEST_ID.test(id));
  if (wanted.length === 0) return new Map();
  const { rows } = await q.query<ReconcileApproval>(
    `SELECT ${COLUMNS} FROM approval_requests WHERE id = ANY($1::text[])`,
    [wanted],
  );
  return new Map(rows.map((row) => [row.id, row]));
}

/** A window of decision times, in milliseconds; either end may be open. `until` is exclusive. */
export interface TimeWindow {
  readonly since: number | undefined;
  readonly until: number | undefined;
}

/**
 * Every request approved in `window`, in pages of `pageSize` ordered by (decided_at, id): one
 * query per page, whatever the number of action lines.
 */
export async function* approvedInWindow(
  q: Queryable,
  window: TimeWindow,
  pageSize = 1_000,
): AsyncGenerator<ReconcileApproval> {
  // The cursor is the database's own text of decided_at, so that a value finer than the
  // milliseconds a Date keeps cannot make a page start over.
  let afterDecidedAt: string | null = null;
  let afterId: string | null = null;
  for (;;) {
    const result: QueryResult<ReconcileApproval & { cursor: string }> = await q.query(
      `SELECT ${COLUMNS}, decided_at::text AS cursor FROM approval_requests
        WHERE status = 'approved'
          AND ($1::timestamptz IS NULL OR decided_at >= $1)
          AND ($2::timestamptz IS NULL OR decided_at < $2)
          AND ($3::timestamptz IS NULL OR (decided_at, id) > ($3, $4::text))
        ORDER BY decided_at, id
        LIMIT $5`,
      [
        window.since === undefined ? null : new Date(window.since),
        window.until === undefined ? null : new Date(window.until),
        afterDecidedAt,
        afterId,
        pageSize,
      ],
    );
    const rows = result.rows;
    for (const { cursor: _, ...row } of rows) yield row;
    const last: { cursor: string; id: string } | undefined = rows.at(-1);
    if (rows.length < pageSize || last === undefined) return;
    afterDecidedAt = last.cursor;
    afterId = last.id;
  }
}
