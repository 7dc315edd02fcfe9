import type { HashFunction } from "../../crypto/sha2.ts";
import { concatBytes } from "../../encoding/bytes.ts";

/**
 * A deliberately naive transliteration of RFC 9162 §2.1.1 (MTH), §2.1.3.1 (PATH) and §2.1.4.1
 * (PROOF / SUBPROOF) over a list of leaf hashes, with array slices and recursion exactly as the
 * RFC writes them. Tests compare the optimised code against it.
 */

function k(n: number): number {
  let p = 1;
  while (p * 2 < n) p *= 2;
  return p;
}

function node(l: Uint8Array, r: Uint8Array, hash: HashFunction): Uint8Array {
  return hash(concatBytes(new Uint8Array([1]), l, r));
}

/** MTH(D[n]) over leaf hashes. */
export function referenceRoot(d: readonly Uint8Array[], hash: HashFunction): Uint8Array {
  if (d.length === 0) return hash(new Uint8Array(0));
  if (d.length === 1) return d[0] as Uint8Array;
  const s = k(d.length);
  return node(referenceRoot(d.slice(0, s), hash), referenceRoot(d.slice(s), hash), hash);
}

/** PATH(m, D[n]). */
export function referencePath(m: number, d: readonly Uint8Array[], hash: HashFunction): Uint8Array[] {
  if (d.length === 1) return [];
  const s = k(d.length);
  if (m < s) return [...referencePath(m, d.slice(0, s), hash), referenceRoot(d.slice(s), hash)];
  return [...referencePath(m - s, d.slice(s), hash), referenceRoot(d.slice(0, s), hash)];
}

function subproof(m: number, d: readonly Uint8Array[], b: boolean, hash: HashFunction): Uint8Array[] {
  if (m === d.length) return b ? [] : [referenceRoot(d, hash)];
  const s = k(d.length);
  if (m <= s) return [...subproof(m, d.slice(0, s), b, hash), referenceRoot(d.slice(s), hash)];
  return [...subproof(m - s, d.slice(s), false, hash), referenceRoot(d.slice(0, s), hash)];
}

/** PROOF(m, D[n]) for 0 < m ≤ n. */
export function referenceConsistency(m: number, d: readonly Uint8Array[], hash: HashFunction): Uint8Array[] {
  return subproof(m, d, true, hash);
}
