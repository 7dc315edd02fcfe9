import { accountKeyFingerprint, CountersignError, fromBase64Url, toBase64Url } from "@countersign/protocol";

/**
 * The account key set an end-to-end agent encrypts its context to (DESIGN §4.11), as the
 * enrolment answer hands it over and the key file keeps it: the agent trusts this key from
 * enrolment on, and nothing the server says later replaces it.
 *
 * @example
 * ```ts
 * const pin: E2ePin = { account_key_id: "ak_…", public_key: "…", fingerprint: "K3QF-…" };
 * const client = await createAgentClient({ keyFile: "agent-key.json", e2e: pin });
 * ```
 */
export interface E2ePin {
  /** `ak_…`: sent as the `kid` of every `context_e2e`. */
  readonly account_key_id: string;
  /** The X25519 public key, 32 raw bytes, base64url without padding. */
  readonly public_key: string;
  /** `accountKeyFingerprint(public_key)`: what the person compares with their app. */
  readonly fingerprint: string;
}

const ACCOUNT_KEY_ID = /^ak_[A-Za-z0-9_-]{22}$/;

/**
 * Checks a pin: a well-formed key set id, a canonical 32-byte public key, and a fingerprint that
 * is the fingerprint of that key — so the fingerprint a person checked is the key being used.
 *
 * @throws CountersignError `validation_failed` naming the problem.
 *
 * @example
 * ```ts
 * const pin = parseE2ePin(answer.e2e);
 * console.log(`Check that your app shows ${pin.fingerprint}`);
 * ```
 */
export function parseE2ePin(value: unknown): E2ePin {
  const fields = typeof value === "object" && value !== null ? (value as Record<string, unknown>) : {};
  const problem = (message: string): CountersignError =>
    new CountersignError("validation_failed", { message: `The end-to-end key pin is not valid: ${message}.` });
  if (typeof fields.account_key_id !== "string" || !ACCOUNT_KEY_ID.test(fields.account_key_id)) {
    throw problem("account_key_id must be ak_ and 22 characters");
  }
  const publicKey = typeof fields.public_key === "string" ? fromBase64Url(fields.public_key) : null;
  if (publicKey?.length !== 32 || toBase64Url(publicKey) !== fields.public_key) {
    throw problem("public_key must be a 32-byte X25519 key, base64url without padding");
  }
  if (fields.fingerprint !== accountKeyFingerprint(publicKey)) {
    throw problem("the fingerprint is not the public key's");
  }
  return Object.freeze({
    account_key_id: fields.account_key_id,
    public_key: fields.public_key,
    fingerprint: fields.fingerprint,
  });
}
