import { leafHash, type NoteVerifier } from "@countersign/protocol";
import type { Database, Queryable } from "../db/database.ts";
import { type AuditVerifyReport, ProblemLog } from "./audit-verify-report.ts";
import { chainHashInPlace, equalBytes, fromLatin1, GENESIS_HASH, toLatin1 } from "./chain-hash.ts";
import { checkAuditSchema } from "./check-audit-schema.ts";
import { listCheckpoints } from "./checkpoint-store.ts";
import { CompactRange } from "./compact-range.ts";
import { frontierAt } from "./create-checkpoint.ts";
import { nodeSha256 } from "./node-sha256.ts";
import { type EntryTransfer, readEntryBatch } from "./read-entries.ts";
import { type CheckedCheckpoint, checkCheckpointSignatures, checkStoredTree } from "./verify-checkpoints.ts";

/** Options for {@link verifyAuditLog}. */
export interface VerifyAuditLogOptions {
  /** The keys checkpoints must be signed by: the log's, or the one an auditor pinned. */
  readonly verifiers: readonly NoteVerifier[];
  /** The origin every checkpoint must name. */
  readonly origin: string;
  /** Entries per query (default 20,000). */
  readonly batchSize?: number;
  /** Called after each batch with the number of entries verified so far. */
  readonly onProgress?: (verified: number) => void;
}

interface Anchor {
  seq: number;
  prev_hash: Uint8Array;
  frontier: Uint8Array;
  purged_before: Date;
}

// JCS sorts "v" after every other member of a version-1 entry, so it ends with exactly these
// bytes; anything else is another version (or not an entry) and is reported.
const V1_SUFFIX = Buffer.from(`,"v":1}`);

/**
 * Verifies the whole audit log (DESIGN §4.8) in one consistent snapshot and reports every
 * problem, naming the first bad entry:
 *
 * 1. every checkpoint is signed by a trusted key, names the origin and matches its row;
 * 2. the stored Merkle tree reproduces every checkpoint, and consecutive checkpoints are
 *    consistent (RFC 9162 §2.1.4) — this holds even for checkpoints over purged entries;
 * 3. the entries, from genesis or from the latest purge's anchor, have no gaps, and each hash is
 *    SHA-256(previous hash ‖ int64be(seq) ‖ entry);
 * 4. the Merkle tree recomputed from the entries' hashes gives the signed root of every
 *    checkpoint they cover, the latest included;
 * 5. the chain head agrees with the last entry, and no checkpoint covers entries that are gone;
 * 6. every write-once and chain trigger is in place and enabled, and the constraint that holds
 *    the query columns to the entry is in place and validated.
 *
 * Entries stream in batches of 20,000 (one value per batch, see `readEntryBatch`) and are hashed
 * with node:crypto, the next batch's query running while the current one is hashed.
 */
export async function verifyAuditLog(db: Database, options: VerifyAuditLogOptions): Promise<AuditVerifyReport> {
  try {
    return await verifyOnce(db, options, "text");
  } catch (error) {
    // An entry that is not UTF-8 cannot travel as text; that is a finding, not a crash.
    if (!isEncodingError(error)) throw error;
    return verifyOnce(db, options, "base64");
  }
}

function isEncodingError(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return code === "22021" || code === "22P05";
}

async function verifyOnce(
  db: Database,
  options: VerifyAuditLogOptions,
  transfer: EntryTransfer,
): Promise<AuditVerifyReport> {
  const started = performance.now();
  return db.transaction(async (tx) => {
    // One snapshot for every query: appends that commit meanwhile are simply not seen.
    await tx.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY");
    const problems = new ProblemLog();
    const { rows: heads } = await tx.query<{ next_seq: number; last_hash: Uint8Array }>(
      "SELECT next_seq, last_hash FROM audit_chain_head",
    );
    const head = heads[0] ?? { next_seq: 0, last_hash: GENESIS_HASH };
    const { rows: bounds } = await tx.query<{ min: number | null }>("SELECT min(seq) AS min FROM audit_log");
    const minSeq = bounds[0]?.min ?? null;
    const { rows: anchors } = await tx.query<Anchor>(
      "SELECT seq, prev_hash, frontier, purged_before FROM audit_anchors ORDER BY seq",
    );

    await checkAuditSchema(tx, problems);
    const stored = await listCheckpoints(tx);
    const checkpoints = await checkCheckpointSignatures(stored, options.verifiers, options.origin, problems);
    await checkStoredTree(tx, checkpoints, problems);

    const start = await startingPoint(tx, minSeq, head.next_seq, anchors, problems);
    const walk = await walkChain(tx, start, checkpoints, problems, options, transfer);

    const end = walk.expected;
    if (minSeq !== null && end < head.next_seq) {
      problems.add({
        kind: "gap",
        seq: end,
        message: `entries ${end} … ${head.next_seq - 1} are missing at the end: the chain head counts ${head.next_seq} entries`,
      });
    } else if (end > head.next_seq) {
      problems.add({
        kind: "head",
        seq: head.next_seq,
        message: `the log holds entries from seq ${head.next_seq} on, past the chain head`,
      });
    } else if (walk.prev !== null && !equalBytes(walk.prev, head.last_hash)) {
      problems.add({
        kind: "head",
        seq: end - 1,
        message: `the chain head's hash differs from entry ${end - 1}'s hash`,
      });
    }
    for (const checkpoint of checkpoints) {
      if (checkpoint.size > end) {
        problems.add({
          kind: "checkpoint",
          seq: end,
          checkpointSize: checkpoint.size,
          message: `the checkpoint for ${checkpoint.size} entries covers entries from seq ${end} on, which are not in the log`,
        });
      }
    }

    const anchor = start.anchor;
    return {
      ok: problems.count === 0,
      firstBadSeq: problems.firstBadSeq,
      startSeq: start.seq,
      anchor: anchor === null ? null : { seq: anchor.seq, purgedBefore: anchor.purged_before },
      entriesVerified: walk.verified,
      lastSeq: walk.verified === 0 ? null : end - 1,
      headNextSeq: head.next_seq,
      checkpoints: checkpoints.length,
      latestCheckpointSize: checkpoints.at(-1)?.size ?? null,
      problems: problems.problems,
      omittedProblems: problems.omitted,
      durationMs: performance.now() - started,
    };
  });
}

