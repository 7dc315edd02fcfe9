import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { sha256 } from "../crypto/sha2.ts";
import { leafHash } from "./merkle-hash.ts";
import { MerkleTree } from "./merkle-tree.ts";
import { inclusionVectors } from "./test-support/merkle-vectors.ts";
import { verifyInclusion } from "./verify-inclusion.ts";

describe("verifyInclusion against the transparency-dev/merkle vectors", () => {
  const vectors = inclusionVectors();

  it("loads every inclusion vector", () => {
    assert.equal(vectors.length, 98);
    assert.equal(vectors.filter((v) => !v.wantErr).length, 6);
  });

  for (const v of vectors) {
    it(`${v.wantErr ? "rejects" : "accepts"} ${v.file} (${v.desc})`, () => {
      assert.equal(verifyInclusion(v.leafHash, v.leafIdx, v.treeSize, v.proof, v.root), !v.wantErr);
    });
  }
});

describe("verifyInclusion on malformed input", () => {
  const tree = new MerkleTree();
  const leaves = Array.from({ length: 11 }, (_, i) => leafHash(new Uint8Array([i])));
  for (const leaf of leaves) tree.append(leaf);
  const proof = tree.inclusionProof(6);
  const root = tree.rootHash();
  const leaf = leaves[6] as Uint8Array;

  it("accepts the genuine proof (control)", () => {
    assert.equal(verifyInclusion(leaf, 6, 11, proof, root), true);
  });

  it("returns false instead of throwing on wrong types and sizes", () => {
    const cases: Array<[unknown, unknown, unknown, unknown, unknown]> = [
      [leaf, 6, 11, null, root],
      [leaf, 6, 11, "proof", root],
      [leaf, 6, 11, [...proof.slice(0, -1), "x"], root],
      [leaf, 6, 11, proof, null],
      [null, 6, 11, proof, root],
      [leaf.slice(0, 31), 6, 11, proof, root],
      [leaf, -1, 11, proof, root],
      [leaf, 6.5, 11, proof, root],
      [leaf, 6, Number.NaN, proof, root],
      [leaf, 6, 2 ** 53, proof, root],
      [leaf, "6", 11, proof, root],
      [leaf, 11, 11, proof, root],
      [leaf, 6, 11, proof, root.slice(0, 31)],
      [leaf, 6, 11, Array.from({ length: 1000 }, () => leaf), root],
    ];
    for (const [l, i, s, p, r] of cases) {
      assert.equal(
        verifyInclusion(l as Uint8Array, i as number, s as number, p as Uint8Array[], r as Uint8Array),
        false,
      );
    }
  });

  it("refuses a proof whose hashes are shorter than the hash output", () => {
    assert.equal(
      verifyInclusion(
        leaf,
        6,
        11,
        proof.map((p) => p.slice(0, 16)),
        root,
      ),
      false,
    );
  });

  it("verifies with an injected hash function matching the tree's", () => {
    const wrapped = (data: Uint8Array) => sha256(data);
    assert.equal(verifyInclusion(leaf, 6, 11, proof, root, wrapped), true);
  });
});
