import type { Queryable } from "../db/database.ts";

/**
 * How many user data keys each key-encryption key wraps, from `user_data_keys` (migration 003).
 * `countersign keys rotate` reports from it, and an operator may remove an old KEK from the ring
 * only once it no longer appears here (DESIGN §4.9).
 *
 * @returns a map from KEK id to count, in KEK-id order; KEKs wrapping nothing are absent.
 */
export async function countDataKeysByKek(q: Queryable): Promise<Map<string, number>> {
  const { rows } = await q.query<{ kek_id: string; keys: number }>(
    "SELECT kek_id, count(*)::int AS keys FROM user_data_keys GROUP BY kek_id ORDER BY kek_id",
  );
  return new Map(rows.map((row) => [row.kek_id, row.keys]));
}
