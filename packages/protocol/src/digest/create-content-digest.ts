import { assertBytes } from "../encoding/bytes.ts";
import { serializeDictionary } from "../http-signatures/structured-fields/serialize-structured-field.ts";
import type { Item } from "../http-signatures/structured-fields/structured-field-types.ts";
import { type ContentDigestAlgorithm, digestBody, isContentDigestAlgorithm } from "./content-digest-algorithm.ts";

/**
 * The value of a `Content-Digest` field (RFC 9530 §2) for `body`: an RFC 8941 dictionary with one
 * byte-sequence member per algorithm, in the order given.
 *
 * @example
 * ```ts
 * await createContentDigest(utf8('{"hello": "world"}'));
 * // "sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:"
 * ```
 */
export async function createContentDigest(
  body: Uint8Array,
  algorithms: readonly ContentDigestAlgorithm[] = ["sha-256"],
): Promise<string> {
  assertBytes(body, "body");
  if (algorithms.length === 0) throw new TypeError("algorithms must name at least one algorithm");
  const members = new Map<string, Item>();
  for (const algorithm of algorithms) {
    if (!isContentDigestAlgorithm(algorithm)) throw new TypeError(`unsupported digest algorithm ${String(algorithm)}`);
    if (members.has(algorithm)) throw new TypeError(`digest algorithm ${algorithm} is listed twice`);
    members.set(algorithm, {
      kind: "item",
      value: { type: "byte-sequence", value: await digestBody(algorithm, body) },
      params: [],
    });
  }
  return serializeDictionary(members);
}
