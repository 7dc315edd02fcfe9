import { assertBytes, concatBytes, fromUtf8, randomBytes, utf8 } from "@countersign/protocol";
import {
  CHACHA20_POLY1305_NONCE_BYTES,
  CHACHA20_POLY1305_TAG_BYTES,
  chacha20Poly1305Open,
  chacha20Poly1305Seal,
} from "../crypto/aead.ts";
import { assertText } from "../crypto/assert-text.ts";
import { hkdfSha256 } from "../crypto/hkdf.ts";
import type { SessionAuthMethod, SessionData } from "./session.ts";
import { SESSION_ID_BYTES } from "./session-keys.ts";

/**
 * Session data at rest (DESIGN §4.9, A-2; seed 001 "per-session encryption keys"): sealed with
 * ChaCha20-Poly1305 (RFC 8439) under a key derived from the session id itself,
 *
 *   key = HKDF-SHA-256(IKM = id, salt = none, info = "countersign/session-data/v1", 32)
 *
 * (RFC 5869; the id is 256 uniformly random bits, so it is a proper IKM without a salt). Only
 * the cookie holds the id and the table holds only its digest, so a database dump, a backup or
 * the server acting on its own cannot open any session's data.
 *
 * The AAD binds the columns that never change after sign-in: handle, user, method, creation
 * time and absolute expiry. Someone who can write the table but lacks the cookie cannot move a
 * session to another user, or extend it, without the data failing to open, and a session whose
 * data does not open is refused.
 */

const INFO = utf8("countersign/session-data/v1");
const DOMAIN = "countersign/session-data/v1";

/** The columns a session's sealed data is bound to. */
export interface SessionBinding {
  readonly handle: string;
  readonly userId: string;
  readonly authMethod: SessionAuthMethod;
  readonly createdAt: Date;
  readonly absoluteExpiresAt: Date;
}

function dataKey(id: Uint8Array): Uint8Array {
  assertBytes(id, "session id", SESSION_ID_BYTES);
  return hkdfSha256(id, new Uint8Array(0), INFO, 32);
}

// Each part is prefixed with its UTF-8 length (32-bit big-endian), as in field-cipher.ts, so no
// value can shift bytes into its neighbour.
function aad(binding: SessionBinding): Uint8Array {
  assertText(binding.handle, "binding.handle");
  assertText(binding.userId, "binding.userId");
  const parts = [
    DOMAIN,
    binding.handle,
    binding.userId,
    binding.authMethod,
    String(binding.createdAt.getTime()),
    String(binding.absoluteExpiresAt.getTime()),
  ].map(utf8);
  const encoded: Uint8Array[] = [];
  for (const part of parts) {
    const prefix = new Uint8Array(4);
    new DataView(prefix.buffer).setUint32(0, part.length);
    encoded.push(prefix, part);
  }
  return concatBytes(...encoded);
}

/** Seals session data: nonce (12) ‖ ciphertext ‖ tag (16), with a fresh random nonce. */
export function sealSessionData(id: Uint8Array, binding: SessionBinding, data: SessionData): Uint8Array {
  const key = dataKey(id);
  try {
    const nonce = randomBytes(CHACHA20_POLY1305_NONCE_BYTES);
    const plaintext = utf8(JSON.stringify({ ip: data.ip, userAgent: data.userAgent }));
    return concatBytes(nonce, chacha20Poly1305Seal(key, nonce, plaintext, aad(binding)));
  } finally {
    key.fill(0);
  }
}

/**
 * Opens sealed session data, or returns null when it was not sealed under this id and binding, or
 * does not hold session data. The reason is not reported.
 */
export function openSessionData(id: Uint8Array, binding: SessionBinding, sealed: Uint8Array): SessionData | null {
  assertBytes(sealed, "sealed session data");
  if (sealed.length < CHACHA20_POLY1305_NONCE_BYTES + CHACHA20_POLY1305_TAG_BYTES) return null;
  const key = dataKey(id);
  let plaintext: Uint8Array | null;
  try {
    plaintext = chacha20Poly1305Open(
      key,
      sealed.subarray(0, CHACHA20_POLY1305_NONCE_BYTES),
      sealed.subarray(CHACHA20_POLY1305_NONCE_BYTES),
      aad(binding),
    );
  } finally {
    key.fill(0);
  }
  if (plaintext === null) return null;
  try {
    const value: unknown = JSON.parse(fromUtf8(plaintext));
    if (typeof value !== "object" || value === null) return null;
    const { ip, userAgent } = value as Record<string, unknown>;
    if (!isNullableString(ip) || !isNullableString(userAgent)) return null;
    return { ip, userAgent };
  } catch {
    return null;
  } finally {
    plaintext.fill(0);
  }
}

function isNullableString(value: unknown): value is string | null {
  return value === null || typeof value === "string";
}
