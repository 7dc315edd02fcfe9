import { CountersignError } from "@countersign/protocol";
import type { AgentRequestCheck } from "../agent-request.ts";

/**
 * The agent behind a verified credential must be usable now (DESIGN §4.3): not revoked, the key
 * enrolled under the agent's current credentials version, not suspended. The row is current as
 * of this request (`checkAgentCurrent`), so revoke, rotate and suspend apply to the next request
 * in every process.
 *
 * The credential must also be of the kind the agent's row names (T-10): the auth mode is never
 * taken from the request.
 */
export const checkAgentState: AgentRequestCheck = (_request, state, deps) => {
  const agent = state.agent;
  if (agent === undefined || state.authMode === undefined) throw new CountersignError("unknown_agent");
  if (agent.authMode !== state.authMode) {
    throw new CountersignError(state.authMode === "signed" ? "invalid_signature" : "unknown_agent");
  }
  if (agent.status === "revoked") throw new CountersignError("agent_revoked");
  // A key from before a rotation is dead even while the agent is suspended; say so first.
  if (state.key !== undefined && state.key.credentialsVersion !== agent.credentialsVersion) {
    throw new CountersignError("agent_credentials_rotated");
  }
  if (agent.status === "suspended") throw new CountersignError("agent_suspended");
  if (agent.authMode === "bearer_only" && !deps.bearerOnlyAllowed) throw new CountersignError("bearer_not_allowed");
};
