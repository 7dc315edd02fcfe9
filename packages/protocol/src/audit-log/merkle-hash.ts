import { type HashFunction, sha256 } from "../crypto/sha2.ts";
import { assertBytes } from "../encoding/bytes.ts";

/**
 * The RFC 9162 §2.1.1 Merkle Tree Hash (MTH) with the domain-separation prefixes that keep a leaf
 * from ever being read as an interior node (second-preimage resistance, RFC 9162 §2.1.1 note).
 */

const LEAF_PREFIX = 0x00;
const NODE_PREFIX = 0x01;

interface HashProfile {
  /** HASH() of the empty string: MTH({}) (RFC 9162 §2.1.1). */
  readonly empty: Uint8Array;
  /** Output length of the hash, which every leaf, node and root hash must have. */
  readonly length: number;
}

// Hash functions are injectable, so their output length is learnt once per function rather than
// assumed to be 32 bytes.
const profiles = new WeakMap<HashFunction, HashProfile>();

/** The empty-tree root and output length of `hash`, computed once per function. @internal */
export function hashProfile(hash: HashFunction): HashProfile {
  let profile = profiles.get(hash);
  if (profile === undefined) {
    const empty = hash(new Uint8Array(0));
    assertBytes(empty, "hash output");
    // new Uint8Array copies even a Buffer, whose slice() would be a view sharing memory.
    profile = { empty: new Uint8Array(empty), length: empty.length };
    profiles.set(hash, profile);
  }
  return profile;
}

/**
 * The leaf hash of one log entry: `HASH(0x00 ‖ data)` (RFC 9162 §2.1.1, MTH of a one-element list).
 *
 * @param data - the entry's canonical bytes
 * @param hash - the hash function; SHA-256 unless a faster equivalent is injected
 */
export function leafHash(data: Uint8Array, hash: HashFunction = sha256): Uint8Array {
  assertBytes(data, "data");
  const input = new Uint8Array(1 + data.length);
  input[0] = LEAF_PREFIX;
  input.set(data, 1);
  return hash(input);
}

/**
 * The hash of an interior node: `HASH(0x01 ‖ left ‖ right)` (RFC 9162 §2.1.1).
 *
 * @param left - MTH of the left subtree
 * @param right - MTH of the right subtree
 * @param hash - the hash function; SHA-256 unless a faster equivalent is injected
 */
export function nodeHash(left: Uint8Array, right: Uint8Array, hash: HashFunction = sha256): Uint8Array {
  const { length } = hashProfile(hash);
  assertBytes(left, "left", length);
  assertBytes(right, "right", length);
  return hashChildren(left, right, hash);
}

/** {@link nodeHash} without the argument checks, for callers that already validated. @internal */
export function hashChildren(left: Uint8Array, right: Uint8Array, hash: HashFunction): Uint8Array {
  const input = new Uint8Array(1 + left.length + right.length);
  input[0] = NODE_PREFIX;
  input.set(left, 1);
  input.set(right, 1 + left.length);
  return hash(input);
}

/**
 * The Merkle Tree Hash of a list of leaf hashes, for any size (RFC 9162 §2.1.1). The empty tree's
 * root is `HASH()`, the hash of the empty string.
 *
 * Takes leaf hashes rather than entries so callers hash each entry once ({@link leafHash}) and can
 * reuse the leaf hashes for proofs. Costs n − 1 node hashes and O(log n) stack.
 *
 * @param leafHashes - the leaf hashes, in log order
 * @param hash - the hash function; SHA-256 unless a faster equivalent is injected
 */
export function rootHash(leafHashes: readonly Uint8Array[], hash: HashFunction = sha256): Uint8Array {
  const { empty, length } = hashProfile(hash);
  if (!Array.isArray(leafHashes)) throw new TypeError("leafHashes must be an array");
  leafHashes.forEach((leaf, i) => {
    assertBytes(leaf, `leafHashes[${i}]`, length);
  });
  if (leafHashes.length === 0) return empty.slice();
  return subtreeRoot(leafHashes, 0, leafHashes.length, hash);
}

// MTH(D[lo:hi]) by the split rule of RFC 9162 §2.1.1: k is the largest power of two below n.
function subtreeRoot(leaves: readonly Uint8Array[], lo: number, hi: number, hash: HashFunction): Uint8Array {
  const n = hi - lo;
  if (n === 1) return new Uint8Array(leaves[lo] as Uint8Array);
  const k = largestPowerOfTwoBelow(n);
  return hashChildren(subtreeRoot(leaves, lo, lo + k, hash), subtreeRoot(leaves, lo + k, hi, hash), hash);
}

/**
 * The largest power of two strictly below `n` (n ≥ 2): the split point k of RFC 9162 §2.1.1.
 * Multiplication rather than bit shifts, so sizes above 2³¹ stay exact. @internal
 */
export function largestPowerOfTwoBelow(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}
