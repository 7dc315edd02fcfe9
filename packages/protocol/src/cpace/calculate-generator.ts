import { invert, mod } from "@noble/curves/abstract/modular.js";
import { _map_to_curve_elligator2_curve25519 } from "@noble/curves/ed25519.js";
import { sha512 } from "../crypto/sha2.ts";
import { DSI, FIELD_SIZE_BYTES, SHA512_BLOCK_BYTES } from "./cpace-suite.ts";
import { lvCat, prependLen } from "./lv-cat.ts";

/** The field prime of Curve25519 (RFC 7748 §4.1). */
const P = 2n ** 255n - 19n;

/**
 * generator_string(DSI, PRS, CI, sid, s_in_bytes) = lv_cat(DSI, PRS, zero_bytes(len_zpad), CI, sid),
 * with len_zpad = max(0, s_in_bytes − 1 − len(prepend_len(PRS)) − len(prepend_len(DSI)))
 * (draft, "Common function for computing generators" and appendix). The padding fills the first
 * hash block, so that block's cost does not depend on the password's length.
 */
export function generatorString(prs: Uint8Array, ci: Uint8Array, sid: Uint8Array): Uint8Array {
  const zpad = Math.max(0, SHA512_BLOCK_BYTES - 1 - prependLen(prs).length - prependLen(DSI).length);
  return lvCat(DSI, prs, new Uint8Array(zpad), ci, sid);
}

/** RFC 7748 §5 decodeLittleEndian over a 32-byte string. */
function littleEndian(bytes: Uint8Array): bigint {
  let n = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i] as number);
  return n;
}

/** RFC 7748 §5 encodeUCoordinate for Curve25519. */
function encodeU(u: bigint): Uint8Array {
  const out = new Uint8Array(FIELD_SIZE_BYTES);
  let n = mod(u, P);
  for (let i = 0; i < FIELD_SIZE_BYTES; i++) {
    out[i] = Number(n & 0xffn);
    n >>= 8n;
  }
  return out;
}

/**
 * G_X25519.calculate_generator(H, PRS, CI, sid) (draft, "CPace group objects G_X25519 and
 * G_X448 …"):
 * 1. gen_str = generator_string(G.DSI, PRS, CI, sid, H.s_in_bytes);
 * 2. gen_str_hash = H.hash(gen_str, G.field_size_bytes) — the first 32 bytes of SHA-512;
 * 3. u = decodeUCoordinate(gen_str_hash, 255) (RFC 7748 §5: clear bit 255, little endian);
 * 4. (g, v) = map_to_curve_elligator2(u) (RFC 9380 §6.7.1, curve25519 straight-line form of
 *    Appendix G.2.1 with Z = 2), keeping only the u coordinate g.
 *
 * The map is noble's RFC 9380 implementation; it returns the coordinate as a fraction xMn / xMd,
 * which we divide out.
 */
export function calculateGenerator(prs: Uint8Array, ci: Uint8Array, sid: Uint8Array): Uint8Array {
  const hash = sha512(generatorString(prs, ci, sid)).slice(0, FIELD_SIZE_BYTES);
  hash[FIELD_SIZE_BYTES - 1] = (hash[FIELD_SIZE_BYTES - 1] as number) & 0x7f;
  const u = mod(littleEndian(hash), P);
  const { xMn, xMd } = _map_to_curve_elligator2_curve25519(u);
  return encodeU(xMn * invert(xMd, P));
}
