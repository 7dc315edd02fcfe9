import { hash } from "node:crypto";
import { nodeSha256 } from "./node-sha256.ts";

/** Length of every chain hash: SHA-256. */
export const CHAIN_HASH_BYTES = 32;

/** The "previous hash" of entry 0: 32 zero bytes (docs/audit-log.md "The chain"). */
export const GENESIS_HASH: Uint8Array = new Uint8Array(CHAIN_HASH_BYTES);

const TWO_TO_32 = 2 ** 32;

// One reusable input buffer: the chain hash runs once per entry in `audit verify` and in the
// checkpointer, and hashing is synchronous, so nothing else can use the buffer in between.
let scratch = Buffer.alloc(4_096);
// The same memory as a plain Uint8Array: its subarray() is much cheaper than a Buffer's.
let scratchView = new Uint8Array(scratch.buffer, scratch.byteOffset, scratch.length);

function input(length: number): Buffer {
  if (scratch.length < length) {
    scratch = Buffer.alloc(Math.max(length, scratch.length * 2));
    scratchView = new Uint8Array(scratch.buffer, scratch.byteOffset, scratch.length);
  }
  return scratch;
}

/**
 * The chain hash of entry `seq` (DESIGN §4.8): `SHA-256(prev ‖ int64be(seq) ‖ entry)`, exactly
 * what the database computes in `audit_log_chain` as `sha256(last_hash || int8send(seq) || entry)`.
 * The sequence number is bound in so that an entry moved to another position no longer verifies.
 *
 * @param prev - the chain hash of entry seq − 1, or {@link GENESIS_HASH} for entry 0
 * @param entry - the entry's canonical bytes
 */
export function chainHash(prev: Uint8Array, seq: number, entry: Uint8Array): Uint8Array {
  if (prev.length !== CHAIN_HASH_BYTES) throw new TypeError("prev must be 32 bytes");
  if (!Number.isSafeInteger(seq) || seq < 0) throw new TypeError("seq must be a non-negative safe integer");
  const length = CHAIN_HASH_BYTES + 8 + entry.length;
  const buffer = input(length);
  buffer.set(prev, 0);
  writeSeq(buffer, seq);
  buffer.set(entry, CHAIN_HASH_BYTES + 8);
  return nodeSha256(scratchView.subarray(0, length));
}

/**
 * {@link chainHash} for the hot loops, computed in place: `entries[at − 40, at)` must be free
 * (see `readEntryBatch`), and receives `prev ‖ int64be(seq)` so that the chain input is hashed
 * where it lies, without copying the entry. Hashes are latin1 strings (one character per byte):
 * node:crypto returns a string far faster than a Buffer, and strings compare with `===`.
 *
 * @param view - the same memory as `entries`, as a plain Uint8Array (cheap to slice)
 */
export function chainHashInPlace(
  prev: string,
  seq: number,
  entries: Buffer,
  view: Uint8Array,
  at: number,
  end: number,
): string {
  const start = at - CHAIN_HASH_BYTES - 8;
  entries.write(prev, start, CHAIN_HASH_BYTES, "latin1");
  entries.writeUInt32BE(Math.floor(seq / TWO_TO_32), at - 8);
  entries.writeUInt32BE(seq % TWO_TO_32, at - 4);
  return hash("sha256", view.subarray(start, end), "binary");
}

/** The sequence number as PostgreSQL's `int8send` writes it: 8 bytes, big-endian. */
function writeSeq(buffer: Buffer, seq: number): void {
  buffer.writeUInt32BE(Math.floor(seq / TWO_TO_32), CHAIN_HASH_BYTES);
  buffer.writeUInt32BE(seq % TWO_TO_32, CHAIN_HASH_BYTES + 4);
}

/** Whether two byte strings are equal. For public values (hashes), so not constant-time. */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);
}

/** A hash as a latin1 string (see {@link chainHashInPlace}). */
export function toLatin1(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1");
}

/** A latin1 string hash as a plain Uint8Array (what the database layer returns for bytea). */
export function fromLatin1(text: string): Uint8Array {
  const bytes = new Uint8Array(text.length);
  Buffer.from(bytes.buffer).write(text, "latin1");
  return bytes;
}
