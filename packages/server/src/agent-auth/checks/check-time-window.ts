import { CountersignError, checkSignatureWindow } from "@countersign/protocol";
import type { AgentRequestCheck } from "../agent-request.ts";

/**
 * `created` must be within ±maxSkew seconds of the server's clock, and `expires`, when the agent
 * set one, not yet passed (DESIGN §4.1, T-8). Runs after the signature check, so the parameters
 * it reads are authentic.
 */
export const checkTimeWindow: AgentRequestCheck = (_request, state, deps) => {
  const params = state.signature?.params;
  if (params === undefined) throw new CountersignError("invalid_signature");
  const now = Math.floor(deps.clock.now() / 1000);
  if (!checkSignatureWindow(params, now, deps.maxSkewSeconds)) throw new CountersignError("signature_expired");
};
