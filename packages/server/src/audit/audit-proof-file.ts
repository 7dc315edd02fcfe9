import { fromBase64, fromUtf8, toBase64 } from "@countersign/protocol";
import type { Queryable } from "../db/database.ts";
import { proveInclusion } from "./audit-proofs.ts";
import { checkpointOfSize } from "./checkpoint-store.ts";
import { previousChainHash } from "./read-entries.ts";

/** The `format` of a proof file; a later layout gets a new name. */
export const PROOF_FILE_FORMAT = "countersign-audit-inclusion-proof/v1";

/**
 * What `countersign audit prove` prints and `countersign audit verify-proof` checks (docs/audit-log.md
 * "Proofs"): an RFC 9162 inclusion proof, the entry it proves with what its chain hash is made of,
 * and the checkpoint of the proof's tree size when the log signed one. Hashes are base64.
 */
export interface AuditProofFile {
  readonly format: typeof PROOF_FILE_FORMAT;
  readonly index: number;
  readonly tree_size: number;
  /** The entry's chain hash: the Merkle leaf's data. */
  readonly entry_hash: string;
  readonly proof: readonly string[];
  /** The entry, so a verifier can recompute entry_hash = SHA-256(prev_hash ‖ int64be(index) ‖ entry). */
  readonly entry: { readonly prev_hash: string; readonly canonical: string } | null;
  /** The signed checkpoint for tree_size entries, when one exists (informational: verify against your own). */
  readonly checkpoint: string | null;
}

/**
 * Builds the proof file for entry `index` in the tree of `size` entries (default: the latest
 * checkpoint's size).
 *
 * @throws CountersignError `audit_index_out_of_range` for an index or size outside the tree;
 *   Error when the entry was purged (only its leaf hash remains, which proves nothing readable)
 */
export async function buildProofFile(q: Queryable, index: number, size?: number): Promise<AuditProofFile> {
  const proof = await proveInclusion(q, index, size);
  const { rows } = await q.query<{ entry: Uint8Array }>("SELECT entry FROM audit_log WHERE seq = $1", [index]);
  const entry = rows[0]?.entry;
  const prev = entry === undefined ? null : await previousChainHash(q, index);
  if (proof.entryHash === null || entry === undefined || prev === null) {
    throw new Error(`entry ${index} was purged: the log can still prove its leaf, but nothing readable remains`);
  }
  const checkpoint = await checkpointOfSize(q, proof.treeSize);
  return {
    format: PROOF_FILE_FORMAT,
    index,
    tree_size: proof.treeSize,
    entry_hash: toBase64(proof.entryHash),
    proof: proof.proof.map(toBase64),
    entry: { prev_hash: toBase64(prev), canonical: fromUtf8(entry) },
    checkpoint: checkpoint?.note ?? null,
  };
}

/** A proof file read back from JSON, with its hashes decoded; null fields were absent. */
export interface ParsedProofFile {
  readonly index: number;
  readonly treeSize: number;
  readonly entryHash: Uint8Array;
  readonly proof: Uint8Array[];
  readonly entry: { readonly prevHash: Uint8Array; readonly canonical: string } | null;
}

/**
 * Parses a proof file (or the JSON of `GET /v1/audit/proofs/inclusion`, which lacks `format`,
 * `entry` and `checkpoint`). Returns a reason instead of throwing.
 */
export function parseProofFile(json: unknown): { ok: true; file: ParsedProofFile } | { ok: false; reason: string } {
  if (typeof json !== "object" || json === null) return { ok: false, reason: "the proof is not a JSON object" };
  const value = json as Record<string, unknown>;
  if (value.format !== undefined && value.format !== PROOF_FILE_FORMAT) {
    return { ok: false, reason: `unknown proof format ${JSON.stringify(value.format)}` };
  }
  const index = value.index;
  const treeSize = value.tree_size;
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(treeSize)) {
    return { ok: false, reason: "index and tree_size must be integers" };
  }
  const entryHash = typeof value.entry_hash === "string" ? fromBase64(value.entry_hash) : null;
  if (entryHash === null || entryHash.length !== 32)
    return { ok: false, reason: "entry_hash must be a base64 32-byte hash" };
  if (!Array.isArray(value.proof)) return { ok: false, reason: "proof must be an array of base64 hashes" };
  const proof: Uint8Array[] = [];
  for (const item of value.proof) {
    const hash = typeof item === "string" ? fromBase64(item) : null;
    if (hash === null || hash.length !== 32)
      return { ok: false, reason: "proof must be an array of base64 32-byte hashes" };
    proof.push(hash);
  }
  let entry: ParsedProofFile["entry"] = null;
  if (value.entry !== undefined && value.entry !== null) {
    const raw = value.entry as Record<string, unknown>;
    const prevHash = typeof raw.prev_hash === "string" ? fromBase64(raw.prev_hash) : null;
    if (prevHash === null || prevHash.length !== 32 || typeof raw.canonical !== "string") {
      return { ok: false, reason: "entry must have a base64 prev_hash and the canonical entry text" };
    }
    entry = { prevHash, canonical: raw.canonical };
  }
  return { ok: true, file: { index: index as number, treeSize: treeSize as number, entryHash, proof, entry } };
}
