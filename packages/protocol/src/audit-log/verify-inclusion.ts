import { type HashFunction, sha256 } from "../crypto/sha2.ts";
import { timingSafeEqual } from "../encoding/bytes.ts";
import { hashChildren, hashProfile } from "./merkle-hash.ts";
import { isTreeSize } from "./proof-ranges.ts";

/** A proof never needs more hashes than a 2⁶⁴-leaf tree is deep (RFC 9162 uses uint64 sizes). */
const MAX_PROOF_HASHES = 64;

/** Whether `proof` is an array of at most `max` hashes of `length` bytes. @internal */
export function isHashList(proof: unknown, length: number, max: number): proof is readonly Uint8Array[] {
  if (!Array.isArray(proof) || proof.length > max) return false;
  return proof.every((p) => p instanceof Uint8Array && p.length === length);
}

/**
 * Verifies an inclusion proof (audit path) by RFC 9162 §2.1.3.2: that the leaf with hash
 * `leafHash` is at `index` in the tree of `size` leaves whose root is `root`.
 *
 * Never throws on malformed input: wrong types, sizes outside 0 ≤ index < size ≤ 2⁵³ − 1, hashes
 * of the wrong length and proofs of the wrong length all verify as false.
 *
 * @param leafHash - `leafHash(entry)`, not the entry itself
 * @param proof - the audit path, from the leaf's sibling upwards
 * @param root - the root hash the proof must reach (from a verified checkpoint)
 * @param hash - the hash function the tree was built with; SHA-256 by default
 */
export function verifyInclusion(
  leafHash: Uint8Array,
  index: number,
  size: number,
  proof: readonly Uint8Array[],
  root: Uint8Array,
  hash: HashFunction = sha256,
): boolean {
  const { length } = hashProfile(hash);
  if (!isTreeSize(index) || !isTreeSize(size)) return false;
  if (!(leafHash instanceof Uint8Array) || leafHash.length !== length) return false;
  if (!(root instanceof Uint8Array) || !isHashList(proof, length, MAX_PROOF_HASHES)) return false;

  // Step 1: leaf_index must lie inside the tree.
  if (index >= size) return false;
  // Step 2. Division instead of >>, which would truncate indexes above 2³¹ − 1.
  let fn = index;
  let sn = size - 1;
  // Step 3.
  let r = leafHash;
  // Step 4.
  for (const p of proof) {
    // 4a: more proof hashes than the path is long.
    if (sn === 0) return false;
    // 4b.
    if (fn % 2 === 1 || fn === sn) {
      r = hashChildren(p, r, hash);
      // 4b.ii: skip the levels where this node has no right sibling (the right edge of the tree).
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = hashChildren(r, p, hash);
    }
    // 4c.
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  // Step 5: the whole path was consumed and it reached the root.
  return sn === 0 && timingSafeEqual(r, root);
}
