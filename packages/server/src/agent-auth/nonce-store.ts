import type { Queryable } from "../db/database.ts";

/**
 * Records a (key id, nonce) pair and reports whether it was fresh, in one statement: a live row
 * makes the insert a no-op, and an expired row is taken over. Concurrent requests with the same
 * nonce race on the primary key, so exactly one of them wins.
 */
export async function consumeNonce(
  db: Queryable,
  input: { keyId: string; nonce: string; nowMs: number; ttlSeconds: number },
): Promise<boolean> {
  const now = new Date(input.nowMs);
  const expiresAt = new Date(input.nowMs + input.ttlSeconds * 1000);
  const result = await db.query(
    `INSERT INTO agent_request_nonces (key_id, nonce, expires_at) VALUES ($1, $2, $3)
     ON CONFLICT (key_id, nonce) DO UPDATE SET expires_at = EXCLUDED.expires_at
       WHERE agent_request_nonces.expires_at <= $4
     RETURNING 1`,
    [input.keyId, input.nonce, expiresAt, now],
  );
  return result.rowCount === 1;
}

/** Deletes expired nonces; returns how many. Run periodically by the server. */
export async function sweepExpiredNonces(db: Queryable, nowMs: number): Promise<number> {
  const result = await db.query("DELETE FROM agent_request_nonces WHERE expires_at <= $1", [new Date(nowMs)]);
  return result.rowCount;
}