interface StartingPoint {
  seq: number;
  /** The hash entry `seq` builds on; null when unknown (a gap with no anchor). */
  prev: Uint8Array | null;
  /** The Merkle tree of the first `seq` leaves; null when it cannot be known. */
  range: CompactRange | null;
  anchor: Anchor | null;
}

/** Genesis, or the purge anchor where the remaining entries begin. */
async function startingPoint(
  q: Queryable,
  minSeq: number | null,
  headNextSeq: number,
  anchors: readonly Anchor[],
  problems: ProblemLog,
): Promise<StartingPoint> {
  if (minSeq === null || minSeq === 0) {
    if (minSeq === null && headNextSeq > 0) {
      const purged = anchors.at(-1)?.seq ?? 0;
      problems.add({
        kind: "gap",
        seq: purged,
        message: `the log is empty but the chain head counts ${headNextSeq} entries: entries ${purged} … ${headNextSeq - 1} are missing`,
      });
    }
    return { seq: 0, prev: GENESIS_HASH, range: new CompactRange(), anchor: null };
  }
  const anchor = anchors.find((candidate) => candidate.seq === minSeq);
  if (anchor === undefined) {
    const from = anchors.filter((candidate) => candidate.seq < minSeq).at(-1)?.seq ?? 0;
    problems.add({
      kind: "gap",
      seq: from,
      message: `entries ${from} … ${minSeq - 1} are missing and no purge anchor records their removal`,
    });
    return { seq: minSeq, prev: null, range: null, anchor: null };
  }
  // The anchor must agree with the signed tree: its previous hash is leaf seq − 1 and its frontier
  // is the stored tree's left part (which the checkpoint checks tie to signed roots).
  let range: CompactRange | null = null;
  try {
    const pieces: Uint8Array[] = [];
    for (let offset = 0; offset < anchor.frontier.length; offset += 32) {
      pieces.push(anchor.frontier.subarray(offset, offset + 32));
    }
    range = new CompactRange(anchor.seq, pieces);
    const stored = await frontierAt(q, anchor.seq);
    const leaf = (
      await q.query<{ hash: Uint8Array }>("SELECT hash FROM audit_merkle_nodes WHERE level = 0 AND idx = $1", [
        anchor.seq - 1,
      ])
    ).rows[0]?.hash;
    const agrees =
      stored.length === pieces.length &&
      stored.every((piece, i) => equalBytes(piece, pieces[i] as Uint8Array)) &&
      leaf !== undefined &&
      equalBytes(leafHash(anchor.prev_hash, nodeSha256), leaf);
    if (!agrees) throw new Error("mismatch");
  } catch {
    problems.add({
      kind: "anchor",
      seq: anchor.seq,
      message: `the purge anchor at seq ${anchor.seq} does not match the signed Merkle tree`,
    });
  }
  return { seq: anchor.seq, prev: anchor.prev_hash, range, anchor };
}

