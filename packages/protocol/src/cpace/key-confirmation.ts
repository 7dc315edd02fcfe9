import { hmac } from "@noble/hashes/hmac.js";
import { sha512 as nobleSha512 } from "@noble/hashes/sha2.js";
import { sha512 } from "../crypto/sha2.ts";
import { concatBytes } from "../encoding/bytes.ts";
import { MAC_PREFIX } from "./cpace-suite.ts";

/**
 * The draft's explicit key confirmation ("Key confirmation"):
 * - mac_key = H.hash(b"CPaceMac" ‖ sid ‖ ISK);
 * - each party tags the message it sent: Ta = MAC(mac_key, lv_cat(Ya, ADa)),
 *   Tb = MAC(mac_key, lv_cat(Yb, ADb)), where lv_cat(Y, AD) is exactly our encoded message.
 * MAC is HMAC (RFC 2104) with H = SHA-512, the suite's hash, so tags are 64 bytes.
 */
export function confirmationMacKey(sid: Uint8Array, isk: Uint8Array): Uint8Array {
  return sha512(concatBytes(MAC_PREFIX, sid, isk));
}

/** MAC(mac_key, sentMessage) with HMAC-SHA-512. */
export function confirmationTag(macKey: Uint8Array, sentMessage: Uint8Array): Uint8Array {
  return hmac(nobleSha512, macKey, sentMessage);
}
