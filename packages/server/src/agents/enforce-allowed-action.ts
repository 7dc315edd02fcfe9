import { CountersignError } from "@countersign/protocol";
import type { FastifyRequest } from "fastify";
import type { AgentAuthDeps } from "../agent-auth/agent-auth-hook.ts";
import { recordAgentRefusal } from "../agent-auth/agent-auth-hook.ts";
import { actionAllowed } from "./action-types.ts";

/**
 * Refuses an authenticated agent's request for an action type outside its allowlist with 403
 * `action_not_allowed`, and audits the refusal: the credential was genuine, so the owner should
 * see that their agent asked (issue 5, part 7). Routes that take an `action_type` call it before
 * doing anything.
 */
export async function enforceAllowedAction(
  request: FastifyRequest,
  actionType: string,
  deps: Pick<AgentAuthDeps, "db" | "auditSink" | "metrics">,
): Promise<void> {
  const auth = request.agentAuth;
  if (auth === undefined) throw new CountersignError("unknown_agent");
  if (actionAllowed(auth.agent.allowedActions, actionType)) return;
  const error = new CountersignError("action_not_allowed");
  await recordAgentRefusal(request, deps, error, { agent: auth.agent });
  throw error;
}
