/**
 * RFC 4648 §6 base32 (alphabet A–Z, 2–7) without padding, for the human-facing strings of
 * end-to-end encryption: the recovery secret and the account key fingerprint. Crockford's
 * alphabet, used by pairing codes, lives in pairing-code.ts because its decoding rules differ.
 */

/** The RFC 4648 §6 alphabet. */
export const BASE32_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/** Encodes bytes as unpadded base32 with the given 32-character alphabet (5 bits per character). */
export function base32Encode(bytes: Uint8Array, alphabet: string = BASE32_ALPHABET): string {
  let out = "";
  let value = 0;
  let bits = 0;
  for (const byte of bytes) {
    value = ((value << 8) | byte) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += alphabet[(value >>> bits) & 31];
    }
  }
  if (bits > 0) out += alphabet[(value << (5 - bits)) & 31];
  return out;
}

/**
 * Decodes unpadded base32 whose length is a multiple of 8 characters (a whole number of 5-byte
 * groups, so there are no leftover bits to check). Returns null on any character outside the
 * alphabet or a length that is not a multiple of 8.
 */
export function base32DecodeBlocks(text: string, alphabet: string = BASE32_ALPHABET): Uint8Array | null {
  if (text.length % 8 !== 0) return null;
  const out = new Uint8Array((text.length / 8) * 5);
  let value = 0;
  let bits = 0;
  let o = 0;
  for (const char of text) {
    const v = alphabet.indexOf(char);
    if (v < 0) return null;
    value = ((value << 5) | v) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (value >>> bits) & 0xff;
    }
  }
  return out;
}

/** Splits a string into groups of four joined by "-", as people read and type them. */
export function groupsOfFour(text: string): string {
  return (text.match(/.{1,4}/g) ?? []).join("-");
}
