import type { Queryable } from "../db/database.ts";

/** A signed checkpoint as stored in `audit_checkpoints`. */
export interface StoredCheckpoint {
  readonly size: number;
  readonly rootHash: Uint8Array;
  /** The signed note (C2SP signed-note over C2SP tlog-checkpoint text), exactly as served. */
  readonly note: string;
  readonly createdAt: Date;
}

interface CheckpointRow {
  tree_size: number;
  root_hash: Uint8Array;
  note: string;
  created_at: Date;
}

const COLUMNS = "tree_size, root_hash, note, created_at";

function fromRow(row: CheckpointRow): StoredCheckpoint {
  return { size: row.tree_size, rootHash: row.root_hash, note: row.note, createdAt: row.created_at };
}

/**
 * The latest checkpoint, or null before the first. Its size is also the size of the stored Merkle
 * tree: the checkpointer extends the tree and signs it in one transaction.
 */
export async function latestCheckpoint(q: Queryable): Promise<StoredCheckpoint | null> {
  const { rows } = await q.query<CheckpointRow>(
    `SELECT ${COLUMNS} FROM audit_checkpoints ORDER BY tree_size DESC LIMIT 1`,
  );
  return rows[0] === undefined ? null : fromRow(rows[0]);
}

/** The checkpoint of exactly `size` entries, if one was made. */
export async function checkpointOfSize(q: Queryable, size: number): Promise<StoredCheckpoint | null> {
  const { rows } = await q.query<CheckpointRow>(`SELECT ${COLUMNS} FROM audit_checkpoints WHERE tree_size = $1`, [
    size,
  ]);
  return rows[0] === undefined ? null : fromRow(rows[0]);
}

/** Every checkpoint, smallest first. */
export async function listCheckpoints(q: Queryable): Promise<StoredCheckpoint[]> {
  const { rows } = await q.query<CheckpointRow>(`SELECT ${COLUMNS} FROM audit_checkpoints ORDER BY tree_size`);
  return rows.map(fromRow);
}
