import { createHmac, createSecretKey, type KeyObject } from "node:crypto";
import { assertBytes, utf8 } from "@countersign/protocol";
import { assertText } from "./assert-text.ts";
import { hkdfSha256 } from "./hkdf.ts";
import { assertRootSecret } from "./root-secret.ts";

/**
 * Blind indexes (DESIGN §4.9, threat A-3): a keyed digest stored beside an encrypted column, so
 * a row can be found by exact value without the database ever seeing the value. HMAC-SHA-256
 * (RFC 2104) under a key of its own per purpose, derived from the root secret with HKDF-SHA-256
 * (RFC 5869), so the index of an email can never be compared with, or replayed as, the index of
 * something else.
 *
 * To add a purpose, append it here; never rename or reuse one, as that changes or shares a key.
 */
export const BLIND_INDEX_PURPOSES = [
  /** An account's email address, canonicalized by the caller (e.g. trimmed and lowercased). */
  "email",
] as const;

/** A purpose from {@link BLIND_INDEX_PURPOSES}. */
export type BlindIndexPurpose = (typeof BLIND_INDEX_PURPOSES)[number];

/** Computes blind indexes under keys derived once, when the indexer is built. */
export interface BlindIndexer {
  /**
   * The blind index of `value` for `purpose`: 64 lowercase hex characters. Deterministic, so
   * callers must canonicalize values first: the index of `A@x.org` is not that of `a@x.org`.
   *
   * @throws TypeError for an unknown purpose, or a value that is neither a Uint8Array nor a
   *   well-formed string.
   */
  index(purpose: BlindIndexPurpose, value: string | Uint8Array): string;
}

/** The HKDF `info` for a blind-index purpose. Disjoint from `deriveKey`'s `countersign/key/`. */
export function blindIndexInfo(purpose: BlindIndexPurpose): string {
  return `countersign/blind-index/v1/${purpose}`;
}

/**
 * Builds a blind indexer from the root secret (at least 32 bytes). Each purpose's key is
 * HKDF-SHA-256(IKM = root secret, no salt, info = `countersign/blind-index/v1/<purpose>`, 32
 * bytes); the root secret itself is not kept.
 *
 * @throws RangeError when the root secret is shorter than 32 bytes.
 *
 * @example
 * ```ts
 * const indexer = createBlindIndexer(config.rootSecret);
 * const emailIndex = indexer.index("email", email.trim().toLowerCase());
 * ```
 */
export function createBlindIndexer(rootSecret: Uint8Array): BlindIndexer {
  assertRootSecret(rootSecret);
  // KeyObjects: Node 24 prepares raw key bytes slowly on every HMAC (aead.ts).
  const keys = new Map<string, KeyObject>();
  for (const purpose of BLIND_INDEX_PURPOSES) {
    // RFC 5869 §3.1: the salt is optional; with a uniformly random root secret it adds nothing.
    keys.set(purpose, createSecretKey(hkdfSha256(rootSecret, new Uint8Array(0), utf8(blindIndexInfo(purpose)), 32)));
  }
  return Object.freeze({
    index(purpose: BlindIndexPurpose, value: string | Uint8Array): string {
      const key = typeof purpose === "string" ? keys.get(purpose) : undefined;
      if (key === undefined) throw new TypeError("unknown blind-index purpose");
      let bytes: Uint8Array;
      if (typeof value === "string") {
        assertText(value, "value", { allowEmpty: true });
        bytes = utf8(value);
      } else {
        assertBytes(value, "value");
        bytes = value;
      }
      return createHmac("sha256", key).update(bytes).digest("hex");
    },
  });
}
