import { fromBase64, toBase64 } from "../encoding/base64.ts";
import { assertBytes } from "../encoding/bytes.ts";
import { hasControlCharacter } from "./note-characters.ts";

/**
 * C2SP tlog-checkpoint (https://c2sp.org/tlog-checkpoint): the note text a log signs to commit to
 * its Merkle tree head. Sign and verify it with `signNote` / `openNote`; parse only text that
 * `openNote` returned, since unsigned text must be ignored (C2SP signed-note).
 */

/** A transparency-log tree head, as a checkpoint carries it. */
export interface Checkpoint {
  /** The log's unique identity, e.g. `countersign.example/audit`. */
  readonly origin: string;
  /** The number of leaves in the tree. */
  readonly size: number;
  /** The 32-byte RFC 6962 / RFC 9162 SHA-256 Merkle tree root at `size`. */
  readonly rootHash: Uint8Array;
  /** Opaque, non-empty extension lines (NOT RECOMMENDED by the spec; monitors cannot audit them). */
  readonly extensions?: readonly string[];
}

/** The result of {@link parseCheckpoint}. */
export type ParseCheckpointResult = { ok: true; checkpoint: Checkpoint } | { ok: false; reason: string };

const ROOT_HASH_LENGTH = 32;
// C2SP tlog-checkpoint "Note text" 2: ASCII decimal, no leading zeroes unless the tree is empty.
const DECIMAL = /^(?:0|[1-9][0-9]*)$/;

/** Whether `line` may be a checkpoint line: non-empty, well-formed Unicode, no control characters. */
function isLine(line: unknown): line is string {
  return typeof line === "string" && line !== "" && line.isWellFormed() && !hasControlCharacter(line, false);
}

/**
 * Formats the note text of a checkpoint (C2SP tlog-checkpoint "Note text"):
 * `<origin>\n<size>\n<base64 root hash>\n` followed by any extension lines, each ending in `\n`.
 *
 * @throws TypeError when the origin or an extension line is empty, contains a control character
 *   (including newline) or lone surrogate, the size is not a safe non-negative integer, or the root
 *   hash is not 32 bytes
 */
export function formatCheckpoint(checkpoint: Checkpoint): string {
  const { origin, size, rootHash, extensions = [] } = checkpoint;
  if (!isLine(origin)) throw new TypeError("origin must be a non-empty line without control characters");
  if (!Number.isSafeInteger(size) || size < 0) throw new TypeError("size must be a non-negative safe integer");
  assertBytes(rootHash, "rootHash", ROOT_HASH_LENGTH);
  if (!Array.isArray(extensions)) throw new TypeError("extensions must be an array");
  extensions.forEach((line, i) => {
    if (!isLine(line)) throw new TypeError(`extensions[${i}] must be a non-empty line without control characters`);
  });
  return [origin, String(size), toBase64(rootHash), ...extensions].map((line) => `${line}\n`).join("");
}

/**
 * Parses checkpoint note text strictly (C2SP tlog-checkpoint "Note text"). Refuses, with a reason:
 * a missing final newline, fewer than three lines, any empty line, control characters, a size that
 * is not plain decimal (signs, spaces, leading zeroes) or exceeds 2⁵³ − 1, and a root hash that is
 * not canonical padded base64 of exactly 32 bytes.
 *
 * Pass it only the `text` of a note that `openNote` verified. Never throws.
 */
export function parseCheckpoint(text: string): ParseCheckpointResult {
  if (typeof text !== "string" || !text.isWellFormed()) return { ok: false, reason: "not well-formed text" };
  if (!text.endsWith("\n")) return { ok: false, reason: "missing final newline" };
  const lines = text.slice(0, -1).split("\n");
  if (lines.length < 3) return { ok: false, reason: "fewer than three lines" };
  if (!lines.every(isLine)) return { ok: false, reason: "empty line or control character" };
  const [origin, sizeText, rootText, ...extensions] = lines as [string, string, string, ...string[]];

  if (!DECIMAL.test(sizeText)) return { ok: false, reason: "tree size is not a canonical decimal" };
  const size = Number(sizeText);
  // Checkpoint sizes are uint64; this code keeps sizes as exact JavaScript numbers.
  if (!Number.isSafeInteger(size)) return { ok: false, reason: "tree size above 2^53 - 1" };

  const rootHash = fromBase64(rootText);
  if (rootHash === null) return { ok: false, reason: "root hash is not canonical base64" };
  if (rootHash.length !== ROOT_HASH_LENGTH) return { ok: false, reason: "root hash is not 32 bytes" };

  return { ok: true, checkpoint: { origin, size, rootHash, extensions } };
}
