import { createHmac, createSecretKey, type KeyObject } from "node:crypto";
import { assertBytes } from "@countersign/protocol";
import { deriveKey } from "../crypto/derive-key.ts";

/** Length of a session id in bytes: 256 bits (A-2; ASVS 5.0 V7.2.3 asks for at least 128). */
export const SESSION_ID_BYTES = 32;

/** The two server keys sessions use, derived once from the root secret. */
export interface SessionKeys {
  /** HMAC-SHA-256 key of the MAC that follows the id in the cookie. */
  readonly cookie: KeyObject;
  /** HMAC-SHA-256 key of the digest under which the id is stored. */
  readonly digest: KeyObject;
}

/**
 * Derives the cookie-MAC and storage-digest keys (purposes `session-cookie` and
 * `session-digest`). Two keys, not one, so the stored digest of an id is never the MAC an
 * attacker would need to forge its cookie, even though both are HMACs of the same id.
 */
export function deriveSessionKeys(masterKey: Uint8Array): SessionKeys {
  return Object.freeze({
    // KeyObjects: Node 24 prepares raw key bytes slowly on every HMAC (crypto/aead.ts).
    cookie: createSecretKey(deriveKey(masterKey, "session-cookie")),
    digest: createSecretKey(deriveKey(masterKey, "session-digest")),
  });
}

/** The keyed digest a session is stored under: HMAC-SHA-256(digest key, id), 32 bytes. */
export function sessionIdDigest(keys: SessionKeys, id: Uint8Array): Uint8Array {
  assertBytes(id, "session id", SESSION_ID_BYTES);
  return new Uint8Array(createHmac("sha256", keys.digest).update(id).digest());
}
