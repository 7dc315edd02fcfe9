import type { Queryable } from "../db/database.ts";

/** What claiming an Idempotency-Key found. */
export type IdempotencyClaim =
  /** The key is this request's now: run it, then complete or release the key. */
  | { readonly kind: "claimed" }
  /** The same request already ran: send its response again. */
  | { readonly kind: "replay"; readonly status: number; readonly contentType: string; readonly body: string }
  /** The key was used with a different request. */
  | { readonly kind: "mismatch" }
  /** The same request holds the key and is still running (a concurrent duplicate). */
  | { readonly kind: "in_progress" };

/** What identifies one claim. */
export interface IdempotencyKeyRef {
  readonly agentId: string;
  readonly key: string;
}

interface StoredKey {
  request_hash: string;
  state: "in_progress" | "completed";
  response_status: number | null;
  response_type: string | null;
  response_body: string | null;
}

/**
 * Claims `(agent, key)` for a request in one statement: a new key is inserted; an expired one,
 * or one whose holder has held it past `leaseSeconds` without finishing (a process that died),
 * is taken over. Concurrent claims race on the primary key, so exactly one of them runs.
 * Otherwise the stored record says whether this is a replay, a mismatch, or still running.
 */
export async function claimIdempotencyKey(
  db: Queryable,
  input: IdempotencyKeyRef & { requestHash: string; nowMs: number; ttlSeconds: number; leaseSeconds: number },
): Promise<IdempotencyClaim> {
  const now = new Date(input.nowMs);
  // A row deleted between the insert and the read (a holder that failed and released the key)
  // makes the read come back empty; claiming again then succeeds or finds the new holder.
  for (let attempt = 0; attempt < 3; attempt++) {
    const claimed = await db.query(
      `INSERT INTO agent_idempotency_keys (agent_id, idempotency_key, request_hash, state, started_at, expires_at)
       VALUES ($1, $2, $3, 'in_progress', $4, $5)
       ON CONFLICT (agent_id, idempotency_key) DO UPDATE
         SET request_hash = EXCLUDED.request_hash, state = 'in_progress', response_status = NULL,
             response_type = NULL, response_body = NULL, started_at = EXCLUDED.started_at,
             expires_at = EXCLUDED.expires_at
         WHERE agent_idempotency_keys.expires_at <= $4
            OR (agent_idempotency_keys.state = 'in_progress' AND agent_idempotency_keys.started_at <= $6
                AND agent_idempotency_keys.request_hash = EXCLUDED.request_hash)
       RETURNING 1`,
      [
        input.agentId,
        input.key,
        input.requestHash,
        now,
        new Date(input.nowMs + input.ttlSeconds * 1000),
        new Date(input.nowMs - input.leaseSeconds * 1000),
      ],
    );
    if (claimed.rowCount === 1) return { kind: "claimed" };
    const { rows } = await db.query<StoredKey>(
      `SELECT request_hash, state, response_status, response_type, response_body
         FROM agent_idempotency_keys WHERE agent_id = $1 AND idempotency_key = $2`,
      [input.agentId, input.key],
    );
    const row = rows[0];
    if (row === undefined) continue;
    if (row.request_hash !== input.requestHash) return { kind: "mismatch" };
    if (row.state === "in_progress" || row.response_status === null) return { kind: "in_progress" };
    return {
      kind: "replay",
      status: row.response_status,
      contentType: row.response_type ?? "application/json; charset=utf-8",
      body: row.response_body ?? "",
    };
  }
  return { kind: "in_progress" };
}

/** Stores the response of a claimed request, to be replayed for the rest of the key's life. */
export async function completeIdempotencyKey(
  db: Queryable,
  ref: IdempotencyKeyRef & { status: number; contentType: string; body: string },
): Promise<void> {
  await db.query(
    `UPDATE agent_idempotency_keys
        SET state = 'completed', response_status = $3, response_type = $4, response_body = $5
      WHERE agent_id = $1 AND idempotency_key = $2 AND state = 'in_progress'`,
    [ref.agentId, ref.key, ref.status, ref.contentType, ref.body],
  );
}

/** Gives a claimed key back (the request failed on the server's side), so a retry runs it. */
export async function releaseIdempotencyKey(db: Queryable, ref: IdempotencyKeyRef): Promise<void> {
  await db.query(
    "DELETE FROM agent_idempotency_keys WHERE agent_id = $1 AND idempotency_key = $2 AND state = 'in_progress'",
    [ref.agentId, ref.key],
  );
}

/** Deletes expired records; returns how many. Run periodically by the server. */
export async function sweepExpiredIdempotencyKeys(db: Queryable, nowMs: number): Promise<number> {
  const result = await db.query("DELETE FROM agent_idempotency_keys WHERE expires_at <= $1", [new Date(nowMs)]);
  return result.rowCount;
}
