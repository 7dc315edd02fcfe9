import { formatCheckpoint, rootHashPlan, signNote } from "@countersign/protocol";
import { type Clock, systemClock } from "../clock.ts";
import type { Database, Queryable } from "../db/database.ts";
import type { AuditLogSigner } from "./audit-log-signer.ts";
import { chainHashInPlace, toLatin1 } from "./chain-hash.ts";
import { latestCheckpoint, type StoredCheckpoint } from "./checkpoint-store.ts";
import { CompactRange, type CompletedSubtree } from "./compact-range.ts";
import { insertSubtrees, loadSubtrees } from "./merkle-store.ts";
import { previousChainHash, readEntryBatch } from "./read-entries.ts";

/**
 * Transaction-scoped advisory lock held by whoever extends the Merkle tree or purges: one
 * checkpointer at a time across every server process, and never during a purge. ("auditree" in
 * ASCII as an int8, like the migration lock's "counters" and the chain's "auditchn".)
 */
export const AUDIT_TREE_LOCK = "7022629598042154341";

/** Entries a single checkpoint run takes on at most; a backlog is signed over several runs. */
export const DEFAULT_MAX_ENTRIES_PER_CHECKPOINT = 100_000;

const READ_BATCH = 10_000;

/** When a checkpoint is due (DESIGN §4.8: every N entries or T seconds). */
export interface CheckpointPolicy {
  /** Due once this many entries are not covered by a checkpoint. */
  readonly everyEntries: number;
  /** Due once the oldest entry not covered by a checkpoint is this many seconds old. */
  readonly everySeconds: number;
}

/** Options for {@link createCheckpoint}. */
export interface CreateCheckpointOptions {
  readonly signer: AuditLogSigner;
  readonly policy: CheckpointPolicy;
  readonly clock?: Clock;
  /** Sign whatever is new now, due or not (`countersign audit checkpoint --force`, purge). */
  readonly force?: boolean;
  /** Wait for another process's run to finish instead of skipping (CLI and purge). */
  readonly wait?: boolean;
  readonly maxEntries?: number;
}

/** What a checkpoint run did. */
export type CheckpointOutcome =
  | { readonly status: "created"; readonly checkpoint: StoredCheckpoint }
  /** Another process holds the tree lock and is doing it. */
  | { readonly status: "busy" }
  /** Nothing new since the latest checkpoint (or nothing at all yet). */
  | { readonly status: "current"; readonly checkpoint: StoredCheckpoint | null }
  | { readonly status: "not_due"; readonly checkpoint: StoredCheckpoint | null };

/**
 * Extends the stored Merkle tree over the entries appended since the latest checkpoint and signs
 * a new C2SP tlog-checkpoint for it, all in one transaction, when the policy says one is due.
 *
 * Before signing it re-checks the chain over the new entries (each hash from its predecessor
 * and its bytes), so the log key never signs a chain that does not verify. Safe with any number
 * of server processes: the run holds {@link AUDIT_TREE_LOCK}, and a process that finds it taken
 * skips (`busy`) unless `wait` is set.
 *
 * @throws Error when the new entries have a gap or a hash that does not verify
 */
export async function createCheckpoint(db: Database, options: CreateCheckpointOptions): Promise<CheckpointOutcome> {
  const clock = options.clock ?? systemClock;
  const maxEntries = options.maxEntries ?? DEFAULT_MAX_ENTRIES_PER_CHECKPOINT;
  return db.transaction(async (tx) => {
    if (options.wait === true) {
      await tx.query(`SELECT pg_advisory_xact_lock(${AUDIT_TREE_LOCK})`);
    } else {
      const { rows } = await tx.query<{ locked: boolean }>(
        `SELECT pg_try_advisory_xact_lock(${AUDIT_TREE_LOCK}) AS locked`,
      );
      if (rows[0]?.locked !== true) return { status: "busy" };
    }
    const latest = await latestCheckpoint(tx);
    const size = latest?.size ?? 0;
    const { rows: heads } = await tx.query<{ next_seq: number }>("SELECT next_seq FROM audit_chain_head");
    const head = heads[0]?.next_seq ?? 0;
    if (head === size) return { status: "current", checkpoint: latest };
    if (options.force !== true && !(await isDue(tx, size, head, options.policy, clock))) {
      return { status: "not_due", checkpoint: latest };
    }
    const end = Math.min(head, size + maxEntries);
    const { root, subtrees } = await extendTree(tx, size, end);
    await insertSubtrees(tx, subtrees);
    const text = formatCheckpoint({ origin: options.signer.origin, size: end, rootHash: root });
    const note = await signNote(text, options.signer.signer);
    const createdAt = new Date(clock.now());
    await tx.query("INSERT INTO audit_checkpoints (tree_size, root_hash, note, created_at) VALUES ($1, $2, $3, $4)", [
      end,
      root,
      note,
      createdAt,
    ]);
    return { status: "created", checkpoint: { size: end, rootHash: root, note, createdAt } };
  });
}

async function isDue(q: Queryable, size: number, head: number, policy: CheckpointPolicy, clock: Clock) {
  if (head - size >= policy.everyEntries) return true;
  // The oldest entry no checkpoint covers yet is entry `size`.
  const { rows } = await q.query<{ occurred_at: Date }>("SELECT occurred_at FROM audit_log WHERE seq = $1", [size]);
  const oldest = rows[0]?.occurred_at;
  return oldest !== undefined && clock.now() - oldest.getTime() >= policy.everySeconds * 1000;
}

/** Verifies entries [size, end) against the chain and returns the new subtrees and root. */
async function extendTree(q: Queryable, size: number, end: number) {
  const start = await previousChainHash(q, size);
  if (start === null) throw new Error(`cannot extend the audit tree: the entry before seq ${size} is missing`);
  let prev = toLatin1(start);
  const range = new CompactRange(size, await frontierAt(q, size));
  const subtrees: CompletedSubtree[] = [];
  const collect = (subtree: CompletedSubtree) => subtrees.push(subtree);
  let expected = size;
  while (expected < end) {
    const batch = await readEntryBatch(q, expected, Math.min(READ_BATCH, end - expected));
    if (batch.count === 0) throw new Error(`refusing to sign the audit log: entry ${expected} is missing`);
    const { hashes, entries } = batch;
    const hashView = new Uint8Array(hashes.buffer, hashes.byteOffset, hashes.length);
    const entryView = new Uint8Array(entries.buffer, entries.byteOffset, entries.length);
    for (let i = 0; i < batch.count; i++) {
      const seq = batch.seq[i] as number;
      if (seq !== expected) throw new Error(`refusing to sign the audit log: entry ${expected} is missing`);
      const at = batch.hashAt[i] as number;
      const entryAt = batch.entryAt[i] as number;
      const stored = hashes.toString("latin1", at, at + 32);
      const end = entryAt + (batch.entryLength[i] as number);
      if (chainHashInPlace(prev, seq, entries, entryView, entryAt, end) !== stored) {
        throw new Error(`refusing to sign the audit log: entry ${seq} does not match its hash`);
      }
      range.appendLeafInput(hashView.subarray(at - 1, at + 32), collect);
      prev = stored;
      expected += 1;
    }
  }
  return { root: range.root(), subtrees };
}

/** The stored perfect subtrees of [0, size), largest first. */
export async function frontierAt(q: Queryable, size: number): Promise<Uint8Array[]> {
  const plan = rootHashPlan(size);
  const lookup = await loadSubtrees(q, plan);
  return plan.map(({ level, index }) => lookup(level, index));
}
