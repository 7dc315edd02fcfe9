import type { AgentRequest, AgentRequestCheck, AgentRequestDeps, AgentRequestState } from "./agent-request.ts";
import { checkContentDigest } from "./checks/check-content-digest.ts";
import { checkHost } from "./checks/check-host.ts";
import { checkNonce } from "./checks/check-nonce.ts";
import { checkSignature } from "./checks/check-signature.ts";
import { checkTimeWindow } from "./checks/check-time-window.ts";

/**
 * The checks every signed agent request passes, in order (DESIGN §4.1). Cheap, stateless checks
 * come first; the nonce, which writes, comes last. Later domains append their own (agent state →
 * allowlist → throttle → cool-down → suppression).
 */
export const AGENT_REQUEST_CHECKS: readonly AgentRequestCheck[] = [
  checkHost,
  checkContentDigest,
  checkSignature,
  checkTimeWindow,
  checkNonce,
];

/** Runs the checks in order and returns what they established; the first refusal throws. */
export async function runAgentRequestPipeline(
  request: AgentRequest,
  deps: AgentRequestDeps,
  checks: readonly AgentRequestCheck[] = AGENT_REQUEST_CHECKS,
): Promise<AgentRequestState> {
  const state: AgentRequestState = {};
  for (const check of checks) await check(request, state, deps);
  return state;
}
