import { verifyContentDigest } from "../digest/verify-content-digest.ts";
import type { ErrorCode } from "../errors/error-codes.ts";
import { checkSignatureWindow, DEFAULT_MAX_SKEW_SECONDS } from "./check-signature-window.ts";
import { headerValue } from "./countersign-profile.ts";
import type { HttpRequestParts } from "./http-request-parts.ts";
import { parseRequestSignature } from "./parse-request-signature.ts";
import { verifyParsedSignature } from "./verify-parsed-signature.ts";

/** Options of {@link verifyRequest}. */
export interface VerifyRequestOptions {
  /**
   * Finds the public key for a `keyid`, or null when there is none. Errors it throws (a database
   * that is down, say) propagate: they are not a verdict on the request.
   */
  resolveKey(keyid: string): Promise<CryptoKey | null>;
  /** The current time in Unix seconds; the system clock by default. */
  now?: number;
  /** How far `created` may be from `now`, in seconds; 300 by default. */
  maxSkewSeconds?: number;
}

/** The result of {@link verifyRequest}; on success, what the caller needs for its replay check. */
export type VerifyRequestResult =
  | { ok: true; keyid: string; nonce: string; created: number }
  | { ok: false; code: ErrorCode };

/**
 * Verifies a request signed under the Countersign profile, all steps in one, for SDKs and webhook
 * receivers. The server runs the same steps one by one in its pipeline; the order is the same:
 *
 * 1. content digest (RFC 9530): a non-empty body needs a Content-Digest field, and a Content-Digest
 *    field must match the body → `digest_mismatch`;
 * 2. parse and profile checks (`parseRequestSignature`) → `signature_missing` / `invalid_signature`;
 * 3. key lookup by `keyid` → `invalid_signature` when there is no key;
 * 4. Ed25519 signature over the rebuilt base (`verifyParsedSignature`) → `invalid_signature`;
 * 5. time window (`checkSignatureWindow`) → `signature_expired`.
 *
 * The nonce is returned, not checked: the caller refuses a `(keyid, nonce)` it has seen within
 * the window. Never throws on malformed requests.
 *
 * @example
 * ```ts
 * const result = await verifyRequest({ ...parts, body }, { resolveKey: async () => serverKey });
 * if (!result.ok) throw new CountersignError(result.code);
 * if (await seenNonce(result.keyid, result.nonce)) throw new CountersignError("nonce_replay");
 * ```
 */
export async function verifyRequest(
  request: HttpRequestParts & { body?: Uint8Array },
  options: VerifyRequestOptions,
): Promise<VerifyRequestResult> {
  const now = options.now ?? Math.floor(Date.now() / 1000);
  const maxSkewSeconds = options.maxSkewSeconds ?? DEFAULT_MAX_SKEW_SECONDS;
  if (!Number.isFinite(now) || !Number.isFinite(maxSkewSeconds) || maxSkewSeconds < 0) {
    throw new TypeError("now and maxSkewSeconds must be finite, maxSkewSeconds non-negative");
  }

  const body = request.body instanceof Uint8Array ? request.body : new Uint8Array(0);
  const contentDigest = headerValue(request.headers, "content-digest");
  if (contentDigest === undefined ? body.length > 0 : !(await verifyContentDigest(contentDigest, body))) {
    return { ok: false, code: "digest_mismatch" };
  }

  const parsed = parseRequestSignature(request.headers);
  if (!parsed.ok) return parsed;
  const { params } = parsed.signature;

  const publicKey = await options.resolveKey(params.keyid);
  if (publicKey === null || !(await verifyParsedSignature(request, parsed.signature, publicKey))) {
    return { ok: false, code: "invalid_signature" };
  }
  if (!checkSignatureWindow(params, now, maxSkewSeconds)) return { ok: false, code: "signature_expired" };
  return { ok: true, keyid: params.keyid, nonce: params.nonce, created: params.created };
}
