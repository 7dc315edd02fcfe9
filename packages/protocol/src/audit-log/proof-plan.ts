import {
  assertConsistencySizes,
  assertLeafIndex,
  assertTreeSize,
  consistencyRanges,
  inclusionRanges,
  type LeafRange,
  perfectPieces,
  type SubtreeCoordinate,
} from "./proof-ranges.ts";

export type { SubtreeCoordinate } from "./proof-ranges.ts";

/**
 * Proof plans: the perfect aligned subtrees a server must read to answer a request, so that it
 * can fetch them all in one query before computing anything. Each plan lists at most 2·⌈log₂ n⌉
 * coordinates, in the order the matching builder reads them, without duplicates.
 */

function piecesOf(ranges: readonly LeafRange[]): SubtreeCoordinate[] {
  // Proof ranges are disjoint, so their pieces never repeat.
  return ranges.flatMap(perfectPieces);
}

/**
 * The perfect subtrees needed to build the inclusion proof of leaf `index` in the tree of `size`
 * leaves (RFC 9162 §2.1.3.1), for {@link buildInclusionProof}.
 *
 * @throws CountersignError `audit_index_out_of_range` unless 0 ≤ index < size
 */
export function inclusionProofPlan(index: number, size: number): SubtreeCoordinate[] {
  assertLeafIndex(index, size);
  return piecesOf(inclusionRanges(index, size));
}

/**
 * The perfect subtrees needed to build the consistency proof between the trees of `oldSize` and
 * `newSize` leaves (RFC 9162 §2.1.4.1), for {@link buildConsistencyProof}. Empty when the sizes
 * are equal.
 *
 * @throws CountersignError `audit_index_out_of_range` unless 0 < oldSize ≤ newSize (or both are 0)
 */
export function consistencyProofPlan(oldSize: number, newSize: number): SubtreeCoordinate[] {
  assertConsistencySizes(oldSize, newSize);
  if (oldSize === newSize) return [];
  return piecesOf(consistencyRanges(oldSize, newSize));
}

/**
 * The perfect subtrees whose right fold is the root of the tree of `size` leaves: one per set bit
 * of `size`, largest first (RFC 9162 §2.1.1), for {@link rootHashFrom}. Empty for the empty tree.
 *
 * @throws CountersignError `audit_index_out_of_range` unless size is a non-negative safe integer
 */
export function rootHashPlan(size: number): SubtreeCoordinate[] {
  assertTreeSize(size);
  return size === 0 ? [] : perfectPieces({ start: 0, end: size });
}
