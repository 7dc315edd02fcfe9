import type { HashFunction } from "../../crypto/sha2.ts";

/**
 * A stand-in "hash" whose value is the leaf range a node covers, [start, end) as two float64s, so
 * proofs over trees of 2⁴⁰ and more leaves can be checked without building them. Combining two
 * nodes succeeds only if they are adjacent, the left one is perfect, aligned and exactly the RFC
 * 9162 §2.1.1 split of the union (the largest power of two below its width); anything else yields
 * the poison range [-1, -1), which can never match a real root.
 */

const POISON = encodeRange(-1, -1);

/** The structural hash of leaves [start, end): what a stored subtree or root "hash" is. */
export function encodeRange(start: number, end: number): Uint8Array {
  const out = new Uint8Array(16);
  const view = new DataView(out.buffer);
  view.setFloat64(0, start);
  view.setFloat64(8, end);
  return out;
}

function decodeRange(bytes: Uint8Array, offset: number): [number, number] {
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, 16);
  return [view.getFloat64(0), view.getFloat64(8)];
}

function isPowerOfTwo(n: number): boolean {
  let p = 1;
  while (p < n) p *= 2;
  return p === n;
}

/** The structural hash function: only interior-node inputs and the empty string are meaningful. */
export const structuralHash: HashFunction = (input) => {
  if (input.length === 0) return encodeRange(0, 0);
  if (input.length !== 33 || input[0] !== 0x01) return POISON;
  const [ls, le] = decodeRange(input, 1);
  const [rs, re] = decodeRange(input, 17);
  const width = re - ls;
  let split = 1;
  while (split * 2 < width) split *= 2;
  const ok = ls >= 0 && le === rs && rs < re && le - ls === split && isPowerOfTwo(split) && ls % split === 0;
  return ok ? encodeRange(ls, re) : POISON;
};
