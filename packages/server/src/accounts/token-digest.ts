import { createHmac, createSecretKey, randomBytes } from "node:crypto";
import { toBase64Url, utf8 } from "@countersign/protocol";
import { deriveKey } from "../crypto/derive-key.ts";

/**
 * What a keyed digest is for. Each label is bound into the HMAC input, so a digest made for one
 * use can never be matched against another (a ticket's digest is never a valid code digest).
 * Append only; never rename or reuse a label.
 */
export const TOKEN_DIGEST_LABELS = [
  /** A 6-digit email code, bound to its purpose and subject. */
  "email-code",
  /** A sign-up, recovery or second-factor ticket. */
  "ticket",
  /** A recovery code's lookup digest, bound to its account. */
  "recovery-code",
  /** What a WebAuthn challenge was issued to (a ticket or a session). */
  "challenge-binding",
  /** A WebAuthn challenge. */
  "challenge",
  /** An approval's single-use decision nonce, bound to its request (DESIGN §4.6). */
  "decision-nonce",
] as const;

/** A label from {@link TOKEN_DIGEST_LABELS}. */
export type TokenDigestLabel = (typeof TOKEN_DIGEST_LABELS)[number];

/** Keyed digests of one-time secrets: what the database stores instead of the secret. */
export interface TokenDigester {
  /** HMAC-SHA-256 over the label and parts, each length-prefixed; 64 lowercase hex characters. */
  digest(label: TokenDigestLabel, ...parts: string[]): string;
}

const LABELS: ReadonlySet<string> = new Set(TOKEN_DIGEST_LABELS);

/**
 * Builds the digester over the `one-time-code-digest` key derived from the root secret (HKDF,
 * `derive-key.ts`). A stolen dump holds only these digests; without the root secret a 6-digit
 * code cannot even be brute-forced from its digest, which an unkeyed hash would allow in a
 * million tries (seed 001: "digests are used for lookups instead of plaintext values").
 *
 * @example
 * ```ts
 * const digests = createTokenDigester(config.secrets.masterKey);
 * const stored = digests.digest("email-code", "signup", subject, "123456");
 * ```
 */
export function createTokenDigester(rootSecret: Uint8Array): TokenDigester {
  // Kept as a KeyObject: Node 24 prepares raw key bytes slowly on every HMAC (crypto/aead.ts).
  const key = createSecretKey(deriveKey(rootSecret, "one-time-code-digest"));
  return Object.freeze({
    digest(label: TokenDigestLabel, ...parts: string[]): string {
      if (!LABELS.has(label)) throw new TypeError("unknown token digest label");
      const hmac = createHmac("sha256", key);
      // Length prefixes keep ("ab", "c") and ("a", "bc") apart.
      for (const part of [label, ...parts]) {
        if (typeof part !== "string") throw new TypeError("digest parts must be strings");
        const bytes = utf8(part);
        const prefix = Buffer.alloc(4);
        prefix.writeUInt32BE(bytes.length);
        hmac.update(prefix).update(bytes);
      }
      return hmac.digest("hex");
    },
  });
}

/** A new bearer secret for a ticket: 32 random bytes, base64url (43 characters, 256 bits). */
export function newTicketSecret(): string {
  return toBase64Url(randomBytes(32));
}
