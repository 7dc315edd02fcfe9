import { utf8 } from "@countersign/protocol";
import { hkdfSha256 } from "./hkdf.ts";
import { assertRootSecret } from "./root-secret.ts";

/**
 * Purpose-separated keys derived from the root secret with HKDF-SHA-256 (RFC 5869 §3.2: distinct
 * `info` values give independent keys from one IKM). Purposes come from a fixed allowlist, so a
 * typo cannot silently derive a fresh, unrelated key, and so that one list shows every key the
 * root secret feeds. Blind-index keys are derived separately, by `createBlindIndexer`, under
 * their own `info` prefix.
 *
 * To add a purpose, append it here; never rename or reuse one, as that changes or shares a key.
 */
export const DERIVED_KEY_PURPOSES = [
  /** HMAC key signing the session id in the `__Host-cs_session` cookie (DESIGN §4.9). */
  "session-cookie",
  /** HMAC key of the keyed digest under which session ids are stored (DESIGN §4.9, A-2). */
  "session-digest",
  /** HMAC key of the keyed digest of RFC 9421 signature nonces in the replay store (T-8). */
  "signature-nonce-digest",
  /** HMAC key of the keyed digest of one-time codes and recovery codes. */
  "one-time-code-digest",
  /** HMAC key of keyed digests of sign-in subjects (account, client network): attempt limits, sessions. */
  "auth-subject-digest",
  /** HMAC key of the keyed digest under which agent enrolment codes are stored (DESIGN §4.3, A-5). */
  "agent-enrollment-code-digest",
  /** HMAC key of the keyed digest under which bearer-only agent tokens are stored (DESIGN §4.2). */
  "agent-bearer-token-digest",
  /** ChaCha20-Poly1305 key sealing stored Idempotency-Key responses (an approval's number is in one; A-3). */
  "idempotency-response",
] as const;

/** A purpose from {@link DERIVED_KEY_PURPOSES}. */
export type DerivedKeyPurpose = (typeof DERIVED_KEY_PURPOSES)[number];

/** Shortest derived key: 128 bits. */
export const DERIVED_KEY_MIN_BYTES = 16;
/** Longest derived key: one HMAC-SHA-256 block; longer HMAC keys are hashed down anyway. */
export const DERIVED_KEY_MAX_BYTES = 64;

const PURPOSES: ReadonlySet<string> = new Set(DERIVED_KEY_PURPOSES);

/** The HKDF `info` for a purpose. Disjoint from the blind-index prefix `countersign/blind-index/`. */
export function derivedKeyInfo(purpose: DerivedKeyPurpose): string {
  return `countersign/key/v1/${purpose}`;
}

/**
 * Derives the key for `purpose`: HKDF-SHA-256 (RFC 5869) with the root secret as IKM, no salt,
 * and `info` = `countersign/key/v1/<purpose>`. Deterministic: the same root secret always gives
 * the same key, so derive once at start-up and keep it.
 *
 * @param length key length in bytes, 16 to 64 (default 32).
 * @throws TypeError for an unknown purpose; RangeError for a short root secret or a length out of
 *   range.
 *
 * @example
 * ```ts
 * const cookieKey = deriveKey(config.rootSecret, "session-cookie");
 * ```
 */
export function deriveKey(rootSecret: Uint8Array, purpose: DerivedKeyPurpose, length = 32): Uint8Array {
  assertRootSecret(rootSecret);
  if (typeof purpose !== "string" || !PURPOSES.has(purpose)) throw new TypeError("unknown key purpose");
  if (!Number.isSafeInteger(length) || length < DERIVED_KEY_MIN_BYTES || length > DERIVED_KEY_MAX_BYTES) {
    throw new RangeError(`length must be an integer from ${DERIVED_KEY_MIN_BYTES} to ${DERIVED_KEY_MAX_BYTES}`);
  }
  // RFC 5869 §3.1: the salt is optional; with a uniformly random root secret it adds nothing.
  return hkdfSha256(rootSecret, new Uint8Array(0), utf8(derivedKeyInfo(purpose)), length);
}
