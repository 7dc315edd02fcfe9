import { createHmac, createSecretKey } from "node:crypto";
import { randomBytes, toBase64Url } from "@countersign/protocol";
import { type DerivedKeyPurpose, deriveKey } from "../crypto/derive-key.ts";

/** An enrolment code: `cs_enr_` and 192 random bits, base64url. Valid 10 minutes, single use (DESIGN §4.3). */
export const ENROLLMENT_CODE = /^cs_enr_[A-Za-z0-9_-]{32}$/;
/** How long an enrolment code is valid. */
export const ENROLLMENT_CODE_TTL_SECONDS = 600;

/** A bearer-only agent's token: `cs_agt_` and 256 random bits, base64url (DESIGN §4.2). */
export const BEARER_TOKEN = /^cs_agt_[A-Za-z0-9_-]{43}$/;
/** Default and longest lifetime of a bearer token, in days (DESIGN §4.2). */
export const BEARER_TOKEN_DEFAULT_DAYS = 30;
export const BEARER_TOKEN_MAX_DAYS = 90;

/** A secret shown once, and the keyed digest under which it is stored. */
export interface IssuedSecret {
  readonly secret: string;
  readonly digest: string;
}

/** Makes and digests the agent domain's one-time secrets. */
export interface AgentSecrets {
  newEnrollmentCode(): IssuedSecret;
  /** The stored digest of a code, or null when it is not even shaped like one. */
  enrollmentCodeDigest(code: string): string | null;
  newBearerToken(): IssuedSecret;
  /** The stored digest of a token, or null when it is not even shaped like one. */
  bearerTokenDigest(token: string): string | null;
}

/**
 * Builds the secret maker from the root secret. Codes and tokens are stored only as
 * HMAC-SHA-256 under purpose-separated keys (HKDF, `deriveKey`), and found by digest: the
 * database never holds a usable code or token, a dump allows no offline guessing without the
 * root secret, and no stored secret is compared byte by byte.
 */
export function createAgentSecrets(rootSecret: Uint8Array): AgentSecrets {
  const digester = (purpose: DerivedKeyPurpose) => {
    // Kept as a KeyObject: Node 24 prepares raw key bytes slowly on every HMAC (crypto/aead.ts).
    const key = createSecretKey(deriveKey(rootSecret, purpose));
    return (secret: string) => createHmac("sha256", key).update(secret, "utf8").digest("hex");
  };
  const codeDigest = digester("agent-enrollment-code-digest");
  const tokenDigest = digester("agent-bearer-token-digest");
  const issue = (prefix: string, bytes: number, digest: (secret: string) => string): IssuedSecret => {
    const secret = `${prefix}${toBase64Url(randomBytes(bytes))}`;
    return { secret, digest: digest(secret) };
  };
  return Object.freeze({
    newEnrollmentCode: () => issue("cs_enr_", 24, codeDigest),
    enrollmentCodeDigest: (code: string) => (ENROLLMENT_CODE.test(code) ? codeDigest(code) : null),
    newBearerToken: () => issue("cs_agt_", 32, tokenDigest),
    bearerTokenDigest: (token: string) => (BEARER_TOKEN.test(token) ? tokenDigest(token) : null),
  });
}
