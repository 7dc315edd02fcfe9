import { toBase64Url } from "../encoding/base64.ts";
import { assertBytes, utf8 } from "../encoding/bytes.ts";
import { canonicalize } from "../jcs/canonicalize.ts";
import { type E2eBinding, e2eInfo } from "./e2e-info.ts";
import { hpkeSealBase } from "./hpke-base.ts";

/** An end-to-end encrypted request context, as `context_e2e` carries it (spec §0). */
export interface SealedContext {
  v: 1;
  /** The account key id whose public key sealed it. */
  kid: string;
  /** b64u of the 32-byte HPKE encapsulated key. */
  enc: string;
  /** b64u of the HPKE ciphertext (JCS UTF-8 of the context, plus the 16-byte tag). */
  ct: string;
}

/**
 * The HPKE AAD of a context: UTF-8 of its key id, so that the `kid` the server checks against the
 * agent's pinned key cannot be swapped without breaking decryption.
 */
export function contextAad(kid: string): Uint8Array {
  return utf8(kid);
}

/**
 * Seals a request context to the account public key with HPKE base mode (RFC 9180 §6.1), so the
 * server stores it without being able to read it. The plaintext is the UTF-8 of the context's
 * JCS (RFC 8785) form, which is also what the display hash covers; `info` = {@link e2eInfo}.
 *
 * @throws CountersignError `validation_failed` when the context is not I-JSON (see canonicalize).
 */
export async function sealContext(args: {
  publicKey: Uint8Array;
  kid: string;
  context: Record<string, unknown>;
  binding: E2eBinding;
}): Promise<SealedContext> {
  assertBytes(args.publicKey, "publicKey", 32);
  if (typeof args.kid !== "string" || args.kid.length === 0) throw new TypeError("kid must be a non-empty string");
  if (typeof args.context !== "object" || args.context === null || Array.isArray(args.context)) {
    throw new TypeError("context must be a JSON object");
  }
  const plaintext = utf8(canonicalize(args.context));
  const { enc, ct } = await hpkeSealBase(args.publicKey, e2eInfo(args.binding), contextAad(args.kid), plaintext);
  return { v: 1, kid: args.kid, enc: toBase64Url(enc), ct: toBase64Url(ct) };
}
