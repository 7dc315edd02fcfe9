import { concatBytes } from "@countersign/protocol";
import { type Clock, systemClock } from "../clock.ts";
import type { Database } from "../db/database.ts";
import type { AuditLog } from "./audit-log.ts";
import type { AuditLogSigner } from "./audit-log-signer.ts";
import { latestCheckpoint } from "./checkpoint-store.ts";
import { AUDIT_TREE_LOCK, type CheckpointPolicy, createCheckpoint, frontierAt } from "./create-checkpoint.ts";

/** Options for {@link purgeAuditLog}. */
export interface PurgeAuditLogOptions {
  /** Entries before the first entry at or after this instant are removed. */
  readonly before: Date;
  /** Appends the `audit.purged` event (its data keys are not used: the event has no context). */
  readonly audit: AuditLog;
  readonly signer: AuditLogSigner;
  readonly policy: CheckpointPolicy;
  readonly clock?: Clock;
  /** Report what would be removed without removing anything. */
  readonly dryRun?: boolean;
}

/** What a purge removed (or, in a dry run, would remove). */
export interface PurgeOutcome {
  /** Entries removed: seq `from` … `keptFrom − 1`. Zero when there was nothing to remove. */
  readonly removed: number;
  readonly from: number | null;
  /** The first entry kept: where the anchor lets verification resume. */
  readonly keptFrom: number | null;
  /** The seq of the `audit.purged` event, when entries were removed. */
  readonly eventSeq: number | null;
}

/**
 * The retention purge (DESIGN §4.8), the only code that deletes audit entries. It removes a
 * PREFIX of the log: every entry before the first entry that occurred at or after `before`
 * (entry times are not strictly ordered across concurrent writers, so "older than" alone could
 * punch holes). Steps:
 *
 * 1. sign a checkpoint over everything appended so far, so every entry to be removed is in the
 *    signed Merkle tree (whose nodes are kept, so old checkpoints and proofs stay valid);
 * 2. in ONE transaction holding the tree lock and `SET LOCAL countersign.allow_audit_purge = on`:
 *    record the anchor (first kept seq, the hash it builds on, and the tree's frontier there),
 *    delete the prefix, and append an `audit.purged` event — last, as appends must be.
 *
 * The write-once trigger refuses the DELETE without the flag, and the least-privilege
 * application role has no DELETE privilege at all: run this as the database owner.
 */
export async function purgeAuditLog(db: Database, options: PurgeAuditLogOptions): Promise<PurgeOutcome> {
  const clock = options.clock ?? systemClock;
  if (options.dryRun !== true) {
    await createCheckpoint(db, { signer: options.signer, policy: options.policy, clock, force: true, wait: true });
  }
  return db.transaction(async (tx) => {
    await tx.query(`SELECT pg_advisory_xact_lock(${AUDIT_TREE_LOCK})`);
    const treeSize = (await latestCheckpoint(tx))?.size ?? 0;
    const { rows } = await tx.query<{ first: number | null; cut: number | null }>(
      `SELECT (SELECT min(seq) FROM audit_log) AS first,
              (SELECT min(seq) FROM audit_log WHERE occurred_at >= $1) AS cut`,
      [options.before],
    );
    const first = rows[0]?.first ?? null;
    // Only signed entries may go: the tree must hold them before their rows disappear.
    const keptFrom = Math.min(rows[0]?.cut ?? treeSize, treeSize);
    if (first === null || keptFrom <= first) return { removed: 0, from: first, keptFrom: first, eventSeq: null };
    const removed = keptFrom - first;
    if (options.dryRun === true) return { removed, from: first, keptFrom, eventSeq: null };

    const { rows: previous } = await tx.query<{ hash: Uint8Array }>("SELECT hash FROM audit_log WHERE seq = $1", [
      keptFrom - 1,
    ]);
    const frontier = concatBytes(...(await frontierAt(tx, keptFrom)));
    await tx.query("SELECT set_config('countersign.allow_audit_purge', 'on', true)");
    await tx.query(
      "INSERT INTO audit_anchors (seq, prev_hash, frontier, purged_before, created_at) VALUES ($1, $2, $3, $4, $5)",
      [keptFrom, previous[0]?.hash, frontier, options.before, new Date(clock.now())],
    );
    const deleted = await tx.query("DELETE FROM audit_log WHERE seq < $1", [keptFrom]);
    if (deleted.rowCount !== removed) {
      throw new Error(
        `the audit log has gaps before seq ${keptFrom}; run \`countersign audit verify\` (nothing was purged)`,
      );
    }
    const event = await options.audit.append(tx, {
      type: "audit.purged",
      actor: { type: "operator" },
      details: {
        before: options.before.toISOString(),
        first_removed_seq: first,
        first_kept_seq: keptFrom,
        removed,
      },
    });
    return { removed, from: first, keptFrom, eventSeq: event.seq };
  });
}
