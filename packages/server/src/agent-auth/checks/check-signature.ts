import { CountersignError, parseRequestSignature, verifyParsedSignature } from "@countersign/protocol";
import type { AgentRequestCheck } from "../agent-request.ts";
import { nodeEd25519Verify } from "../node-ed25519-verify.ts";

/**
 * Parses `Signature-Input`/`Signature` strictly under the Countersign profile, looks the key up
 * by `keyid`, and verifies the Ed25519 signature over the rebuilt signature base (RFC 9421 §3.2).
 * An unknown key id and a bad signature get the same code, so key ids cannot be probed.
 */
export const checkSignature: AgentRequestCheck = async (request, state, deps) => {
  const parsed = parseRequestSignature(request.parts.headers);
  if (!parsed.ok) throw new CountersignError(parsed.code);
  const key = await deps.resolveKey(parsed.signature.params.keyid);
  if (key === null) throw new CountersignError("invalid_signature");
  if (!(await verifyParsedSignature(request.parts, parsed.signature, key.publicKey, nodeEd25519Verify))) {
    throw new CountersignError("invalid_signature");
  }
  state.signature = parsed.signature;
  state.key = key;
  state.authMode = "signed";
  if (key.agent !== null) state.agent = key.agent;
};
