import { ed25519Sign } from "../crypto/ed25519.ts";
import { createContentDigest } from "../digest/create-content-digest.ts";
import { verifyContentDigest } from "../digest/verify-content-digest.ts";
import { toBase64, toBase64Url } from "../encoding/base64.ts";
import { randomBytes, utf8 } from "../encoding/bytes.ts";
import { CountersignError } from "../errors/countersign-error.ts";
import {
  COUNTERSIGN_ALG,
  COUNTERSIGN_LABEL,
  COUNTERSIGN_TAG,
  headerValue,
  isUnixSeconds,
  isValidKeyId,
  isValidNonce,
  MIN_NONCE_BYTES,
  requiredComponents,
} from "./countersign-profile.ts";
import { createSignatureBase } from "./create-signature-base.ts";
import type { HttpRequestParts } from "./http-request-parts.ts";
import { serializeSignatureParams } from "./serialize-signature-params.ts";
import type { BareItem } from "./structured-fields/structured-field-types.ts";

/** The key a request is signed with. */
export interface RequestSigner {
  /** The key id the server knows the public key by; sent as `keyid`. */
  keyId: string;
  /** An Ed25519 private key with the "sign" usage. */
  privateKey: CryptoKey;
}

/** Options of {@link signRequest}. */
export interface SignRequestOptions {
  /** Creation time in Unix seconds; the current time by default. */
  created?: number;
  /** A base64url nonce of at least 16 bytes; 16 fresh random bytes by default. */
  nonce?: string;
  /** An expiry time in Unix seconds, later than `created`; none by default. */
  expires?: number;
}

/**
 * Signs a request under the Countersign profile of RFC 9421 (DESIGN §4.1) and returns the header
 * fields to add to it: `signature-input` and `signature` (label `cs`), and `content-digest` (RFC
 * 9530, SHA-256) when the request has a non-empty body and no Content-Digest field yet.
 *
 * The request must be the one that is sent: the same method, authority, path, query and headers,
 * and the exact body bytes.
 *
 * @throws CountersignError `validation_failed` when the options are invalid or a covered value
 *   cannot be signed (for example a header value with a line break), and `digest_mismatch` when
 *   the request already has a Content-Digest field that does not match its body.
 *
 * @example
 * ```ts
 * const body = utf8(JSON.stringify({ action_type: "deploy", title: "Deploy v2" }));
 * const request = { method: "POST", authority: "api.example.com", path: "/v1/approvals", query: "",
 *   headers: { "content-type": "application/json", "idempotency-key": crypto.randomUUID() }, body };
 * const added = await signRequest(request, { keyId: "agt_123", privateKey });
 * await fetch("https://api.example.com/v1/approvals", {
 *   method: "POST", headers: { ...request.headers, ...added }, body,
 * });
 * ```
 */
export async function signRequest(
  request: HttpRequestParts & { body?: Uint8Array },
  signer: RequestSigner,
  options: SignRequestOptions = {},
): Promise<Record<string, string>> {
  const created = options.created ?? Math.floor(Date.now() / 1000);
  const nonce = options.nonce ?? toBase64Url(randomBytes(MIN_NONCE_BYTES));
  if (!isUnixSeconds(created)) throw invalid("created must be a non-negative integer number of seconds");
  if (!isValidNonce(nonce)) throw invalid("nonce must be base64url of at least 16 bytes");
  if (!isValidKeyId(signer.keyId)) throw invalid("keyId must be printable ASCII");
  if (options.expires !== undefined && !(isUnixSeconds(options.expires) && options.expires > created)) {
    throw invalid("expires must be an integer number of seconds after created");
  }

  const added: Record<string, string> = {};
  const body = request.body;
  const existingDigest = headerValue(request.headers, "content-digest");
  if (existingDigest === undefined && body !== undefined && body.length > 0) {
    added["content-digest"] = await createContentDigest(body);
  } else if (existingDigest !== undefined && body !== undefined && !(await verifyContentDigest(existingDigest, body))) {
    throw new CountersignError("digest_mismatch");
  }
  const headers = { ...request.headers, ...added };

  const components = requiredComponents(headers);
  const params: Array<readonly [string, BareItem]> = [["created", { type: "integer", value: created }]];
  if (options.expires !== undefined) params.push(["expires", { type: "integer", value: options.expires }]);
  params.push(
    ["nonce", { type: "string", value: nonce }],
    ["keyid", { type: "string", value: signer.keyId }],
    ["alg", { type: "string", value: COUNTERSIGN_ALG }],
    ["tag", { type: "string", value: COUNTERSIGN_TAG }],
  );
  const signatureParams = serializeSignatureParams(components, params);
  const base = createSignatureBase({ ...request, headers }, components, signatureParams);
  if (base === null) throw invalid("the request has a component value that cannot be signed");

  // RFC 9421 §3.1 step 6 and §3.3.6: Ed25519 over the UTF-8 (here ASCII) bytes of the base.
  const signature = await ed25519Sign(signer.privateKey, utf8(base));
  added["signature-input"] = `${COUNTERSIGN_LABEL}=${signatureParams}`;
  added.signature = `${COUNTERSIGN_LABEL}=:${toBase64(signature)}:`;
  return added;
}

function invalid(message: string): CountersignError {
  return new CountersignError("validation_failed", { message: `Cannot sign the request: ${message}.` });
}
