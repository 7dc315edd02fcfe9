import {
  type COUNTERSIGN_ALG,
  COUNTERSIGN_LABEL,
  COUNTERSIGN_PARAMS,
  type COUNTERSIGN_TAG,
  coversRequiredComponents,
  headerValue,
  isUnixSeconds,
  isValidKeyId,
  isValidNonce,
} from "./countersign-profile.ts";
import { parseSignatureInput, parseSignatureValue } from "./parse-signature-fields.ts";
import type { Parameters } from "./structured-fields/structured-field-types.ts";

/** The signature parameters of a Countersign signature (RFC 9421 §2.3, DESIGN §4.1). */
export interface CountersignSignatureParams {
  /** Creation time, Unix seconds. */
  created: number;
  /** Base64url nonce of at least 128 bits; the server refuses a `(keyid, nonce)` seen before. */
  nonce: string;
  /** The signing key's id. */
  keyid: string;
  alg: typeof COUNTERSIGN_ALG;
  tag: typeof COUNTERSIGN_TAG;
  /** Expiry time, Unix seconds, later than `created`, when the signer set one. */
  expires?: number;
}

/** A `cs` signature that passed the profile's syntax checks; not yet cryptographically verified. */
export interface ParsedRequestSignature {
  /** The covered component names, in the signer's order. */
  components: readonly string[];
  params: CountersignSignatureParams;
  /** The exact `@signature-params` value (RFC 9421 §2.3) the signature base ends with. */
  signatureParams: string;
  /** The 64-byte Ed25519 signature. */
  signature: Uint8Array;
}

/** The result of {@link parseRequestSignature}. */
export type ParseRequestSignatureResult =
  | { ok: true; signature: ParsedRequestSignature }
  | { ok: false; code: "signature_missing" | "invalid_signature" };

const INVALID = { ok: false, code: "invalid_signature" } as const;

/**
 * Reads the `cs` signature from a request's `Signature-Input` and `Signature` fields and applies
 * the Countersign profile's checks (DESIGN §4.1):
 *
 * - both fields absent → `signature_missing`; anything else wrong → `invalid_signature`;
 * - both fields are strict RFC 8941 dictionaries with a `cs` member (other labels are ignored);
 * - the covered components are exactly `@method @authority @path @query`, plus `content-digest` when
 *   the request has a Content-Digest field and `idempotency-key` when it has an Idempotency-Key
 *   field, with no repeats and no component parameters;
 * - the parameters are `created`, `nonce`, `keyid`, `alg="ed25519"`, `tag="countersign"` and
 *   optionally `expires` (> `created`), each of the right type, and nothing else;
 * - the signature is a 64-byte byte sequence.
 *
 * Never throws. Verify the result with `verifyParsedSignature`.
 */
export function parseRequestSignature(
  headers: Readonly<Record<string, string | undefined>>,
): ParseRequestSignatureResult {
  const inputField = headerValue(headers, "signature-input");
  const signatureField = headerValue(headers, "signature");
  if (inputField === undefined && signatureField === undefined) return { ok: false, code: "signature_missing" };
  if (inputField === undefined || signatureField === undefined) return INVALID;

  const input = parseSignatureInput(inputField, COUNTERSIGN_LABEL);
  const signature = parseSignatureValue(signatureField, COUNTERSIGN_LABEL);
  // RFC 8032 §5.1.6: an Ed25519 signature is 64 bytes.
  if (input === null || signature?.length !== 64) return INVALID;
  if (!coversRequiredComponents(input.components, headers)) return INVALID;
  const params = profileParams(input.params);
  if (params === null) return INVALID;
  return {
    ok: true,
    signature: { components: input.components, params, signatureParams: input.signatureParams, signature },
  };
}

function profileParams(params: Parameters): CountersignSignatureParams | null {
  const values = new Map(params);
  for (const key of values.keys()) if (!COUNTERSIGN_PARAMS.has(key)) return null;
  const created = values.get("created");
  const expires = values.get("expires");
  const nonce = values.get("nonce");
  const keyid = values.get("keyid");
  const alg = values.get("alg");
  const tag = values.get("tag");
  // RFC 9421 §2.3: created and expires are integers, the others strings (not tokens).
  if (created?.type !== "integer" || !isUnixSeconds(created.value)) return null;
  if (nonce?.type !== "string" || !isValidNonce(nonce.value)) return null;
  if (keyid?.type !== "string" || !isValidKeyId(keyid.value)) return null;
  if (alg?.type !== "string" || alg.value !== "ed25519") return null;
  if (tag?.type !== "string" || tag.value !== "countersign") return null;
  const result: CountersignSignatureParams = {
    created: created.value,
    nonce: nonce.value,
    keyid: keyid.value,
    alg: alg.value,
    tag: tag.value,
  };
  if (expires !== undefined) {
    if (expires.type !== "integer" || !isUnixSeconds(expires.value) || expires.value <= created.value) return null;
    result.expires = expires.value;
  }
  return result;
}
