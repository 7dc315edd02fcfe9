import type { FastifyInstance, FastifyRequest } from "fastify";
import type { AgentRequest, AgentRequestDeps, ResolvedAgentKey } from "./agent-request.ts";
import { runAgentRequestPipeline } from "./agent-request-pipeline.ts";

/** The authenticated agent of a request that passed the pipeline. */
export interface AgentAuthentication {
  readonly key: ResolvedAgentKey;
  readonly keyId: string;
  readonly nonce: string;
  readonly created: number;
}

declare module "fastify" {
  interface FastifyRequest {
    agentAuth?: AgentAuthentication;
  }
}

/**
 * Runs the pipeline before the handler of every route with `config.agentAuth`. It runs as a
 * preHandler so the raw body has been read (for the digest) and the route's schema already
 * validated the shape.
 */
export function registerAgentAuth(app: FastifyInstance, deps: AgentRequestDeps): void {
  app.decorateRequest("agentAuth", undefined);
  app.addHook("preHandler", async (request) => {
    if (request.routeOptions.config.agentAuth !== true) return;
    const state = await runAgentRequestPipeline(toAgentRequest(request), deps);
    if (state.key === undefined || state.signature === undefined) throw new Error("pipeline ended unauthenticated");
    request.agentAuth = {
      key: state.key,
      keyId: state.signature.params.keyid,
      nonce: state.signature.params.nonce,
      created: state.signature.params.created,
    };
  });
}

/** The RFC 9421 view of a Fastify request: the target exactly as sent, headers as received. */
export function toAgentRequest(request: FastifyRequest): AgentRequest {
  const url = request.raw.url ?? "/";
  const q = url.indexOf("?");
  const headers: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    headers[name] = Array.isArray(value) ? value.join(", ") : value;
  }
  return {
    parts: {
      method: request.method,
      authority: (request.headers.host ?? "").toLowerCase(),
      path: q === -1 ? url : url.slice(0, q),
      query: q === -1 ? "" : url.slice(q),
      headers,
    },
    body: request.rawBody,
  };
}
