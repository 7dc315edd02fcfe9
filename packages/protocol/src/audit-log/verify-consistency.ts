import { type HashFunction, sha256 } from "../crypto/sha2.ts";
import { timingSafeEqual } from "../encoding/bytes.ts";
import { hashChildren, hashProfile } from "./merkle-hash.ts";
import { isTreeSize } from "./proof-ranges.ts";
import { isHashList } from "./verify-inclusion.ts";

/** One more than an inclusion proof: step 2 may prepend the old root. */
const MAX_PROOF_HASHES = 65;

/**
 * Verifies a consistency proof by RFC 9162 §2.1.4.2: that the tree of `newSize` leaves with root
 * `newRoot` extends the tree of `oldSize` leaves with root `oldRoot`, i.e. the log only appended.
 *
 * Beyond the RFC's algorithm (defined for 0 < first < second):
 *  - equal sizes need an empty proof and equal roots — a tree head is consistent with itself;
 *  - for size 0 both roots must also be `HASH()`, the only root an empty tree has (§2.1.1);
 *  - a proof from size 0 to a larger size is refused: it would prove nothing (§2.1.4).
 *
 * Never throws on malformed input: wrong types, bad sizes, hashes of the wrong length and proofs
 * of the wrong length all verify as false.
 *
 * @param proof - the consistency proof, as built by `buildConsistencyProof`
 * @param oldRoot - the root of the older tree head the auditor kept
 * @param newRoot - the root of the newer tree head
 * @param hash - the hash function the tree was built with; SHA-256 by default
 */
export function verifyConsistency(
  oldSize: number,
  newSize: number,
  proof: readonly Uint8Array[],
  oldRoot: Uint8Array,
  newRoot: Uint8Array,
  hash: HashFunction = sha256,
): boolean {
  const { empty, length } = hashProfile(hash);
  if (!isTreeSize(oldSize) || !isTreeSize(newSize) || oldSize > newSize) return false;
  if (!(oldRoot instanceof Uint8Array) || !(newRoot instanceof Uint8Array)) return false;
  if (!isHashList(proof, length, MAX_PROOF_HASHES)) return false;

  if (oldSize === newSize) {
    if (proof.length !== 0) return false;
    if (oldSize === 0 && !timingSafeEqual(oldRoot, empty)) return false;
    return timingSafeEqual(oldRoot, newRoot);
  }
  if (oldSize === 0) return false;
  if (oldRoot.length !== length || newRoot.length !== length) return false;

  // Step 1.
  if (proof.length === 0) return false;
  // Step 2: a power-of-two old tree is a perfect subtree of the new one, so the proof leaves out
  // its root, which the verifier already holds.
  const path = isPowerOfTwo(oldSize) ? [oldRoot, ...proof] : proof;
  // Step 3. Division instead of >>, which would truncate sizes above 2³¹.
  let fn = oldSize - 1;
  let sn = newSize - 1;
  // Step 4: climb past the levels where the old tree's last leaf is a right child.
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  // Step 5.
  let fr = path[0] as Uint8Array;
  let sr = fr;
  // Step 6.
  for (let i = 1; i < path.length; i++) {
    const c = path[i] as Uint8Array;
    // 6a: more proof hashes than the path is long.
    if (sn === 0) return false;
    // 6b.
    if (fn % 2 === 1 || fn === sn) {
      fr = hashChildren(c, fr, hash);
      sr = hashChildren(c, sr, hash);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      sr = hashChildren(sr, c, hash);
    }
    // 6c.
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  // Step 7: both roots reproduced and the whole path consumed.
  return sn === 0 && timingSafeEqual(fr, oldRoot) && timingSafeEqual(sr, newRoot);
}

function isPowerOfTwo(n: number): boolean {
  let p = 1;
  while (p < n) p *= 2;
  return p === n;
}
