import { CountersignError } from "../errors/countersign-error.ts";
import { largestPowerOfTwoBelow } from "./merkle-hash.ts";

/**
 * Which leaf ranges a proof is made of, and which perfect subtrees make up each range. Pure index
 * arithmetic shared by the proof plans and the proof builders, so both always agree.
 *
 * Every node of the RFC 9162 §2.1.1 recursion covers a range [lo, hi) that is either
 *  - perfect: 2^k leaves starting at a multiple of 2^k (everything left of the right edge), or
 *  - a right-edge node: it ends at the tree size, and its start is a multiple of the smallest
 *    power of two ≥ its width.
 * Only right-edge nodes can be non-perfect, and they are what must be assembled from stored
 * perfect subtrees (see {@link perfectPieces}).
 */

/** A perfect aligned subtree: MTH of leaves [index·2^level, (index+1)·2^level). */
export interface SubtreeCoordinate {
  readonly level: number;
  readonly index: number;
}

/** A half-open leaf range [start, end) whose MTH is one proof element. @internal */
export interface LeafRange {
  readonly start: number;
  readonly end: number;
}

/** Whether `n` is a tree size or index this code handles exactly (0 ≤ n ≤ 2⁵³ − 1). @internal */
export function isTreeSize(n: unknown): n is number {
  return typeof n === "number" && Number.isSafeInteger(n) && n >= 0;
}

function outOfRange(detail: string): CountersignError {
  return new CountersignError("audit_index_out_of_range", { details: { reason: detail } });
}

/** Throws `audit_index_out_of_range` unless `size` is a non-negative safe integer. @internal */
export function assertTreeSize(size: number): void {
  if (!isTreeSize(size)) throw outOfRange("tree size must be a non-negative safe integer");
}

/** Throws `audit_index_out_of_range` unless 0 ≤ index < size. @internal */
export function assertLeafIndex(index: number, size: number): void {
  assertTreeSize(size);
  if (!isTreeSize(index) || index >= size) throw outOfRange("leaf index must be below the tree size");
}

/** Throws `audit_index_out_of_range` unless 0 < oldSize ≤ newSize, or both are 0. @internal */
export function assertConsistencySizes(oldSize: number, newSize: number): void {
  if (!isTreeSize(oldSize) || !isTreeSize(newSize)) {
    throw outOfRange("tree sizes must be non-negative safe integers");
  }
  if (oldSize > newSize) throw outOfRange("the old tree size must not exceed the new tree size");
  // RFC 9162 §2.1.4 defines proofs for 0 < first; every tree trivially extends the empty tree,
  // and a verifier refuses a proof from size 0, so none is generated.
  if (oldSize === 0 && newSize !== 0) throw outOfRange("no consistency proof exists from the empty tree");
}

/**
 * The leaf ranges of the inclusion proof PATH(index, D[size]) of RFC 9162 §2.1.3.1, bottom-up (the
 * order of the audit path). Requires 0 ≤ index < size. @internal
 */
export function inclusionRanges(index: number, size: number): LeafRange[] {
  const topDown: LeafRange[] = [];
  let lo = 0;
  let hi = size;
  while (hi - lo > 1) {
    const k = largestPowerOfTwoBelow(hi - lo);
    // PATH(m, D[n]) = PATH(m, D[0:k]) : MTH(D[k:n]) for m < k,
    //               = PATH(m − k, D[k:n]) : MTH(D[0:k]) otherwise.
    if (index < lo + k) {
      topDown.push({ start: lo + k, end: hi });
      hi = lo + k;
    } else {
      topDown.push({ start: lo, end: lo + k });
      lo += k;
    }
  }
  return topDown.reverse();
}

/**
 * The leaf ranges of the consistency proof PROOF(oldSize, D[newSize]) of RFC 9162 §2.1.4.1, in
 * proof order. Requires 0 < oldSize < newSize. @internal
 */
export function consistencyRanges(oldSize: number, newSize: number): LeafRange[] {
  const topDown: LeafRange[] = [];
  let lo = 0;
  let hi = newSize;
  // `b` of SUBPROOF(m, D[n], b): whether the current subtree is still the one the old root covers.
  let b = true;
  for (;;) {
    if (oldSize === hi) {
      // SUBPROOF(m, D[m], true) = {}; SUBPROOF(m, D[m], false) = {MTH(D[m])}.
      if (!b) topDown.push({ start: lo, end: hi });
      break;
    }
    const k = largestPowerOfTwoBelow(hi - lo);
    if (oldSize - lo <= k) {
      // m ≤ k: SUBPROOF(m, D[0:k], b) : MTH(D[k:n]).
      topDown.push({ start: lo + k, end: hi });
      hi = lo + k;
    } else {
      // m > k: SUBPROOF(m − k, D[k:n], false) : MTH(D[0:k]).
      topDown.push({ start: lo, end: lo + k });
      lo += k;
      b = false;
    }
  }
  return topDown.reverse();
}

/**
 * The perfect subtrees whose right fold is MTH(D[start:end]), largest first.
 *
 * Why this equals MTH (RFC 9162 §2.1.1): for a range that is a node of the tree (see the module
 * note) with width n, the split rule takes k = the largest power of two below n. If n is itself a
 * power of two, the range is perfect and stored whole. Otherwise k is n's highest set bit, the left
 * part D[start:start+k] is perfect and aligned (start is a multiple of a power of two ≥ n > k), and
 * the right part D[start+k:end] is again a right-edge node whose width has the remaining bits. By
 * induction MTH(D[start:end]) = HASH(0x01 ‖ P₁ ‖ HASH(0x01 ‖ P₂ ‖ … Pⱼ)) where P₁…Pⱼ are the
 * perfect subtrees of n's set bits from highest to lowest: at most ⌈log₂ n⌉ stored reads. @internal
 */
export function perfectPieces(range: LeafRange): SubtreeCoordinate[] {
  const pieces: SubtreeCoordinate[] = [];
  let start = range.start;
  while (start < range.end) {
    // The highest set bit of the remaining width: the whole range when it is a power of two, the
    // split point k otherwise.
    let width = 1;
    let level = 0;
    while (width * 2 <= range.end - start) {
      width *= 2;
      level++;
    }
    // Holds for every node of the recursion; a failure here is a bug in the range arithmetic.
    if (start % width !== 0) throw new Error(`range [${range.start}, ${range.end}) is not a tree node`);
    pieces.push({ level, index: start / width });
    start += width;
  }
  return pieces;
}
