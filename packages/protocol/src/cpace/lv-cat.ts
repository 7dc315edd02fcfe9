import { concatBytes } from "../encoding/bytes.ts";

/**
 * The draft's length-value encoding (draft-irtf-cfrg-cpace, "Notation for string operations"
 * and appendix "prepend_len function"): each string is preceded by its length in LEB128.
 * It makes every transcript prefix-free ("Hashing protocol transcripts").
 */

/** prepend_len(data): LEB128(len(data)) ‖ data. */
export function prependLen(data: Uint8Array): Uint8Array {
  const length: number[] = [];
  let n = data.length;
  // LEB128: 7 bits per byte, least significant first, bit 7 set while more bytes follow.
  do {
    const low = n & 0x7f;
    n = Math.floor(n / 128);
    length.push(n === 0 ? low : low | 0x80);
  } while (n !== 0);
  return concatBytes(Uint8Array.from(length), data);
}

/** lv_cat(a0, a1, …) = prepend_len(a0) ‖ prepend_len(a1) ‖ … */
export function lvCat(...parts: readonly Uint8Array[]): Uint8Array {
  return concatBytes(...parts.map(prependLen));
}

/**
 * Splits an lv_cat encoding back into its parts, or returns null when it is not exactly a
 * sequence of well-formed length-value fields (truncated, trailing bytes, a length over
 * `maxLength`, or a non-minimal LEB128 length, which would give one string two encodings).
 */
export function lvSplit(encoded: Uint8Array, maxLength: number): Uint8Array[] | null {
  const parts: Uint8Array[] = [];
  let offset = 0;
  while (offset < encoded.length) {
    let length = 0;
    let shift = 1;
    let bytes = 0;
    for (;;) {
      const byte = encoded[offset++];
      if (byte === undefined || bytes === 4) return null;
      bytes++;
      length += (byte & 0x7f) * shift;
      shift *= 128;
      if ((byte & 0x80) === 0) {
        if (byte === 0 && bytes > 1) return null;
        break;
      }
    }
    if (length > maxLength || offset + length > encoded.length) return null;
    parts.push(encoded.slice(offset, offset + length));
    offset += length;
  }
  return parts;
}