/** Streams the entries from the starting point, checking the chain and the checkpoints it covers. */
async function walkChain(
  q: Queryable,
  start: StartingPoint,
  checkpoints: readonly CheckedCheckpoint[],
  problems: ProblemLog,
  options: VerifyAuditLogOptions,
  transfer: EntryTransfer,
): Promise<{ expected: number; prev: Uint8Array | null; verified: number }> {
  const batchSize = options.batchSize ?? 20_000;
  let range = start.range;
  // Hashes travel as latin1 strings in this loop (see chainHashInPlace): no allocation per byte
  // array, and comparison is `===`.
  let prev = start.prev === null ? null : toLatin1(start.prev);
  let expected = start.seq;
  let verified = 0;
  // Checkpoints at or below the start cover purged entries: the stored-tree checks cover them.
  let next = checkpoints.findIndex((checkpoint) => checkpoint.size > start.seq);
  if (next < 0) next = checkpoints.length;
  const roots = checkpoints.map((checkpoint) => toLatin1(checkpoint.root));
  const mismatches: CheckedCheckpoint[] = [];

  // Ask for the next batch before hashing this one, so the database works meanwhile. (A failed
  // read is reported by the await; the catch only keeps a prefetch nobody awaits from being an
  // unhandled rejection.)
  const read = (from: number) => {
    const batch = readEntryBatch(q, from, batchSize, transfer);
    batch.catch(() => {});
    return batch;
  };
  let pending = read(start.seq);
  for (;;) {
    const batch = await pending;
    if (batch.count === batchSize) pending = read((batch.seq[batch.count - 1] as number) + 1);
    const { hashes, entries } = batch;
    const hashView = new Uint8Array(hashes.buffer, hashes.byteOffset, hashes.length);
    const entryView = new Uint8Array(entries.buffer, entries.byteOffset, entries.length);
    for (let i = 0; i < batch.count; i++) {
      const seq = batch.seq[i] as number;
      const at = batch.hashAt[i] as number;
      const entryAt = batch.entryAt[i] as number;
      const entryEnd = entryAt + (batch.entryLength[i] as number);
      if (seq !== expected) {
        problems.add({ kind: "gap", seq: expected, message: `entries ${expected} … ${seq - 1} are missing` });
        // Past a gap the chain cannot link and the tree cannot be rebuilt; keep checking the rest.
        prev = null;
        range = null;
        expected = seq;
      }
      const stored = hashes.toString("latin1", at, at + 32);
      if (prev !== null && chainHashInPlace(prev, seq, entries, entryView, entryAt, entryEnd) !== stored) {
        problems.add({
          kind: "hash",
          seq,
          message: `entry ${seq} does not match its hash: its bytes, its hash or the previous entry's hash were changed`,
        });
      }
      if (!endsWithV1(entries, entryAt, entryEnd)) {
        problems.add({ kind: "entry", seq, message: `entry ${seq} is not a version-1 entry` });
      }
      if (range !== null) {
        range.appendLeafInput(hashView.subarray(at - 1, at + 32));
        while (next < checkpoints.length && (checkpoints[next] as CheckedCheckpoint).size === range.size) {
          if (range.rootLatin1() !== roots[next]) mismatches.push(checkpoints[next] as CheckedCheckpoint);
          next += 1;
        }
      }
      // Go on from the stored hash, so one edited entry is one problem, not a cascade.
      prev = stored;
      expected += 1;
      verified += 1;
    }
    options.onProgress?.(verified);
    if (batch.count < batchSize) break;
  }
  for (const checkpoint of mismatches) {
    const rewritten = await firstRewrittenEntry(q, start.seq, checkpoint.size);
    problems.add({
      kind: "checkpoint",
      ...(rewritten === null ? {} : { seq: rewritten }),
      checkpointSize: checkpoint.size,
      message:
        `the entries do not reproduce the signed root of the checkpoint for ${checkpoint.size} entries: ` +
        (rewritten === null
          ? "they were changed after it was signed"
          : `entry ${rewritten} was rewritten after it was signed`),
    });
  }
  return { expected, prev: prev === null ? null : fromLatin1(prev), verified };
}

/**
 * The first entry in [from, to) whose hash is not the leaf the signed tree holds: after a
 * consistent rewrite of the chain (every later hash recomputed) this is where the history was
 * changed. The stored leaves are tied to the signed roots by `checkStoredTree`.
 */
async function firstRewrittenEntry(q: Queryable, from: number, to: number): Promise<number | null> {
  const { rows } = await q.query<{ seq: number }>(
    `SELECT l.seq FROM audit_log l
       LEFT JOIN audit_merkle_nodes n ON n.level = 0 AND n.idx = l.seq
      WHERE l.seq >= $1 AND l.seq < $2 AND n.hash IS DISTINCT FROM sha256('\\x00'::bytea || l.hash)
      ORDER BY l.seq LIMIT 1`,
    [from, to],
  );
  return rows[0]?.seq ?? null;
}

function endsWithV1(bytes: Buffer, start: number, end: number): boolean {
  if (end - start < V1_SUFFIX.length) return false;
  for (let i = 1; i <= V1_SUFFIX.length; i++) {
    if (bytes[end - i] !== V1_SUFFIX[V1_SUFFIX.length - i]) return false;
  }
  return true;
}
