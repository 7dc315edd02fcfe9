import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { sha256 } from "../crypto/sha2.ts";
import { leafHash } from "./merkle-hash.ts";
import { MerkleTree } from "./merkle-tree.ts";
import { consistencyVectors } from "./test-support/merkle-vectors.ts";
import { verifyConsistency } from "./verify-consistency.ts";

describe("verifyConsistency against the transparency-dev/merkle vectors", () => {
  const vectors = consistencyVectors();

  it("loads every consistency vector", () => {
    assert.equal(vectors.length, 98);
    assert.equal(vectors.filter((v) => !v.wantErr).length, 6);
  });

  for (const v of vectors) {
    it(`${v.wantErr ? "rejects" : "accepts"} ${v.file} (${v.desc})`, () => {
      assert.equal(verifyConsistency(v.size1, v.size2, v.proof, v.root1, v.root2), !v.wantErr);
    });
  }
});

describe("verifyConsistency edge cases", () => {
  const empty = sha256(new Uint8Array(0));
  const tree = new MerkleTree();
  for (let i = 0; i < 13; i++) tree.append(leafHash(new Uint8Array([i])));
  const proof = tree.consistencyProof(5, 13);
  const oldRoot = tree.rootHash(5);
  const newRoot = tree.rootHash(13);

  it("accepts the genuine proof (control)", () => {
    assert.equal(verifyConsistency(5, 13, proof, oldRoot, newRoot), true);
  });

  it('accepts two empty trees only with the empty-tree root H("")', () => {
    assert.equal(verifyConsistency(0, 0, [], empty, empty), true);
    assert.equal(verifyConsistency(0, 0, [], oldRoot, oldRoot), false);
  });

  it("accepts equal sizes with equal roots and an empty proof", () => {
    assert.equal(verifyConsistency(13, 13, [], newRoot, newRoot), true);
    assert.equal(verifyConsistency(13, 13, [], newRoot, oldRoot), false);
    assert.equal(verifyConsistency(13, 13, [newRoot], newRoot, newRoot), false);
  });

  it("refuses any proof from the empty tree", () => {
    assert.equal(verifyConsistency(0, 13, [], empty, newRoot), false);
    assert.equal(verifyConsistency(0, 13, proof, empty, newRoot), false);
  });

  it("returns false instead of throwing on wrong types and sizes", () => {
    const cases: Array<[unknown, unknown, unknown, unknown, unknown]> = [
      [5, 13, null, oldRoot, newRoot],
      [5, 13, [...proof, "x"], oldRoot, newRoot],
      [5, 13, proof, null, newRoot],
      [5, 13, proof, oldRoot, undefined],
      [5, 13, proof, oldRoot.slice(1), newRoot],
      [5, 13, proof, oldRoot, newRoot.slice(1)],
      [-5, 13, proof, oldRoot, newRoot],
      [5.5, 13, proof, oldRoot, newRoot],
      [5, 2 ** 53, proof, oldRoot, newRoot],
      [13, 5, proof, newRoot, oldRoot],
      ["5", 13, proof, oldRoot, newRoot],
      [5, 13, Array.from({ length: 1000 }, () => newRoot), oldRoot, newRoot],
    ];
    for (const [o, n, p, r1, r2] of cases) {
      assert.equal(
        verifyConsistency(o as number, n as number, p as Uint8Array[], r1 as Uint8Array, r2 as Uint8Array),
        false,
      );
    }
  });
});
