import type { Queryable } from "../db/database.ts";

/**
 * Deletes expired email codes, tickets and WebAuthn challenges (they are refused when read in
 * any case; this only bounds how long they stay on disk), and the data keys of sign-ups that
 * were never finished: a sign-up ticket seals the address under a data key made for an account
 * that does not exist yet. Returns how many rows went.
 */
export async function sweepExpiredTokens(q: Queryable, now: Date): Promise<number> {
  let removed = 0;
  for (const table of ["email_codes", "webauthn_challenges"]) {
    removed += (await q.query(`DELETE FROM ${table} WHERE expires_at <= $1`, [now])).rowCount;
  }
  const { rows } = await q.query<{ tickets: number; keys: number }>(
    `WITH gone AS (DELETE FROM auth_tickets WHERE expires_at <= $1 RETURNING purpose, user_id),
          keys AS (
            DELETE FROM user_data_keys k USING gone
            WHERE gone.purpose = 'signup' AND k.user_id = gone.user_id
              AND NOT EXISTS (SELECT 1 FROM users u WHERE u.id = gone.user_id)
            RETURNING 1)
     SELECT (SELECT count(*) FROM gone)::int AS tickets, (SELECT count(*) FROM keys)::int AS keys`,
    [now],
  );
  return removed + (rows[0]?.tickets ?? 0) + (rows[0]?.keys ?? 0);
}
