import { ed25519Verify } from "../crypto/ed25519.ts";
import { utf8 } from "../encoding/bytes.ts";
import { coversRequiredComponents } from "./countersign-profile.ts";
import { createSignatureBase } from "./create-signature-base.ts";
import type { HttpRequestParts } from "./http-request-parts.ts";
import type { ParsedRequestSignature } from "./parse-request-signature.ts";

/**
 * Checks an Ed25519 signature; WebCrypto's by default. A Node server may pass a faster one (the
 * thread-pool form of node:crypto's verify) — it must never throw, only answer false.
 */
export type SignatureVerifier = (publicKey: CryptoKey, signature: Uint8Array, data: Uint8Array) => Promise<boolean>;

/**
 * Verifies a parsed `cs` signature against the request it came with (RFC 9421 §3.2 steps 6–8):
 * rebuilds the signature base from the request's own values and checks the Ed25519 signature
 * with `publicKey`. It checks the signature only — not the time window, the nonce or the digest,
 * which are separate steps.
 *
 * Never throws: a base that cannot be built, a key of the wrong type or a bad signature all give
 * false.
 */
export async function verifyParsedSignature(
  request: HttpRequestParts,
  parsed: ParsedRequestSignature,
  publicKey: CryptoKey,
  verify: SignatureVerifier = ed25519Verify,
): Promise<boolean> {
  try {
    // The profile's component rule is re-checked here so that a signature parsed from other
    // headers cannot be replayed against this request.
    if (!coversRequiredComponents(parsed.components, request.headers)) return false;
    const base = createSignatureBase(request, parsed.components, parsed.signatureParams);
    if (base === null) return false;
    return await verify(publicKey, parsed.signature, utf8(base));
  } catch {
    return false;
  }
}
