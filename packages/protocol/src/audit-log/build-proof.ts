import { type HashFunction, sha256 } from "../crypto/sha2.ts";
import { assertBytes } from "../encoding/bytes.ts";
import { hashChildren, hashProfile } from "./merkle-hash.ts";
import {
  assertConsistencySizes,
  assertLeafIndex,
  assertTreeSize,
  consistencyRanges,
  inclusionRanges,
  type LeafRange,
  perfectPieces,
} from "./proof-ranges.ts";

/**
 * Proof generation from stored perfect subtrees. A server calls the matching plan
 * (`inclusionProofPlan`, `consistencyProofPlan`, `rootHashPlan`), fetches those hashes in one
 * query, and passes a lookup over the result; the builders read exactly the planned coordinates.
 */

/**
 * Returns the stored hash of the perfect aligned subtree at (`level`, `index`): the MTH of leaves
 * [index·2^level, (index+1)·2^level). Level 0 holds the leaf hashes. It must throw, not return a
 * placeholder, when it does not hold the subtree.
 */
export type SubtreeLookup = (level: number, index: number) => Uint8Array;

// MTH of one proof range, folded right from its perfect pieces (see `perfectPieces` for why this
// equals the RFC 9162 §2.1.1 split rule).
function rangeHash(range: LeafRange, lookup: SubtreeLookup, hash: HashFunction, length: number): Uint8Array {
  // Read in plan order, then fold from the right.
  const hashes = perfectPieces(range).map(({ level, index }) => {
    const piece = lookup(level, index);
    assertBytes(piece, `subtree hash (level ${level}, index ${index})`, length);
    return piece;
  });
  // Copy so that a proof never aliases the caller's storage (new Uint8Array also copies a Buffer,
  // whose slice() would not).
  let acc: Uint8Array = new Uint8Array(hashes.pop() as Uint8Array);
  while (hashes.length > 0) acc = hashChildren(hashes.pop() as Uint8Array, acc, hash);
  return acc;
}

/**
 * Builds the inclusion proof (audit path) of leaf `index` in the tree of `size` leaves, RFC 9162
 * §2.1.3.1, from stored perfect subtrees: O(log size) lookups, all listed by
 * `inclusionProofPlan(index, size)`.
 *
 * @param lookup - stored perfect-subtree hashes
 * @param hash - the hash function the tree was built with; SHA-256 by default
 * @returns the proof hashes, from the leaf's sibling up to the root's child
 * @throws CountersignError `audit_index_out_of_range` unless 0 ≤ index < size
 */
export function buildInclusionProof(
  index: number,
  size: number,
  lookup: SubtreeLookup,
  hash: HashFunction = sha256,
): Uint8Array[] {
  assertLeafIndex(index, size);
  const { length } = hashProfile(hash);
  return inclusionRanges(index, size).map((range) => rangeHash(range, lookup, hash, length));
}

/**
 * Builds the consistency proof between the trees of `oldSize` and `newSize` leaves, RFC 9162
 * §2.1.4.1, from stored perfect subtrees: O(log newSize) lookups, all listed by
 * `consistencyProofPlan(oldSize, newSize)`. Equal sizes give the empty proof.
 *
 * @param lookup - stored perfect-subtree hashes
 * @param hash - the hash function the tree was built with; SHA-256 by default
 * @throws CountersignError `audit_index_out_of_range` unless 0 < oldSize ≤ newSize (or both are 0)
 */
export function buildConsistencyProof(
  oldSize: number,
  newSize: number,
  lookup: SubtreeLookup,
  hash: HashFunction = sha256,
): Uint8Array[] {
  assertConsistencySizes(oldSize, newSize);
  if (oldSize === newSize) return [];
  const { length } = hashProfile(hash);
  return consistencyRanges(oldSize, newSize).map((range) => rangeHash(range, lookup, hash, length));
}

/**
 * The root hash of the tree of `size` leaves, from the perfect subtrees listed by
 * `rootHashPlan(size)` (at most ⌈log₂ size⌉ lookups). The empty tree's root is `HASH()`
 * (RFC 9162 §2.1.1).
 *
 * @throws CountersignError `audit_index_out_of_range` unless size is a non-negative safe integer
 */
export function rootHashFrom(size: number, lookup: SubtreeLookup, hash: HashFunction = sha256): Uint8Array {
  assertTreeSize(size);
  const { empty, length } = hashProfile(hash);
  if (size === 0) return empty.slice();
  return rangeHash({ start: 0, end: size }, lookup, hash, length);
}
