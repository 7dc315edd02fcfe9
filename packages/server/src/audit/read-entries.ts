import type { Queryable } from "../db/database.ts";
import { GENESIS_HASH } from "./chain-hash.ts";

/**
 * A batch of stored entries as two buffers and parallel arrays of offsets: no object per entry,
 * which at a million entries is what the garbage collector would otherwise spend its time on.
 *
 * The buffers are laid out so that the hashes can be computed in place, without copying:
 * `hashes[hashAt[i] - 1]` is 0x00, so `hashes[hashAt[i] - 1, hashAt[i] + 32)` is the RFC 9162
 * leaf-hash input `0x00 ‖ chain hash`; and the {@link CHAIN_PREFIX_BYTES} bytes before each entry
 * are free, for the caller to fill with `prev ‖ int64be(seq)` and hash the chain input in place.
 */
export interface EntryBatch {
  readonly count: number;
  readonly seq: Float64Array;
  /** Holds each entry's 32-byte chain hash, at `hashAt[i]`, each preceded by a 0x00 byte. */
  readonly hashes: Buffer;
  readonly hashAt: Uint32Array;
  /** Holds each entry's canonical bytes, at `entryAt[i]`, `entryLength[i]` bytes long. */
  readonly entries: Buffer;
  readonly entryAt: Uint32Array;
  readonly entryLength: Uint32Array;
}

/** Free bytes before each entry in {@link EntryBatch.entries}: room for `prev(32) ‖ seq(8)`. */
export const CHAIN_PREFIX_BYTES = 40;

/** How {@link readEntryBatch} has PostgreSQL ship the entries. */
export type EntryTransfer =
  /**
   * The entries as UTF-8 text (they are UTF-8 JSON: the query columns' constraint parses every
   * one), which costs the server a fraction of base64. A stored entry that is not valid UTF-8 —
   * possible only by editing the data files, or with that constraint dropped — makes the query
   * fail; fall back to "base64" then.
   */
  | "text"
  /** Everything base64: slower, works whatever the bytes are. */
  | "base64";

const TWO_TO_32 = 2 ** 32;
const HEADER = 45; // int8 seq ‖ int4 length ‖ 0x00 ‖ 32-byte hash
const EMPTY: EntryBatch = {
  count: 0,
  seq: new Float64Array(0),
  hashes: Buffer.alloc(0),
  hashAt: new Uint32Array(0),
  entries: Buffer.alloc(0),
  entryAt: new Uint32Array(0),
  entryLength: new Uint32Array(0),
};

// The two aggregates read the same rows in the same (subquery) order. An ORDER BY inside them
// would sort again, spilling to disk at this size; the order is checked below all the same.
const PAGE = "FROM (SELECT seq, entry, hash FROM audit_log WHERE seq >= $1 ORDER BY seq LIMIT $2) AS page";
const HEADERS = `encode(string_agg(int8send(seq) || int4send(length(entry)) || '\\x00'::bytea || hash, ''::bytea), 'base64') AS headers`;
const GAP_TEXT = " ".repeat(CHAIN_PREFIX_BYTES);
const GAP_BYTES = `'\\x${"00".repeat(CHAIN_PREFIX_BYTES)}'::bytea`;
// The gaps are string_agg's separator, which costs the server no extra copy of each entry; the
// first entry's gap, which no separator precedes, is added here.
const QUERIES: Record<EntryTransfer, string> = {
  text: `SELECT ${HEADERS}, string_agg(convert_from(entry, 'UTF8'), '${GAP_TEXT}') AS entries, count(*)::int AS count ${PAGE}`,
  base64: `SELECT ${HEADERS}, encode(string_agg(entry, ${GAP_BYTES}), 'base64') AS entries, count(*)::int AS count ${PAGE}`,
};

/**
 * Reads up to `limit` entries with `seq >= fromSeq`, in order. PostgreSQL packs the batch into two
 * values (the fixed-size headers, and all the entries back to back), so the client decodes two
 * values instead of thousands of rows: the hot path of `audit verify` and of the checkpointer.
 */
export async function readEntryBatch(
  q: Queryable,
  fromSeq: number,
  limit: number,
  transfer: EntryTransfer = "base64",
): Promise<EntryBatch> {
  const { rows } = await q.query<{ headers: string | null; entries: string | null; count: number }>(QUERIES[transfer], [
    fromSeq,
    limit,
  ]);
  const row = rows[0];
  const count = row?.count ?? 0;
  if (row === undefined || row.headers === null || row.entries === null || count === 0) return EMPTY;
  // encode() breaks base64 into lines of 76 characters; Buffer's decoder skips the newlines.
  const hashes = Buffer.from(row.headers, "base64");
  const encoding = transfer === "text" ? "utf8" : "base64";
  // byteLength is exact for UTF-8 and an upper bound for base64 (it does not discount the line
  // breaks): keep what was written.
  const room = Buffer.alloc(CHAIN_PREFIX_BYTES + Buffer.byteLength(row.entries, encoding));
  const entries = room.subarray(0, CHAIN_PREFIX_BYTES + room.write(row.entries, CHAIN_PREFIX_BYTES, encoding));
  if (hashes.length !== count * HEADER) throw new Error("the audit entry batch is malformed");
  const batch: EntryBatch = {
    count,
    seq: new Float64Array(count),
    hashes,
    hashAt: new Uint32Array(count),
    entries,
    entryAt: new Uint32Array(count),
    entryLength: new Uint32Array(count),
  };
  let entryAt = 0;
  let ordered = true;
  for (let i = 0; i < count; i++) {
    const offset = i * HEADER;
    const seq = hashes.readUInt32BE(offset) * TWO_TO_32 + hashes.readUInt32BE(offset + 4);
    const length = hashes.readUInt32BE(offset + 8);
    batch.seq[i] = seq;
    batch.hashAt[i] = offset + 13;
    entryAt += CHAIN_PREFIX_BYTES;
    batch.entryAt[i] = entryAt;
    batch.entryLength[i] = length;
    if (i > 0 && (batch.seq[i - 1] as number) >= seq) ordered = false;
    entryAt += length;
  }
  if (entryAt !== entries.length) throw new Error("the audit entry batch is malformed");
  return ordered ? batch : sorted(batch);
}

/** The batch in seq order (PostgreSQL keeps the subquery's order in practice; this is the fallback). */
function sorted(batch: EntryBatch): EntryBatch {
  const order = Array.from({ length: batch.count }, (_, i) => i).sort(
    (a, b) => (batch.seq[a] as number) - (batch.seq[b] as number),
  );
  return {
    ...batch,
    seq: Float64Array.from(order, (i) => batch.seq[i] as number),
    hashAt: Uint32Array.from(order, (i) => batch.hashAt[i] as number),
    entryAt: Uint32Array.from(order, (i) => batch.entryAt[i] as number),
    entryLength: Uint32Array.from(order, (i) => batch.entryLength[i] as number),
  };
}

/**
 * The chain hash entry `seq` builds on: the genesis hash for 0, else the stored hash of entry
 * seq − 1, or — when a purge removed it — the hash its anchor recorded. Null when none of these
 * exist (the log has a gap there).
 */
export async function previousChainHash(q: Queryable, seq: number): Promise<Uint8Array | null> {
  if (seq === 0) return GENESIS_HASH;
  const { rows } = await q.query<{ hash: Uint8Array }>(
    `SELECT hash FROM audit_log WHERE seq = $1
     UNION ALL
     SELECT prev_hash FROM audit_anchors WHERE seq = $2
     LIMIT 1`,
    [seq - 1, seq],
  );
  return rows[0]?.hash ?? null;
}
