import { CountersignError, type SubtreeCoordinate, type SubtreeLookup } from "@countersign/protocol";
import type { Queryable } from "../db/database.ts";
import type { CompletedSubtree } from "./compact-range.ts";

/** Rows per INSERT when storing subtrees: large enough to amortize, small enough for PGlite. */
const INSERT_CHUNK = 5_000;

/**
 * Fetches the stored perfect subtrees a proof plan lists, in ONE query (an index lookup per
 * coordinate), and returns a lookup for the protocol's proof builders. The lookup throws
 * `internal_error` for a coordinate the query did not return: the plan asked for it, so the tree
 * is missing a node it should have.
 */
export async function loadSubtrees(q: Queryable, plan: readonly SubtreeCoordinate[]): Promise<SubtreeLookup> {
  const found = new Map<string, Uint8Array>();
  if (plan.length > 0) {
    // unnest drives a nested loop over the primary key: O(plan) index probes, never a scan.
    const { rows } = await q.query<{ level: number; idx: number; hash: Uint8Array }>(
      `SELECT n.level, n.idx, n.hash
         FROM unnest($1::int2[], $2::int8[]) AS c (level, idx)
         JOIN audit_merkle_nodes n ON n.level = c.level AND n.idx = c.idx`,
      [plan.map((c) => c.level), plan.map((c) => c.index)],
    );
    for (const row of rows) found.set(`${row.level}/${row.idx}`, row.hash);
  }
  return (level, index) => {
    const hash = found.get(`${level}/${index}`);
    if (hash === undefined) {
      throw new CountersignError("internal_error", {
        cause: new Error(`the audit Merkle tree has no node at level ${level}, index ${index}`),
      });
    }
    return hash;
  };
}

/** Stores completed perfect subtrees (write-once rows; a repeated coordinate fails on the key). */
export async function insertSubtrees(q: Queryable, subtrees: readonly CompletedSubtree[]): Promise<void> {
  for (let start = 0; start < subtrees.length; start += INSERT_CHUNK) {
    const chunk = subtrees.slice(start, start + INSERT_CHUNK);
    await q.query(
      "INSERT INTO audit_merkle_nodes (level, idx, hash) SELECT * FROM unnest($1::int2[], $2::int8[], $3::bytea[])",
      [chunk.map((s) => s.level), chunk.map((s) => s.index), chunk.map((s) => s.hash)],
    );
  }
}
