import type { AgentRequest, AgentRequestCheck, AgentRequestDeps, AgentRequestState } from "./agent-request.ts";
import { checkAgentCurrent } from "./checks/check-agent-current.ts";
import { checkAgentState } from "./checks/check-agent-state.ts";
import { checkBearerToken } from "./checks/check-bearer-token.ts";
import { checkContentDigest } from "./checks/check-content-digest.ts";
import { checkHost } from "./checks/check-host.ts";
import { checkIpAllowlist } from "./checks/check-ip-allowlist.ts";
import { checkNonce } from "./checks/check-nonce.ts";
import { checkOneCredential } from "./checks/check-one-credential.ts";
import { checkSignature } from "./checks/check-signature.ts";
import { checkTimeWindow } from "./checks/check-time-window.ts";

/**
 * Proof that the sender holds the key and that the request is fresh (DESIGN §4.1): cheap,
 * stateless checks first; the nonce, which writes, last, so only authentic, timely requests
 * spend one. Enrolment runs exactly these, with the key being enrolled (DESIGN §4.3).
 */
export const SIGNATURE_CHECKS: readonly AgentRequestCheck[] = [
  checkHost,
  checkContentDigest,
  checkSignature,
  checkTimeWindow,
  checkNonce,
];

/**
 * The checks every signed agent request passes, in order: the signature checks, then the agent
 * row (made current as of the nonce → state → allowlist). Later domains append theirs
 * (throttle → cool-down → suppression).
 */
export const AGENT_REQUEST_CHECKS: readonly AgentRequestCheck[] = [
  ...SIGNATURE_CHECKS,
  checkAgentCurrent,
  checkAgentState,
  checkIpAllowlist,
];

/**
 * The checks of a bearer-only request (DESIGN §4.2): no signature, so no digest, window or
 * nonce; host → one credential → token → agent state → allowlist.
 */
export const BEARER_REQUEST_CHECKS: readonly AgentRequestCheck[] = [
  checkHost,
  checkOneCredential,
  checkBearerToken,
  checkAgentState,
  checkIpAllowlist,
];

/**
 * Picks the check list by the credential presented: an `Authorization` header means a bearer
 * request, anything else a signed one. This only chooses how to verify the credential; whether
 * the agent may use that kind of credential comes from its row (T-10, `checkAgentState`).
 */
export function agentRequestChecksFor(request: AgentRequest): readonly AgentRequestCheck[] {
  return request.parts.headers.authorization === undefined ? AGENT_REQUEST_CHECKS : BEARER_REQUEST_CHECKS;
}

/**
 * Runs the checks in order and returns what they established; the first refusal throws. Pass
 * `state` to see what was established before a refusal (to tell a refused but authentic request
 * from a forged one).
 */
export async function runAgentRequestPipeline(
  request: AgentRequest,
  deps: AgentRequestDeps,
  checks: readonly AgentRequestCheck[] = agentRequestChecksFor(request),
  state: AgentRequestState = {},
): Promise<AgentRequestState> {
  for (const check of checks) {
    // Most checks are synchronous; awaiting only the promises saves a microtask turn for each.
    const pending = check(request, state, deps);
    if (pending !== undefined) await pending;
  }
  return state;
}
