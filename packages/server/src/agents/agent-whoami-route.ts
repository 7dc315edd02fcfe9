import { CountersignError } from "@countersign/protocol";
import type { FastifyInstance } from "fastify";
import type { AppServices } from "../app-services.ts";
import { ErrorRef, WhoamiSchema } from "./agent-schemas.ts";

/**
 * `GET /v1/agent/whoami`: the authenticated agent as the server sees it — id, name, auth mode
 * (from its row, T-10), verified flag, allowed action types. A cheap way for an agent to check
 * its credentials after enrolment, and the no-op request `bench/agents.ts` measures. `e2e` is the
 * account key set the agent is pinned to (read only for such an agent; the pin's id comes with the
 * agent row): a client without a pin learns from it that it must not send plaintext context
 * (DESIGN §4.11). It is for that refusal only — a pin is taken from the enrolment answer, never here.
 */
export function registerAgentWhoamiRoute(app: FastifyInstance, services: Pick<AppServices, "agents">): void {
  app.get(
    "/v1/agent/whoami",
    {
      config: { surface: "api", agentAuth: true },
      schema: {
        tags: ["agents"],
        summary: "The authenticated agent",
        security: [{ agentSignature: [] }, { agentBearer: [] }],
        response: { 200: WhoamiSchema, 400: ErrorRef, 401: ErrorRef, 403: ErrorRef, 421: ErrorRef },
      },
    },
    async (request) => {
      const auth = request.agentAuth;
      if (auth === undefined) throw new CountersignError("unknown_agent");
      const { agent } = auth;
      return {
        agent_id: agent.id,
        name: agent.name,
        auth_mode: agent.authMode,
        verified: agent.authMode === "signed",
        allowed_actions: [...agent.allowedActions],
        default_ttl_seconds: agent.defaultTtlSeconds,
        credentials_version: agent.credentialsVersion,
        key_id: auth.keyId,
        e2e: agent.e2eAccountKeyId === null ? null : await services.agents.e2eKeyOf(agent.e2eAccountKeyId),
      };
    },
  );
}
