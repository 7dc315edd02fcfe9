import { assertBytes, timingSafeEqual } from "@countersign/protocol";
import { isKeyId, KEY_ID_PATTERN } from "./key-id.ts";

/** Length of a key-encryption key in bytes (a ChaCha20-Poly1305 key, RFC 8439 §2.8). */
export const KEK_BYTES = 32;

/** The key-encryption keys as configuration gives them. */
export interface KeyRingConfig {
  /** Id of the key that wraps every new or re-wrapped data key. */
  current: string;
  /** Every key by id: the current one and the older ones still needed to unwrap. */
  keys: ReadonlyMap<string, Uint8Array>;
}

/**
 * A validated, immutable set of key-encryption keys (KEKs). Only the current key wraps; the
 * others stay only so that data keys wrapped before a rotation can still be unwrapped (and then
 * re-wrapped under the current key).
 */
export interface KeyRing {
  /** Id of the current key, the one that wraps. */
  readonly currentKid: string;
  /** Every id in the ring, the current one first. */
  readonly kids: readonly string[];
  /** Whether the ring holds a key with this id. */
  has(kid: string): boolean;
  /**
   * A copy of the key with this id, or null when the ring has none. A copy, so that a caller
   * that wipes or alters it cannot change the ring.
   */
  getKey(kid: string): Uint8Array | null;
}

/**
 * Builds a key ring from configuration, validating it once, when built: every id matches
 * `[A-Za-z0-9_-]{1,32}`, every key is 32 bytes, no two ids hold the same key, and the current id
 * is in the ring. The keys are copied, so later changes to the config's arrays do not reach it.
 *
 * @throws TypeError or RangeError naming the problem (never the key bytes) when the
 *   configuration is not valid.
 *
 * @example
 * ```ts
 * const ring = createKeyRing({ current: "2026-05", keys: new Map([["2026-05", kek2], ["2025-11", kek1]]) });
 * ```
 */
export function createKeyRing(config: KeyRingConfig): KeyRing {
  if (typeof config !== "object" || config === null) throw new TypeError("key ring config must be an object");
  const { current, keys } = config;
  if (!isKeyId(current)) throw new TypeError(`key ring: the current key id must match ${KEY_ID_PATTERN.source}`);
  if (!(keys instanceof Map)) throw new TypeError("key ring: keys must be a Map from key id to key");
  const copies = new Map<string, Uint8Array>();
  for (const [kid, key] of keys as ReadonlyMap<unknown, unknown>) {
    if (!isKeyId(kid)) {
      throw new TypeError(`key ring: key id ${JSON.stringify(kid)} must match ${KEY_ID_PATTERN.source}`);
    }
    assertBytes(key, `key ring: key "${kid}"`, KEK_BYTES);
    for (const [otherKid, other] of copies) {
      // A key listed under two ids would survive a "rotation" that only renames it.
      if (timingSafeEqual(key, other)) {
        throw new RangeError(`key ring: keys "${otherKid}" and "${kid}" are the same key`);
      }
    }
    copies.set(kid, Uint8Array.from(key));
  }
  if (!copies.has(current)) throw new RangeError(`key ring: the current key id "${current}" has no key`);
  const kids = Object.freeze([current, ...[...copies.keys()].filter((kid) => kid !== current)]);
  return Object.freeze({
    currentKid: current,
    kids,
    has: (kid: string): boolean => copies.has(kid),
    getKey: (kid: string): Uint8Array | null => {
      const key = copies.get(kid);
      return key === undefined ? null : Uint8Array.from(key);
    },
  });
}
