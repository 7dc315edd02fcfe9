import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { leafHash, MerkleTree, rootHashPlan, sha256, toHex } from "@countersign/protocol";
import { CompactRange, type CompletedSubtree } from "./compact-range.ts";

function leafData(i: number): Uint8Array {
  return sha256(new Uint8Array([i & 0xff, i >> 8]));
}

describe("CompactRange", () => {
  it("gives the RFC 9162 root at every size, like the protocol's reference tree", () => {
    const reference = new MerkleTree(sha256);
    const range = new CompactRange();
    assert.equal(toHex(range.root()), toHex(sha256(new Uint8Array(0))), "the empty tree's root is HASH()");
    for (let i = 0; i < 130; i++) {
      reference.append(leafHash(leafData(i), sha256));
      range.append(leafData(i));
      assert.equal(range.size, i + 1);
      assert.equal(toHex(range.root()), toHex(reference.rootHash()), `size ${i + 1}`);
    }
  });

  it("reports exactly the perfect subtrees each append completes", () => {
    const reference = new MerkleTree(sha256);
    const range = new CompactRange();
    const seen = new Map<string, string>();
    for (let i = 0; i < 64; i++) {
      reference.append(leafHash(leafData(i), sha256));
      range.append(leafData(i), (s: CompletedSubtree) => {
        assert.ok(!seen.has(`${s.level}/${s.index}`), "each subtree is reported once");
        seen.set(`${s.level}/${s.index}`, toHex(s.hash));
      });
    }
    // 64 leaves complete 64 + 32 + … + 1 = 127 perfect subtrees.
    assert.equal(seen.size, 127);
    for (const [key, hash] of seen) {
      const [level, index] = key.split("/").map(Number) as [number, number];
      assert.equal(hash, toHex(reference.subtreeHash(level, index)), key);
    }
  });

  it("continues from the stored pieces of any size", () => {
    const reference = new MerkleTree(sha256);
    for (let i = 0; i < 45; i++) reference.append(leafHash(leafData(i), sha256));
    for (const start of [1, 2, 5, 8, 13, 32, 44]) {
      const pieces = rootHashPlan(start).map(({ level, index }) => reference.subtreeHash(level, index));
      const range = new CompactRange(start, pieces);
      assert.equal(toHex(range.root()), toHex(reference.rootHash(start)));
      assert.deepEqual(range.pieces().map(toHex), pieces.map(toHex));
      for (let i = start; i < 45; i++) range.append(leafData(i));
      assert.equal(toHex(range.root()), toHex(reference.rootHash()), `from ${start}`);
    }
  });

  it("refuses pieces that do not fit the size", () => {
    assert.throws(() => new CompactRange(3, [new Uint8Array(32)]), /2 perfect pieces/);
    assert.throws(() => new CompactRange(1, [new Uint8Array(31)]), /32-byte/);
    assert.throws(() => new CompactRange(-1), /non-negative/);
  });
});
