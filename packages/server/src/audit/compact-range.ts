import { hash } from "node:crypto";
import { fromLatin1, toLatin1 } from "./chain-hash.ts";

/** A perfect subtree completed by an append: level 0 is the leaf itself. */
export interface CompletedSubtree {
  readonly level: number;
  readonly index: number;
  readonly hash: Uint8Array;
}

// RFC 9162 §2.1.1 domain separation: 0x00 before a leaf's data, 0x01 before two child hashes.
const leafInput = Buffer.alloc(33);
const nodeInput = Buffer.alloc(65);
leafInput[0] = 0x00;
nodeInput[0] = 0x01;
const EMPTY_ROOT = hash("sha256", new Uint8Array(0), "binary");

/**
 * The right edge of an RFC 9162 Merkle tree in O(log n) memory: the perfect subtrees covering
 * leaves [0, size), largest first, one per set bit of `size` — the same pieces, in the same
 * order, as the protocol's `rootHashPlan(size)` lists. Appending a leaf completes perfect
 * subtrees (reported, so the checkpointer can store them); the root at the current size is the
 * right fold of the pieces (RFC 9162 §2.1.1).
 *
 * The checkpointer extends the stored tree with it, `audit verify` recomputes roots from the
 * entries with it, and a purge records its pieces in the anchor. It runs once per entry on those
 * paths, so it keeps hashes as latin1 strings and hashes through reused buffers with node:crypto
 * (see `chainHashInPlace`); bytes go in and out at its edges only.
 */
export class CompactRange {
  #size: number;
  // pieces[i] covers 2^levels[i] leaves; levels strictly decrease.
  readonly #levels: number[];
  readonly #pieces: string[];

  /**
   * @param size - how many leaves the pieces cover
   * @param pieces - the perfect subtrees of [0, size), largest first (`rootHashPlan(size)` order)
   */
  constructor(size = 0, pieces: readonly Uint8Array[] = []) {
    if (!Number.isSafeInteger(size) || size < 0) throw new TypeError("size must be a non-negative safe integer");
    const levels = levelsOf(size);
    if (levels.length !== pieces.length) {
      throw new TypeError(`a tree of ${size} leaves has ${levels.length} perfect pieces, not ${pieces.length}`);
    }
    for (const piece of pieces) {
      if (!(piece instanceof Uint8Array) || piece.length !== 32) throw new TypeError("pieces must be 32-byte hashes");
    }
    this.#size = size;
    this.#levels = levels;
    this.#pieces = pieces.map(toLatin1);
  }

  /** The number of leaves covered. */
  get size(): number {
    return this.#size;
  }

  /** The pieces, largest first. */
  pieces(): Uint8Array[] {
    return this.#pieces.map(fromLatin1);
  }

  /**
   * Appends one leaf, given its 32-byte data (for the audit log: the entry's chain hash), and calls
   * `onComplete` for every perfect subtree this completes: the leaf at level 0, then each parent.
   */
  append(data: Uint8Array, onComplete?: (subtree: CompletedSubtree) => void): void {
    if (!(data instanceof Uint8Array) || data.length !== 32) throw new TypeError("leaf data must be 32 bytes");
    this.appendFrom(Buffer.from(data.buffer, data.byteOffset, data.byteLength), 0, onComplete);
  }

  /** {@link CompactRange.append} with the leaf data read from `source[start, start + 32)`. */
  appendFrom(source: Buffer, start: number, onComplete?: (subtree: CompletedSubtree) => void): void {
    source.copy(leafInput, 1, start, start + 32);
    this.appendLeafInput(leafInput, onComplete);
  }

  /**
   * {@link CompactRange.append} given the 33-byte leaf-hash input `0x00 ‖ data` itself (RFC 9162
   * §2.1.1), as `readEntryBatch` lays it out, so that nothing is copied.
   */
  appendLeafInput(input: Uint8Array, onComplete?: (subtree: CompletedSubtree) => void): void {
    let current = hash("sha256", input, "binary");
    let level = 0;
    let index = this.#size;
    onComplete?.({ level, index, hash: fromLatin1(current) });
    // Merge with equal-sized pieces on the right edge: a binary carry.
    while (this.#levels.length > 0 && this.#levels[this.#levels.length - 1] === level) {
      this.#levels.pop();
      current = nodeHash(this.#pieces.pop() as string, current);
      level += 1;
      index = Math.floor(index / 2);
      onComplete?.({ level, index, hash: fromLatin1(current) });
    }
    this.#levels.push(level);
    this.#pieces.push(current);
    this.#size += 1;
  }

  /** The Merkle tree hash at the current size; `HASH()` for the empty tree. */
  root(): Uint8Array {
    return fromLatin1(this.rootLatin1());
  }

  /** {@link CompactRange.root} as a latin1 string. */
  rootLatin1(): string {
    if (this.#pieces.length === 0) return EMPTY_ROOT;
    let acc = this.#pieces[this.#pieces.length - 1] as string;
    for (let i = this.#pieces.length - 2; i >= 0; i--) acc = nodeHash(this.#pieces[i] as string, acc);
    return acc;
  }
}

function nodeHash(left: string, right: string): string {
  nodeInput.write(left, 1, 32, "latin1");
  nodeInput.write(right, 33, 32, "latin1");
  return hash("sha256", nodeInput, "binary");
}

/** The levels of the perfect pieces of [0, size), largest first: the set bits of size. */
function levelsOf(size: number): number[] {
  const levels: number[] = [];
  let rest = size;
  for (let level = 52; level >= 0; level--) {
    const span = 2 ** level;
    if (rest >= span) {
      levels.push(level);
      rest -= span;
    }
  }
  return levels;
}
