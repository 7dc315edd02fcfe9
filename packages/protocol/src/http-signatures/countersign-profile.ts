import { fromBase64Url } from "../encoding/base64.ts";

/**
 * The constants and component rules of the Countersign profile of RFC 9421 (DESIGN §4.1). RFC 9421
 * §1.4 asks every application to fix its required components, parameters, key lookup and
 * algorithm; this file is where ours are fixed.
 */

/** The `Signature-Input` / `Signature` dictionary label of Countersign signatures. */
export const COUNTERSIGN_LABEL = "cs";
/** The RFC 9421 §2.3 `tag` every Countersign signature carries, so it is never mistaken for another profile's. */
export const COUNTERSIGN_TAG = "countersign";
/** The RFC 9421 §3.3.6 algorithm name, stated explicitly in `alg`. */
export const COUNTERSIGN_ALG = "ed25519";
/** Shortest nonce, in decoded bytes: 128 bits (DESIGN §4.1). */
export const MIN_NONCE_BYTES = 16;
/** Longest nonce, in decoded bytes; servers store nonces, so their size is bounded. */
export const MAX_NONCE_BYTES = 64;

/** The parameter names a Countersign signature may carry; any other is refused. */
export const COUNTERSIGN_PARAMS: ReadonlySet<string> = new Set(["created", "expires", "nonce", "keyid", "alg", "tag"]);

/** Reads a header by lowercase name, ignoring inherited properties and non-string values. */
export function headerValue(headers: Readonly<Record<string, string | undefined>>, name: string): string | undefined {
  if (typeof headers !== "object" || headers === null || !Object.hasOwn(headers, name)) return undefined;
  const value = headers[name];
  return typeof value === "string" ? value : undefined;
}

/**
 * The components a request must cover, in the order we sign them: `@method @authority @path @query`
 * always, `content-digest` when the request carries a Content-Digest field, `idempotency-key` when
 * it carries an Idempotency-Key field (DESIGN §4.1).
 */
export function requiredComponents(headers: Readonly<Record<string, string | undefined>>): string[] {
  const components = ["@method", "@authority", "@path", "@query"];
  if (headerValue(headers, "content-digest") !== undefined) components.push("content-digest");
  if (headerValue(headers, "idempotency-key") !== undefined) components.push("idempotency-key");
  return components;
}

/** Whether `components` is exactly the required set for these headers: nothing missing, repeated or extra. */
export function coversRequiredComponents(
  components: readonly string[],
  headers: Readonly<Record<string, string | undefined>>,
): boolean {
  const required = requiredComponents(headers);
  const unique = new Set(components);
  return (
    unique.size === components.length && components.length === required.length && required.every((c) => unique.has(c))
  );
}

/** Whether `nonce` is canonical unpadded base64url of {@link MIN_NONCE_BYTES}–{@link MAX_NONCE_BYTES} bytes. */
export function isValidNonce(nonce: unknown): nonce is string {
  if (typeof nonce !== "string") return false;
  const bytes = fromBase64Url(nonce);
  return bytes !== null && bytes.length >= MIN_NONCE_BYTES && bytes.length <= MAX_NONCE_BYTES;
}

/** Whether `keyid` can be a key id: non-empty printable ASCII, the RFC 8941 string alphabet. */
export function isValidKeyId(keyid: unknown): keyid is string {
  return typeof keyid === "string" && keyid.length > 0 && keyid.length <= 256 && /^[\x20-\x7e]+$/.test(keyid);
}

/** Whether `value` is a Unix time in seconds that an RFC 8941 integer can carry. */
export function isUnixSeconds(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0 && value <= 999_999_999_999_999;
}
