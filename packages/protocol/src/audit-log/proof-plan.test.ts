import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { isCountersignError } from "../errors/countersign-error.ts";
import { consistencyProofPlan, inclusionProofPlan, rootHashPlan } from "./proof-plan.ts";

const outOfRange = (e: unknown) => isCountersignError(e, "audit_index_out_of_range");
const ceilLog2 = (n: number) => {
  let bits = 0;
  while (2 ** bits < n) bits++;
  return bits;
};

describe("inclusionProofPlan", () => {
  it("lists the siblings of leaf 5 in a tree of 8 bottom-up", () => {
    assert.deepEqual(inclusionProofPlan(5, 8), [
      { level: 0, index: 4 },
      { level: 1, index: 3 },
      { level: 2, index: 0 },
    ]);
  });

  it("splits a non-perfect right sibling into its perfect pieces, largest first", () => {
    // Tree of 7: leaf 2's top-level sibling is leaves [4, 7) = [4, 6) + [6, 7).
    assert.deepEqual(inclusionProofPlan(2, 7), [
      { level: 0, index: 3 },
      { level: 1, index: 0 },
      { level: 1, index: 2 },
      { level: 0, index: 6 },
    ]);
  });

  it("is empty for the only leaf of a one-leaf tree", () => {
    assert.deepEqual(inclusionProofPlan(0, 1), []);
  });

  it("refuses indexes outside the tree", () => {
    assert.throws(() => inclusionProofPlan(8, 8), outOfRange);
    assert.throws(() => inclusionProofPlan(0, 0), outOfRange);
    assert.throws(() => inclusionProofPlan(-1, 8), outOfRange);
    assert.throws(() => inclusionProofPlan(1.5, 8), outOfRange);
    assert.throws(() => inclusionProofPlan(0, 2 ** 53), outOfRange);
  });
});

describe("consistencyProofPlan", () => {
  it("matches the nodes of the RFC 6962 reference proof from 6 to 8", () => {
    // transparency-dev/merkle consistency/2 happy path: hashes of [4,6), [6,8), [0,4).
    assert.deepEqual(consistencyProofPlan(6, 8), [
      { level: 1, index: 2 },
      { level: 1, index: 3 },
      { level: 2, index: 0 },
    ]);
  });

  it("is empty for equal sizes", () => {
    assert.deepEqual(consistencyProofPlan(8, 8), []);
    assert.deepEqual(consistencyProofPlan(0, 0), []);
  });

  it("refuses shrinking trees and proofs from the empty tree", () => {
    assert.throws(() => consistencyProofPlan(9, 8), outOfRange);
    assert.throws(() => consistencyProofPlan(0, 8), outOfRange);
    assert.throws(() => consistencyProofPlan(1, 2 ** 53), outOfRange);
    assert.throws(() => consistencyProofPlan(Number.NaN, 8), outOfRange);
  });
});

describe("rootHashPlan", () => {
  it("lists one perfect subtree per set bit of the size", () => {
    assert.deepEqual(rootHashPlan(13), [
      { level: 3, index: 0 },
      { level: 2, index: 2 },
      { level: 0, index: 12 },
    ]);
    assert.deepEqual(rootHashPlan(0), []);
    assert.equal(rootHashPlan(2 ** 53 - 1).length, 53);
  });

  it("refuses sizes that are not safe non-negative integers", () => {
    assert.throws(() => rootHashPlan(-1), outOfRange);
    assert.throws(() => rootHashPlan(2 ** 53), outOfRange);
  });
});

describe("plan properties", () => {
  const size = fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER });

  // Every coordinate names a complete perfect subtree of the tree, and the plans stay O(log n).
  const valid = (plan: { level: number; index: number }[], n: number) =>
    plan.every(
      ({ level, index }) =>
        Number.isSafeInteger(level) && level >= 0 && Number.isSafeInteger(index) && (index + 1) * 2 ** level <= n,
    );

  it("inclusion plans stay within the tree and below 2⌈log₂ n⌉ reads, up to 2⁵³ − 1 leaves", () => {
    fc.assert(
      fc.property(
        size.chain((n) => fc.tuple(fc.constant(n), fc.integer({ min: 0, max: n - 1 }))),
        ([n, i]) => {
          const plan = inclusionProofPlan(i, n);
          return valid(plan, n) && plan.length <= 2 * ceilLog2(n);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it("consistency plans stay within the tree and below 2⌈log₂ n⌉ reads, up to 2⁵³ − 1 leaves", () => {
    fc.assert(
      fc.property(
        size.chain((n) => fc.tuple(fc.integer({ min: 1, max: n }), fc.constant(n))),
        ([m, n]) => {
          const plan = consistencyProofPlan(m, n);
          const keys = new Set(plan.map(({ level, index }) => `${level}:${index}`));
          return valid(plan, n) && plan.length <= 2 * ceilLog2(n) && keys.size === plan.length;
        },
      ),
      { numRuns: 2000 },
    );
  });
});
