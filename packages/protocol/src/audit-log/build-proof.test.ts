import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { sha256 } from "../crypto/sha2.ts";
import { toHex } from "../encoding/hex.ts";
import { isCountersignError } from "../errors/countersign-error.ts";
import { buildConsistencyProof, buildInclusionProof, rootHashFrom, type SubtreeLookup } from "./build-proof.ts";
import { leafHash } from "./merkle-hash.ts";
import { MerkleTree } from "./merkle-tree.ts";
import { consistencyProofPlan, inclusionProofPlan, rootHashPlan, type SubtreeCoordinate } from "./proof-plan.ts";
import { referenceConsistency, referencePath, referenceRoot } from "./test-support/reference-merkle.ts";
import { encodeRange, structuralHash } from "./test-support/structural-hash.ts";
import { verifyConsistency } from "./verify-consistency.ts";
import { verifyInclusion } from "./verify-inclusion.ts";

const MAX_LEAVES = 300;
const leaves = Array.from({ length: MAX_LEAVES }, (_, i) => leafHash(new TextEncoder().encode(`entry ${i}`)));
const tree = new MerkleTree();
for (const leaf of leaves) tree.append(leaf);

/**
 * A lookup that serves only the planned coordinates, in the planned order, as a server's
 * one-query result would: the builder must need nothing the plan left out.
 */
function plannedLookup(plan: SubtreeCoordinate[]): { lookup: SubtreeLookup; reads: () => string[] } {
  const fetched = new Map(plan.map(({ level, index }) => [`${level}:${index}`, tree.subtreeHash(level, index)]));
  const reads: string[] = [];
  return {
    lookup: (level, index) => {
      const key = `${level}:${index}`;
      const hash = fetched.get(key);
      if (hash === undefined) throw new Error(`lookup outside the plan: ${key}`);
      reads.push(key);
      return hash;
    },
    reads: () => reads,
  };
}

const hexes = (hashes: Uint8Array[]) => hashes.map(toHex);

const sizeAndIndex = fc
  .integer({ min: 1, max: MAX_LEAVES })
  .chain((n) => fc.tuple(fc.constant(n), fc.integer({ min: 0, max: n - 1 })));
const oldAndNewSize = fc
  .integer({ min: 1, max: MAX_LEAVES })
  .chain((n) => fc.tuple(fc.integer({ min: 1, max: n }), fc.constant(n)));

function flipBit(hashes: Uint8Array[], which: number, bit: number): Uint8Array[] {
  return hashes.map((h, i) => {
    if (i !== which) return h;
    const copy = h.slice();
    copy[bit >> 3] = (copy[bit >> 3] as number) ^ (1 << (bit & 7));
    return copy;
  });
}

describe("proof generation from plan + lookup", () => {
  it("builds the RFC 9162 §2.1.3.1 inclusion proof, reading exactly the planned subtrees", () => {
    fc.assert(
      fc.property(sizeAndIndex, ([n, i]) => {
        const plan = inclusionProofPlan(i, n);
        const { lookup, reads } = plannedLookup(plan);
        const built = buildInclusionProof(i, n, lookup);
        const expected = hexes(referencePath(i, leaves.slice(0, n), sha256));
        assert.deepEqual(hexes(built), expected);
        assert.deepEqual(hexes(tree.inclusionProof(i, n)), expected);
        assert.deepEqual(
          reads(),
          plan.map(({ level, index }) => `${level}:${index}`),
        );
      }),
      { numRuns: 500 },
    );
  });

  it("builds the RFC 9162 §2.1.4.1 consistency proof, reading exactly the planned subtrees", () => {
    fc.assert(
      fc.property(oldAndNewSize, ([m, n]) => {
        const plan = consistencyProofPlan(m, n);
        const { lookup, reads } = plannedLookup(plan);
        const built = buildConsistencyProof(m, n, lookup);
        const expected = m === n ? [] : hexes(referenceConsistency(m, leaves.slice(0, n), sha256));
        assert.deepEqual(hexes(built), expected);
        assert.deepEqual(hexes(tree.consistencyProof(m, n)), expected);
        assert.equal(reads().length, plan.length);
      }),
      { numRuns: 500 },
    );
  });

  it("computes the root of any size from the planned subtrees", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: MAX_LEAVES }), (n) => {
        const { lookup, reads } = plannedLookup(rootHashPlan(n));
        assert.equal(toHex(rootHashFrom(n, lookup)), toHex(referenceRoot(leaves.slice(0, n), sha256)));
        assert.equal(reads().length, rootHashPlan(n).length);
      }),
      { numRuns: 300 },
    );
  });

  it("refuses a lookup answer of the wrong length, naming the subtree", () => {
    assert.throws(
      () => buildInclusionProof(5, 8, () => new Uint8Array(31)),
      /subtree hash \(level 0, index 4\) must be 32 bytes/,
    );
  });

  it("refuses out-of-range requests with audit_index_out_of_range", () => {
    const never: SubtreeLookup = () => {
      throw new Error("must not be called");
    };
    const outOfRange = (e: unknown) => isCountersignError(e, "audit_index_out_of_range");
    assert.throws(() => buildInclusionProof(3, 3, never), outOfRange);
    assert.throws(() => buildConsistencyProof(4, 3, never), outOfRange);
    assert.throws(() => buildConsistencyProof(0, 3, never), outOfRange);
    assert.throws(() => rootHashFrom(-1, never), outOfRange);
  });

  it("does not let a proof or root alias the lookup's storage, even a Buffer", () => {
    for (const stored of [tree.subtreeHash(0, 1), Buffer.from(tree.subtreeHash(0, 1))]) {
      const proof = buildInclusionProof(0, 2, () => stored);
      (proof[0] as Uint8Array).fill(0);
      rootHashFrom(1, () => stored).fill(0);
      assert.equal(toHex(stored), toHex(tree.subtreeHash(0, 1)));
    }
  });
});

