import { randomBytes } from "../encoding/bytes.ts";

/**
 * 32 random bytes from WebCrypto: the Account Unlock Key (AUK) and any other symmetric key of
 * end-to-end encryption (spec §0).
 */
export function randomKey32(): Uint8Array {
  return randomBytes(32);
}
