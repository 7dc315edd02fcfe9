import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, it } from "node:test";
import { sha256 } from "../crypto/sha2.ts";
import { fromHex, toHex } from "../encoding/hex.ts";
import { leafHash, nodeHash, rootHash } from "./merkle-hash.ts";

// Leaf inputs and expected hashes of transparency-dev/merkle testonly/constants.go (Apache-2.0),
// the RFC 6962 reference tree that its proof vectors are built on.
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
const LEAF_HASHES = [
  "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
  "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
  "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
  "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
  "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
  "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
  "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
  "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
];
const ROOTS = [
  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
  "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
  "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
  "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
  "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
  "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
  "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
  "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
  "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];

const hex = (s: string) => fromHex(s) as Uint8Array;
const leaves = LEAF_INPUTS.map((input) => leafHash(hex(input)));
const nodeCryptoSha256 = (data: Uint8Array) => createHash("sha256").update(data).digest();

describe("leafHash", () => {
  it("hashes 0x00 ‖ data with SHA-256 (RFC 9162 §2.1.1)", () => {
    assert.deepEqual(leaves.map(toHex), LEAF_HASHES);
  });

  it("gives the same hashes with an injected node:crypto SHA-256", () => {
    assert.deepEqual(
      LEAF_INPUTS.map((input) => toHex(leafHash(hex(input), nodeCryptoSha256))),
      LEAF_HASHES,
    );
  });

  it("rejects data that is not a Uint8Array", () => {
    assert.throws(() => leafHash("abc" as unknown as Uint8Array), /data must be a Uint8Array/);
  });
});

describe("nodeHash", () => {
  it("hashes 0x01 ‖ left ‖ right", () => {
    assert.equal(toHex(nodeHash(leaves[0] as Uint8Array, leaves[1] as Uint8Array)), ROOTS[2]);
  });

  it("is not the leaf hash of the same bytes (domain separation)", () => {
    const l = leaves[0] as Uint8Array;
    const r = leaves[1] as Uint8Array;
    const concatenated = new Uint8Array([...l, ...r]);
    assert.notDeepEqual(nodeHash(l, r), leafHash(concatenated));
    assert.notDeepEqual(nodeHash(l, r), sha256(concatenated));
  });

  it("rejects children that are not hash-sized", () => {
    assert.throws(() => nodeHash(new Uint8Array(31), leaves[0] as Uint8Array), /left must be 32 bytes, got 31/);
    assert.throws(() => nodeHash(leaves[0] as Uint8Array, new Uint8Array(33)), /right must be 32 bytes, got 33/);
  });
});

describe("rootHash", () => {
  it("matches the reference roots for every size from 0 to 8", () => {
    for (let size = 0; size <= 8; size++) {
      assert.equal(toHex(rootHash(leaves.slice(0, size))), ROOTS[size], `size ${size}`);
    }
  });

  it('returns H("") for the empty tree', () => {
    assert.equal(toHex(rootHash([])), toHex(sha256(new Uint8Array(0))));
  });

  it("matches with an injected hash function", () => {
    assert.equal(toHex(rootHash(leaves.slice(0, 7), nodeCryptoSha256)), ROOTS[7]);
  });

  it("hands out copies of the cached empty root, even from a Buffer-returning hash", () => {
    rootHash([], nodeCryptoSha256).fill(0);
    assert.equal(toHex(rootHash([], nodeCryptoSha256)), ROOTS[0]);
  });

  it("returns a copy for a one-leaf tree, not the caller's array", () => {
    const only = leaves[0] as Uint8Array;
    const root = rootHash([only]);
    assert.notEqual(root, only);
    assert.deepEqual(root, only);
  });

  it("rejects leaf hashes of the wrong length, naming the index", () => {
    assert.throws(() => rootHash([leaves[0] as Uint8Array, new Uint8Array(5)]), /leafHashes\[1\] must be 32 bytes/);
  });
});
