import {
  buildConsistencyProof,
  buildInclusionProof,
  CountersignError,
  consistencyProofPlan,
  inclusionProofPlan,
} from "@countersign/protocol";
import type { Queryable } from "../db/database.ts";
import { latestCheckpoint } from "./checkpoint-store.ts";
import { loadSubtrees } from "./merkle-store.ts";
import { nodeSha256 } from "./node-sha256.ts";

/** An RFC 9162 §2.1.3 inclusion proof of one entry. */
export interface AuditInclusionProof {
  readonly index: number;
  readonly treeSize: number;
  /** The entry's chain hash — the Merkle leaf's data — or null when a purge removed the entry. */
  readonly entryHash: Uint8Array | null;
  /** The audit path, from the leaf's sibling upwards. */
  readonly proof: Uint8Array[];
}

/** An RFC 9162 §2.1.4 consistency proof between two tree sizes. */
export interface AuditConsistencyProof {
  readonly from: number;
  readonly to: number;
  readonly proof: Uint8Array[];
}

/**
 * Proves that entry `index` is in the tree of `size` entries (default: the latest checkpoint's
 * size), from the stored perfect subtrees: one query for O(log n) nodes plus one for the entry's
 * hash (and one for the latest size when `size` is omitted).
 *
 * @throws CountersignError `audit_index_out_of_range` unless 0 ≤ index < size ≤ the latest
 *   checkpoint's size
 */
export async function proveInclusion(q: Queryable, index: number, size?: number): Promise<AuditInclusionProof> {
  const treeSize = await resolveSize(q, size);
  if (!Number.isSafeInteger(index) || index < 0 || index >= treeSize) {
    throw new CountersignError("audit_index_out_of_range", {
      details: { reason: "the index must be below the tree size", tree_size: treeSize },
    });
  }
  const plan = inclusionProofPlan(index, treeSize);
  const [lookup, entry] = await Promise.all([
    loadSubtrees(q, plan),
    q.query<{ hash: Uint8Array }>("SELECT hash FROM audit_log WHERE seq = $1", [index]),
  ]);
  return {
    index,
    treeSize,
    entryHash: entry.rows[0]?.hash ?? null,
    proof: buildInclusionProof(index, treeSize, lookup, nodeSha256),
  };
}

/**
 * Proves that the tree of `to` entries (default: the latest checkpoint's size) extends the tree
 * of `from` entries, from the stored perfect subtrees in one query.
 *
 * @throws CountersignError `audit_index_out_of_range` unless 0 < from ≤ to ≤ the latest
 *   checkpoint's size
 */
export async function proveConsistency(q: Queryable, from: number, to?: number): Promise<AuditConsistencyProof> {
  const treeSize = await resolveSize(q, to);
  if (!Number.isSafeInteger(from) || from < 1 || from > treeSize) {
    throw new CountersignError("audit_index_out_of_range", {
      details: { reason: "from must be from 1 to the newer tree size", tree_size: treeSize },
    });
  }
  const plan = consistencyProofPlan(from, treeSize);
  const lookup = await loadSubtrees(q, plan);
  return { from, to: treeSize, proof: buildConsistencyProof(from, treeSize, lookup, nodeSha256) };
}

// The stored tree reaches exactly the latest checkpoint (both are written in one transaction).
async function resolveSize(q: Queryable, size: number | undefined): Promise<number> {
  const latest = await latestCheckpoint(q);
  const treeSize = latest?.size ?? 0;
  const wanted = size ?? treeSize;
  if (!Number.isSafeInteger(wanted) || wanted < 1 || wanted > treeSize) {
    throw new CountersignError("audit_index_out_of_range", {
      details: { reason: "the tree size must be from 1 to the latest checkpoint's size", tree_size: treeSize },
    });
  }
  return wanted;
}
