import type { Queryable } from "../db/database.ts";
import { createTickBatcher, createTickBatcherPer } from "../db/tick-batcher.ts";

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
export async function claimIdempotencyKey(db: Queryable, input: IdempotencyClaimInput): Promise<IdempotencyClaim> {
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

/** What {@link claimIdempotencyKey} takes for one key. */
export type IdempotencyClaimInput = IdempotencyKeyRef & {
  requestHash: string;
  nowMs: number;
  ttlSeconds: number;
  leaseSeconds: number;
};

/**
 * {@link claimIdempotencyKey} for many concurrent requests at once: the fresh keys of one turn of
 * the event loop are claimed by one INSERT (one commit), one statement at a time (group commit),
 * with the same take-over rules per row (an expired record; an abandoned claim of the same request
 * past its lease). A key the INSERT did not take — a replay, a mismatch, a holder still running,
 * or the same key twice in one batch — is then settled alone by {@link claimIdempotencyKey}, which
 * reads the record: the batch only speeds up the common case of a new key.
 */
export function createBatchedIdempotencyClaim(
  db: Queryable,
): (input: IdempotencyClaimInput) => Promise<IdempotencyClaim> {
  const batched = createTickBatcher<IdempotencyClaimInput, boolean>(
    async (inputs) => {
      const seen = new Set<string>();
      const firsts = inputs.map((input) => {
        const id = `${input.agentId}\n${input.key}`;
        if (seen.has(id)) return false;
        seen.add(id);
        return true;
      });
      const batch = inputs.filter((_, i) => firsts[i]);
      // One lease for the whole server (IDEMPOTENCY_LEASE_SECONDS); a batch never mixes two.
      const leaseSeconds = batch[0]?.leaseSeconds ?? 0;
      if (batch.some((input) => input.leaseSeconds !== leaseSeconds)) throw new Error("one lease per batch");
      const { rows } = await db.query<{ agent_id: string; idempotency_key: string }>(
        `INSERT INTO agent_idempotency_keys (agent_id, idempotency_key, request_hash, state, started_at, expires_at)
         SELECT a, k, h, 'in_progress', s, e
           FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::timestamptz[]) AS t (a, k, h, s, e)
         ON CONFLICT (agent_id, idempotency_key) DO UPDATE
           SET request_hash = EXCLUDED.request_hash, state = 'in_progress', response_status = NULL,
               response_type = NULL, response_body = NULL, started_at = EXCLUDED.started_at,
               expires_at = EXCLUDED.expires_at
           WHERE agent_idempotency_keys.expires_at <= EXCLUDED.started_at
              OR (agent_idempotency_keys.state = 'in_progress'
                  AND agent_idempotency_keys.started_at <= EXCLUDED.started_at - make_interval(secs => $6)
                  AND agent_idempotency_keys.request_hash = EXCLUDED.request_hash)
         RETURNING agent_id, idempotency_key`,
        [
          batch.map((input) => input.agentId),
          batch.map((input) => input.key),
          batch.map((input) => input.requestHash),
          batch.map((input) => new Date(input.nowMs).toISOString()),
          batch.map((input) => new Date(input.nowMs + input.ttlSeconds * 1000).toISOString()),
          leaseSeconds,
        ],
      );
      const claimed = new Set(rows.map((row) => `${row.agent_id}\n${row.idempotency_key}`));
      return inputs.map((input, i) => firsts[i] === true && claimed.has(`${input.agentId}\n${input.key}`));
    },
    { maxInFlight: 1 },
  );
  return async (input) => ((await batched(input)) ? { kind: "claimed" } : claimIdempotencyKey(db, input));
}

/** Stores the response of a claimed request, to be replayed for the rest of the key's life. */
export async function completeIdempotencyKey(db: Queryable, ref: IdempotencyCompletion): Promise<void> {
  await db.query(
    `UPDATE agent_idempotency_keys
        SET state = 'completed', response_status = $3, response_type = $4, response_body = $5
      WHERE agent_id = $1 AND idempotency_key = $2 AND state = 'in_progress'`,
    [ref.agentId, ref.key, ref.status, ref.contentType, ref.body],
  );
}

/** What {@link completeIdempotencyKey} stores for one key. */
export type IdempotencyCompletion = IdempotencyKeyRef & { status: number; contentType: string; body: string };

/**
 * {@link completeIdempotencyKey} for many concurrent requests at once: the responses stored in
 * one turn of the event loop go in one UPDATE (one commit), one statement at a time, like the
 * nonces (group commit). Each caller resolves once its response is stored, so a retry that
 * arrives after the answer was sent still finds it. A key is held by one request at a time, so
 * a batch never names a key twice.
 */
export function createBatchedIdempotencyCompletion(db: Queryable): (input: IdempotencyCompletion) => Promise<void> {
  return createTickBatcher<IdempotencyCompletion, void>((inputs) => completeIdempotencyKeys(db, inputs), {
    maxInFlight: 1,
  });
}

/**
 * Stores a response inside the transaction `tx` that makes the change it reports, so the two
 * commit together (or neither does); the completions of one turn in one transaction share a
 * statement. For a request whose whole effect is that transaction (an approval's creation): no
 * crash can leave the change committed and its key still held, which a retry would run again.
 */
export const completeIdempotencyKeyWithin: (tx: Queryable, input: IdempotencyCompletion) => Promise<void> =
  createTickBatcherPer(completeIdempotencyKeys, { gather: "microtasks" });

async function completeIdempotencyKeys(q: Queryable, inputs: readonly IdempotencyCompletion[]): Promise<undefined[]> {
  await q.query(
    `UPDATE agent_idempotency_keys AS k
        SET state = 'completed', response_status = v.status, response_type = v.type, response_body = v.body
       FROM unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::text[])
            AS v (agent_id, idempotency_key, status, type, body)
      WHERE k.agent_id = v.agent_id AND k.idempotency_key = v.idempotency_key AND k.state = 'in_progress'`,
    [
      inputs.map((input) => input.agentId),
      inputs.map((input) => input.key),
      inputs.map((input) => input.status),
      inputs.map((input) => input.contentType),
      inputs.map((input) => input.body),
    ],
  );
  return inputs.map(() => undefined);
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