describe("generated proofs verify, and any change breaks them", () => {
  it("inclusion: verifies, and fails for a flipped bit in the proof, leaf or root, or another index", () => {
    fc.assert(
      fc.property(sizeAndIndex, fc.nat(), fc.integer({ min: 0, max: 255 }), ([n, i], pick, bit) => {
        const proof = tree.inclusionProof(i, n);
        const root = tree.rootHash(n);
        const leaf = leaves[i] as Uint8Array;
        assert.equal(verifyInclusion(leaf, i, n, proof, root), true);
        if (proof.length > 0) {
          assert.equal(verifyInclusion(leaf, i, n, flipBit(proof, pick % proof.length, bit), root), false);
        }
        assert.equal(verifyInclusion(flipBit([leaf], 0, bit)[0] as Uint8Array, i, n, proof, root), false);
        assert.equal(verifyInclusion(leaf, i, n, proof, flipBit([root], 0, bit)[0] as Uint8Array), false);
        if (n > 1) assert.equal(verifyInclusion(leaf, (i + 1 + (pick % (n - 1))) % n, n, proof, root), false);
        assert.equal(verifyInclusion(leaf, i, n, [...proof, root], root), false);
      }),
      { numRuns: 500 },
    );
  });

  it("consistency: verifies, and fails for a flipped bit in the proof or either root", () => {
    fc.assert(
      fc.property(oldAndNewSize, fc.nat(), fc.integer({ min: 0, max: 255 }), ([m, n], pick, bit) => {
        const proof = tree.consistencyProof(m, n);
        const oldRoot = tree.rootHash(m);
        const newRoot = tree.rootHash(n);
        assert.equal(verifyConsistency(m, n, proof, oldRoot, newRoot), true);
        if (proof.length > 0) {
          assert.equal(verifyConsistency(m, n, flipBit(proof, pick % proof.length, bit), oldRoot, newRoot), false);
        }
        assert.equal(verifyConsistency(m, n, proof, flipBit([oldRoot], 0, bit)[0] as Uint8Array, newRoot), false);
        assert.equal(verifyConsistency(m, n, proof, oldRoot, flipBit([newRoot], 0, bit)[0] as Uint8Array), false);
        if (m < n) assert.equal(verifyConsistency(m, n, proof.slice(1), oldRoot, newRoot), false);
      }),
      { numRuns: 500 },
    );
  });
});

describe("proofs for trees of up to 2⁵³ − 1 leaves (structural hash, no tree built)", () => {
  // The stored subtree at (level, index) "hashes" to its leaf range; see structural-hash.ts.
  const rangeLookup: SubtreeLookup = (level, index) => encodeRange(index * 2 ** level, (index + 1) * 2 ** level);
  const bigSize = fc.oneof(
    fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
    fc.integer({ min: 31, max: 52 }).map((bits) => 2 ** bits),
    fc.integer({ min: 31, max: 52 }).map((bits) => 2 ** bits + 1),
  );

  it("builds inclusion proofs that verify, with no 32-bit truncation of indexes", () => {
    fc.assert(
      fc.property(
        bigSize.chain((n) => fc.tuple(fc.constant(n), fc.integer({ min: 0, max: n - 1 }))),
        ([n, i]) => {
          const proof = buildInclusionProof(i, n, rangeLookup, structuralHash);
          const root = rootHashFrom(n, rangeLookup, structuralHash);
          assert.deepEqual(root, encodeRange(0, n));
          assert.equal(verifyInclusion(encodeRange(i, i + 1), i, n, proof, root, structuralHash), true);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it("builds consistency proofs that verify, with no 32-bit truncation of sizes", () => {
    fc.assert(
      fc.property(
        bigSize.chain((n) => fc.tuple(fc.integer({ min: 1, max: n }), fc.constant(n))),
        ([m, n]) => {
          const proof = buildConsistencyProof(m, n, rangeLookup, structuralHash);
          const ok = verifyConsistency(m, n, proof, encodeRange(0, m), encodeRange(0, n), structuralHash);
          assert.equal(ok, true);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it("rejects a proof checked against the neighbouring leaf's position", () => {
    const n = 2 ** 40 + 12345;
    const i = 2 ** 40 - 3;
    const proof = buildInclusionProof(i, n, rangeLookup, structuralHash);
    const root = encodeRange(0, n);
    assert.equal(verifyInclusion(encodeRange(i, i + 1), i, n, proof, root, structuralHash), true);
    assert.equal(verifyInclusion(encodeRange(i, i + 1), i + 1, n, proof, root, structuralHash), false);
  });
});
