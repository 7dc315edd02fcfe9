import { CountersignError } from "@countersign/protocol";
import type { AgentRequestCheck, AgentRequestState, AuthenticatedAgent } from "../agent-request.ts";

/**
 * The agent row the state and allowlist checks judge must be current as of the statement that
 * consumed the nonce, a moment after the request arrived (DESIGN §4.3: revoke, suspend and
 * rotate apply to the next request in every process). The key lookup may have answered from the
 * agents domain's cache; `deps.currentAgent` keeps that row only when the agent change counter
 * read by the nonce's statement proves no change to it was missed, and reads it again otherwise.
 * An agent deleted since gets the code an unknown key gets.
 */
export const checkAgentCurrent: AgentRequestCheck = (_request, state, deps) => {
  const agent = state.agent;
  if (agent === undefined || deps.currentAgent === undefined) return;
  const current = deps.currentAgent(agent, state.agentChangeSeq ?? null);
  // Synchronous when the cache vouches for the row: no promise for the pipeline to await.
  if (current === null || !("then" in current)) return settle(state, current);
  return current.then((resolved) => settle(state, resolved));
};

function settle(state: AgentRequestState, agent: AuthenticatedAgent | null): void {
  if (agent === null) throw new CountersignError("invalid_signature");
  state.agent = agent;
}
