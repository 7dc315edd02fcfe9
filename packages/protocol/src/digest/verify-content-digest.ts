import { timingSafeEqual } from "../encoding/bytes.ts";
import { parseDictionary } from "../http-signatures/structured-fields/parse-dictionary.ts";
import { CONTENT_DIGEST_ALGORITHMS, digestBody, isContentDigestAlgorithm } from "./content-digest-algorithm.ts";

/**
 * Checks a received `Content-Digest` field value against the body as received (RFC 9530 §2, §3).
 *
 * - The value must be a valid RFC 8941 dictionary (strict: see `parseDictionary`).
 * - At least one of `sha-256` and `sha-512` must be present, and every one present must be a byte
 *   sequence of the right length that matches, compared in constant time. Checking all of them,
 *   not just the strongest, means no listed digest is left unverified.
 * - Other algorithms are ignored (RFC 9530 §3 lets a recipient ignore algorithms it does not
 *   support); parameters on members are ignored, as RFC 8941 §3.1.2 expects of unknown ones.
 *
 * Never throws: malformed input verifies as false.
 */
export async function verifyContentDigest(fieldValue: string, body: Uint8Array): Promise<boolean> {
  try {
    if (!(body instanceof Uint8Array)) return false;
    const dictionary = parseDictionary(fieldValue);
    if (dictionary === null) return false;
    let checked = 0;
    for (const [key, member] of dictionary) {
      if (!isContentDigestAlgorithm(key)) continue;
      if (member.kind !== "item" || member.value.type !== "byte-sequence") return false;
      const expected = member.value.value;
      if (expected.length !== CONTENT_DIGEST_ALGORITHMS[key].length) return false;
      if (!timingSafeEqual(await digestBody(key, body), expected)) return false;
      checked++;
    }
    return checked > 0;
  } catch {
    return false;
  }
}
