import { type HashFunction, sha256 } from "../crypto/sha2.ts";
import { assertBytes } from "../encoding/bytes.ts";
import { CountersignError } from "../errors/countersign-error.ts";
import { buildConsistencyProof, buildInclusionProof, rootHashFrom } from "./build-proof.ts";
import { hashProfile } from "./merkle-hash.ts";
import { assertTreeSize } from "./proof-ranges.ts";

/** Hashes per level to allocate at first; each level then doubles as it fills. */
const INITIAL_CAPACITY = 64;

/**
 * An in-memory RFC 9162 Merkle tree for tests, auditors and the CLI.
 *
 * It stores exactly what the server persists: the hash of every perfect aligned subtree, one flat
 * byte array per level (level k holds ⌊size / 2^k⌋ hashes), about 2·size hashes in all. A perfect
 * subtree never changes once complete, so the root and proofs of any earlier size come from the
 * same arrays, through the same plan-and-lookup builders the server uses.
 *
 * Appending costs one leaf copy and, amortised, one node hash; roots and proofs cost O(log size).
 *
 * @example
 * ```ts
 * const tree = new MerkleTree();
 * for (const entry of entries) tree.append(leafHash(entry));
 * const proof = tree.inclusionProof(3);
 * verifyInclusion(leafHash(entries[3]), 3, tree.size, proof, tree.rootHash()); // true
 * ```
 */
export class MerkleTree {
  readonly #hash: HashFunction;
  readonly #length: number;
  // One flat buffer per level; #counts[k] hashes of level k are filled.
  readonly #levels: Uint8Array[] = [];
  readonly #counts: number[] = [];
  readonly #scratch: Uint8Array;

  /** @param hash - the hash function; SHA-256 unless a faster equivalent is injected */
  constructor(hash: HashFunction = sha256) {
    this.#hash = hash;
    this.#length = hashProfile(hash).length;
    this.#scratch = new Uint8Array(1 + 2 * this.#length);
    this.#scratch[0] = 0x01; // RFC 9162 §2.1.1 interior-node prefix.
  }

  /** The number of leaves appended so far. */
  get size(): number {
    return this.#counts[0] ?? 0;
  }

  /**
   * Appends one leaf hash (`leafHash(entry)`) and completes the perfect subtrees it closes.
   *
   * @returns the new leaf's index
   */
  append(leafHash: Uint8Array): number {
    assertBytes(leafHash, "leafHash", this.#length);
    const index = this.size;
    this.#push(0, leafHash);
    // Leaf `index` closes one perfect subtree per trailing one bit of `index`: each level's newest
    // pair of hashes becomes its parent.
    let level = 0;
    while ((this.#counts[level] as number) % 2 === 0) {
      const count = this.#counts[level] as number;
      const buffer = this.#levels[level] as Uint8Array;
      const len = this.#length;
      this.#scratch.set(buffer.subarray((count - 2) * len, count * len), 1);
      this.#push(level + 1, this.#hash(this.#scratch));
      level++;
    }
    return index;
  }

  /**
   * The stored hash of the perfect subtree over leaves [index·2^level, (index+1)·2^level): a
   * {@link SubtreeLookup} for the plan-based builders. Returns a copy.
   *
   * @throws CountersignError `audit_index_out_of_range` when that subtree is not complete yet
   */
  subtreeHash(level: number, index: number): Uint8Array {
    const count = this.#counts[level];
    if (count === undefined || !Number.isSafeInteger(index) || index < 0 || index >= count) {
      throw new CountersignError("audit_index_out_of_range", {
        details: { reason: "no such complete subtree", level, index },
      });
    }
    const len = this.#length;
    return (this.#levels[level] as Uint8Array).slice(index * len, (index + 1) * len);
  }

  /**
   * The root hash of the tree at `size` leaves (default: now). The empty tree's root is `HASH()`.
   *
   * @throws CountersignError `audit_index_out_of_range` when size exceeds the current size
   */
  rootHash(size: number = this.size): Uint8Array {
    this.#assertSize(size);
    return rootHashFrom(size, this.#lookup, this.#hash);
  }

  /**
   * The inclusion proof of leaf `index` in the tree at `size` leaves (default: now), RFC 9162
   * §2.1.3.1.
   *
   * @throws CountersignError `audit_index_out_of_range` unless index < size ≤ this.size
   */
  inclusionProof(index: number, size: number = this.size): Uint8Array[] {
    this.#assertSize(size);
    return buildInclusionProof(index, size, this.#lookup, this.#hash);
  }

  /**
   * The consistency proof from the tree at `oldSize` leaves to the tree at `newSize` leaves
   * (default: now), RFC 9162 §2.1.4.1.
   *
   * @throws CountersignError `audit_index_out_of_range` unless 0 < oldSize ≤ newSize ≤ this.size
   */
  consistencyProof(oldSize: number, newSize: number = this.size): Uint8Array[] {
    this.#assertSize(newSize);
    return buildConsistencyProof(oldSize, newSize, this.#lookup, this.#hash);
  }

  readonly #lookup = (level: number, index: number): Uint8Array => this.subtreeHash(level, index);

  #assertSize(size: number): void {
    assertTreeSize(size);
    if (size > this.size) {
      throw new CountersignError("audit_index_out_of_range", {
        details: { reason: "tree size exceeds the number of leaves" },
      });
    }
  }

  #push(level: number, hash: Uint8Array): void {
    const len = this.#length;
    const count = this.#counts[level] ?? 0;
    let buffer = this.#levels[level] ?? new Uint8Array(INITIAL_CAPACITY * len);
    if ((count + 1) * len > buffer.length) {
      const grown = new Uint8Array(buffer.length * 2);
      grown.set(buffer);
      buffer = grown;
    }
    buffer.set(hash, count * len);
    this.#levels[level] = buffer;
    this.#counts[level] = count + 1;
  }
}
