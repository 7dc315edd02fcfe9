import { fromBase64Url } from "../encoding/base64.ts";
import { assertBytes, fromUtf8 } from "../encoding/bytes.ts";
import { CountersignError } from "../errors/countersign-error.ts";
import { type E2eBinding, e2eInfo } from "./e2e-info.ts";
import { hpkeOpenBase } from "./hpke-base.ts";
import { contextAad, type SealedContext } from "./seal-context.ts";

/**
 * Opens a {@link SealedContext} with the account private key (RFC 9180 §6.1 OpenBase), checking
 * that it was sealed for these request fields (`info` = {@link e2eInfo}) and this key id.
 *
 * @throws CountersignError `e2e_decrypt_failed` for any failure — malformed envelope, wrong key,
 * wrong binding, tampering, or a plaintext that is not a JSON object — without saying which.
 */
export async function openContext(args: {
  privateKey: Uint8Array;
  sealed: SealedContext;
  binding: E2eBinding;
}): Promise<Record<string, unknown>> {
  assertBytes(args.privateKey, "privateKey", 32);
  const sealed: unknown = args.sealed;
  if (typeof sealed !== "object" || sealed === null) throw new CountersignError("e2e_decrypt_failed");
  const { v, kid, enc, ct } = sealed as Record<string, unknown>;
  if (v !== 1 || typeof kid !== "string" || typeof enc !== "string" || typeof ct !== "string") {
    throw new CountersignError("e2e_decrypt_failed");
  }
  const encBytes = fromBase64Url(enc);
  const ctBytes = fromBase64Url(ct);
  if (encBytes?.length !== 32 || ctBytes === null) throw new CountersignError("e2e_decrypt_failed");

  let parsed: unknown;
  try {
    const info = e2eInfo(args.binding);
    const plaintext = await hpkeOpenBase(args.privateKey, encBytes, info, contextAad(kid), ctBytes);
    parsed = JSON.parse(fromUtf8(plaintext));
  } catch (cause) {
    throw new CountersignError("e2e_decrypt_failed", { cause });
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new CountersignError("e2e_decrypt_failed");
  }
  return parsed as Record<string, unknown>;
}
