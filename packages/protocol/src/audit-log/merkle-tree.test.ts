import assert from "node:assert/strict";
import { hash as nodeHash } from "node:crypto";
import { describe, it } from "node:test";
import { fromHex, toHex } from "../encoding/hex.ts";
import { isCountersignError } from "../errors/countersign-error.ts";
import { leafHash, rootHash } from "./merkle-hash.ts";
import { MerkleTree } from "./merkle-tree.ts";
import { consistencyVectors, inclusionVectors } from "./test-support/merkle-vectors.ts";
import { verifyConsistency } from "./verify-consistency.ts";
import { verifyInclusion } from "./verify-inclusion.ts";

// transparency-dev/merkle testonly/constants.go (Apache-2.0): the leaves of the reference tree and
// the hash of every perfect subtree, by level.
const LEAF_INPUTS = [
  "",
  "00",
  "10",
  "2021",
  "3031",
  "40414243",
  "5051525354555657",
  "606162636465666768696a6b6c6d6e6f",
];
const NODE_HASHES = [
  [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
    "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
    "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
    "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
    "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
  ],
  [
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
    "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
    "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
  ],
  [
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
  ],
  ["5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"],
];

function referenceTree(): MerkleTree {
  const tree = new MerkleTree();
  for (const input of LEAF_INPUTS) tree.append(leafHash(fromHex(input) as Uint8Array));
  return tree;
}

const outOfRange = (e: unknown) => isCountersignError(e, "audit_index_out_of_range");

describe("MerkleTree", () => {
  it("stores the hash of every perfect subtree of the reference tree", () => {
    const tree = referenceTree();
    NODE_HASHES.forEach((level, l) => {
      level.forEach((expected, i) => {
        assert.equal(toHex(tree.subtreeHash(l, i)), expected, `level ${l}, index ${i}`);
      });
    });
    assert.throws(() => tree.subtreeHash(4, 0), outOfRange);
    assert.throws(() => tree.subtreeHash(1, 4), outOfRange);
    assert.throws(() => tree.subtreeHash(0, -1), outOfRange);
  });

  it("reproduces the proofs of the vectors' happy paths byte for byte", () => {
    const tree = referenceTree();
    let checked = 0;
    for (const v of inclusionVectors()) {
      if (v.wantErr || v.treeSize > tree.size || toHex(v.root) !== toHex(tree.rootHash(v.treeSize))) continue;
      assert.deepEqual(tree.inclusionProof(v.leafIdx, v.treeSize).map(toHex), v.proof.map(toHex), v.file);
      checked++;
    }
    for (const v of consistencyVectors()) {
      if (v.wantErr || v.size1 === 0 || v.size2 > tree.size) continue;
      if (toHex(v.root2) !== toHex(tree.rootHash(v.size2))) continue;
      assert.deepEqual(tree.consistencyProof(v.size1, v.size2).map(toHex), v.proof.map(toHex), v.file);
      checked++;
    }
    // inclusion/0..4 and consistency/0..4 come from this tree.
    assert.equal(checked, 10);
  });

  it("gives the root and proofs of every earlier size", () => {
    const tree = new MerkleTree();
    const leaves: Uint8Array[] = [];
    for (let i = 0; i < 70; i++) {
      leaves.push(leafHash(new Uint8Array([i, i >> 8])));
      tree.append(leaves[i] as Uint8Array);
    }
    for (let n = 0; n <= 70; n++) {
      const root = tree.rootHash(n);
      assert.deepEqual(root, rootHash(leaves.slice(0, n)), `root at ${n}`);
      for (let i = 0; i < n; i++) {
        assert.ok(verifyInclusion(leaves[i] as Uint8Array, i, n, tree.inclusionProof(i, n), root), `leaf ${i} in ${n}`);
      }
      for (let m = 1; m <= n; m++) {
        assert.ok(verifyConsistency(m, n, tree.consistencyProof(m, n), tree.rootHash(m), root), `${m} → ${n}`);
      }
    }
  });

  it("returns the index of each appended leaf and counts them", () => {
    const tree = new MerkleTree();
    assert.equal(tree.size, 0);
    assert.equal(tree.append(new Uint8Array(32)), 0);
    assert.equal(tree.append(new Uint8Array(32)), 1);
    assert.equal(tree.size, 2);
  });

  it("refuses leaf hashes of the wrong length", () => {
    assert.throws(() => new MerkleTree().append(new Uint8Array(31)), /leafHash must be 32 bytes, got 31/);
  });

  it("refuses sizes beyond the leaves appended", () => {
    const tree = referenceTree();
    assert.throws(() => tree.rootHash(9), outOfRange);
    assert.throws(() => tree.inclusionProof(0, 9), outOfRange);
    assert.throws(() => tree.inclusionProof(8), outOfRange);
    assert.throws(() => tree.consistencyProof(2, 9), outOfRange);
    assert.throws(() => tree.consistencyProof(0), outOfRange);
  });

  it("hands out copies, so callers cannot corrupt the stored hashes", () => {
    const tree = referenceTree();
    tree.subtreeHash(0, 0).fill(0);
    tree.rootHash().fill(0);
    tree.inclusionProof(0)[0]?.fill(0);
    assert.equal(toHex(tree.rootHash()), NODE_HASHES[3]?.[0]);
    assert.equal(toHex(tree.subtreeHash(0, 0)), NODE_HASHES[0]?.[0]);
  });

  it("does not keep a reference to an appended leaf hash", () => {
    const tree = new MerkleTree();
    const leaf = leafHash(new Uint8Array([1]));
    tree.append(leaf);
    const before = toHex(tree.rootHash());
    leaf.fill(0);
    assert.equal(toHex(tree.rootHash()), before);
  });
});

describe("MerkleTree at 1,000,000 leaves", () => {
  it("builds, proves and verifies", (t) => {
    const N = 1_000_000;
    // Distinct leaf hashes without spending a hash on each: the index in the first bytes.
    const leaf = (i: number) => {
      const h = new Uint8Array(32);
      new DataView(h.buffer).setFloat64(0, i);
      h[31] = 0xaa;
      return h;
    };
    for (const [name, hash] of [
      ["noble SHA-256 (default)", undefined],
      ["node:crypto hash()", (d: Uint8Array) => nodeHash("sha256", d, "buffer")],
    ] as const) {
      let start = performance.now();
      const tree = new MerkleTree(hash);
      for (let i = 0; i < N; i++) tree.append(leaf(i));
      const buildMs = performance.now() - start;

      const root = tree.rootHash();
      const samples = Array.from({ length: 1000 }, (_, k) => (k * 999_983) % N);
      start = performance.now();
      const proofs = samples.map((i) => tree.inclusionProof(i));
      const proofMs = (performance.now() - start) / samples.length;
      for (const [k, i] of samples.entries()) {
        assert.ok(verifyInclusion(leaf(i), i, N, proofs[k] as Uint8Array[], root, hash), `leaf ${i}`);
      }
      assert.ok(verifyConsistency(123_457, N, tree.consistencyProof(123_457), tree.rootHash(123_457), root, hash));
      t.diagnostic(
        `${name}: build ${buildMs.toFixed(0)} ms, inclusion proof ${(proofMs * 1000).toFixed(1)} µs (average of 1000)`,
      );
    }
  });
});
