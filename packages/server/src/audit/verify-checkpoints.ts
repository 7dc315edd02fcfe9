import {
  buildConsistencyProof,
  consistencyProofPlan,
  type NoteVerifier,
  openNote,
  parseCheckpoint,
  rootHashFrom,
  rootHashPlan,
  type SubtreeCoordinate,
  verifyConsistency,
} from "@countersign/protocol";
import type { Queryable } from "../db/database.ts";
import type { ProblemLog } from "./audit-verify-report.ts";
import { equalBytes } from "./chain-hash.ts";
import type { StoredCheckpoint } from "./checkpoint-store.ts";
import { loadSubtrees } from "./merkle-store.ts";
import { nodeSha256 } from "./node-sha256.ts";

/** A checkpoint after its signature was checked. */
export interface CheckedCheckpoint {
  readonly size: number;
  /** The root the signature vouches for; the stored column when the signature does not hold. */
  readonly root: Uint8Array;
  readonly signed: boolean;
}

/** Checkpoints whose stored-tree checks share one query. */
const CHUNK = 64;

/**
 * Opens every checkpoint's signed note with the trusted keys (C2SP signed-note), parses its text
 * (C2SP tlog-checkpoint) and checks that it names the log's origin and says what the row says.
 */
export async function checkCheckpointSignatures(
  checkpoints: readonly StoredCheckpoint[],
  verifiers: readonly NoteVerifier[],
  origin: string,
  problems: ProblemLog,
): Promise<CheckedCheckpoint[]> {
  const checked: CheckedCheckpoint[] = [];
  for (const stored of checkpoints) {
    const size = stored.size;
    const opened = await openNote(stored.note, verifiers);
    if (!opened.ok) {
      problems.add({
        kind: "checkpoint",
        checkpointSize: size,
        message: `the checkpoint for ${size} entries is not validly signed by the log key (${opened.reason})`,
      });
      checked.push({ size, root: stored.rootHash, signed: false });
      continue;
    }
    const parsed = parseCheckpoint(opened.text);
    if (!parsed.ok) {
      problems.add({
        kind: "checkpoint",
        checkpointSize: size,
        message: `the checkpoint for ${size} entries is malformed (${parsed.reason})`,
      });
      checked.push({ size, root: stored.rootHash, signed: false });
      continue;
    }
    const { checkpoint } = parsed;
    if (checkpoint.origin !== origin) {
      problems.add({
        kind: "checkpoint",
        checkpointSize: size,
        message: `the checkpoint for ${size} entries names the origin ${JSON.stringify(checkpoint.origin)}, not ${JSON.stringify(origin)}`,
      });
    }
    if (checkpoint.size !== size || !equalBytes(checkpoint.rootHash, stored.rootHash)) {
      problems.add({
        kind: "checkpoint",
        checkpointSize: size,
        message: `the signed checkpoint says ${checkpoint.size} entries with another root than its row (size ${size})`,
      });
    }
    checked.push({ size: checkpoint.size, root: checkpoint.rootHash, signed: true });
  }
  return checked;
}

/**
 * Checks the stored Merkle tree against the checkpoints without reading a single entry, as an
 * auditor holding only checkpoints would: the stored subtrees must reproduce each checkpoint's
 * root, and the consistency proof they give between each pair of consecutive checkpoints must
 * verify (RFC 9162 §2.1.4.2). This covers checkpoints over purged entries too.
 */
export async function checkStoredTree(q: Queryable, checkpoints: readonly CheckedCheckpoint[], problems: ProblemLog) {
  for (let start = 0; start < checkpoints.length; start += CHUNK) {
    const chunk = checkpoints.slice(start, start + CHUNK);
    const before = start > 0 ? checkpoints[start - 1] : undefined;
    const plan = new Map<string, SubtreeCoordinate>();
    const add = (coordinates: SubtreeCoordinate[]) => {
      for (const c of coordinates) plan.set(`${c.level}/${c.index}`, c);
    };
    chunk.forEach((checkpoint, i) => {
      add(rootHashPlan(checkpoint.size));
      const previous = i === 0 ? before : chunk[i - 1];
      if (previous !== undefined && previous.size < checkpoint.size)
        add(consistencyProofPlan(previous.size, checkpoint.size));
    });
    const lookup = await loadSubtrees(q, [...plan.values()]);
    chunk.forEach((checkpoint, i) => {
      const previous = i === 0 ? before : chunk[i - 1];
      try {
        if (!equalBytes(rootHashFrom(checkpoint.size, lookup, nodeSha256), checkpoint.root)) {
          problems.add({
            kind: "consistency",
            checkpointSize: checkpoint.size,
            message: `the stored Merkle tree does not reproduce the root of the checkpoint for ${checkpoint.size} entries`,
          });
        }
        if (previous === undefined) return;
        const proof = buildConsistencyProof(previous.size, checkpoint.size, lookup, nodeSha256);
        if (!verifyConsistency(previous.size, checkpoint.size, proof, previous.root, checkpoint.root, nodeSha256)) {
          problems.add({
            kind: "consistency",
            checkpointSize: checkpoint.size,
            message: `the checkpoints for ${previous.size} and ${checkpoint.size} entries are not consistent: the log was rewritten between them`,
          });
        }
      } catch (error) {
        problems.add({
          kind: "consistency",
          checkpointSize: checkpoint.size,
          message: `the stored Merkle tree cannot prove the checkpoint for ${checkpoint.size} entries: ${(error as Error).cause instanceof Error ? ((error as Error).cause as Error).message : (error as Error).message}`,
        });
      }
    });
  }
}
