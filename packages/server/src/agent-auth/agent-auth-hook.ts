import type { IncomingHttpHeaders } from "node:http";
import { type ErrorCode, isCountersignError } from "@countersign/protocol";
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Logger } from "pino";
import type { AgentAuditSink } from "./agent-audit-sink.ts";
import type { AgentAuthMetrics } from "./agent-auth-metrics.ts";
import type {
  AgentAuthMode,
  AgentRequest,
  AgentRequestDeps,
  AgentRequestState,
  AuthenticatedAgent,
} from "./agent-request.ts";
import { agentRequestChecksFor, runAgentRequestPipeline } from "./agent-request-pipeline.ts";
import { beginIdempotentRequest, registerIdempotencyCompletion } from "./idempotency.ts";
import type { IdempotencyResponseCipher } from "./idempotency-response-cipher.ts";
import type { IdempotencyClaim, IdempotencyClaimInput, IdempotencyCompletion } from "./idempotency-store.ts";

/** The authenticated agent of a request that passed the pipeline. */
export interface AgentAuthentication {
  /** The agent's row as read for this request. */
  readonly agent: AuthenticatedAgent;
  /** From the agent's row (T-10); recorded on the request's log lines and audit events. */
  readonly authMode: AgentAuthMode;
  /** Signed mode: the verified signature's key id, nonce and creation time; null for bearer requests. */
  readonly keyId: string | null;
  readonly nonce: string | null;
  readonly created: number | null;
}

declare module "fastify" {
  interface FastifyRequest {
    agentAuth?: AgentAuthentication;
  }
}

/** What the hook needs beyond the checks' own dependencies. */
export interface AgentAuthDeps extends AgentRequestDeps {
  readonly auditSink: AgentAuditSink;
  readonly metrics: AgentAuthMetrics;
  /** Records that the agent was used; the agents domain writes at most once a minute per agent. */
  readonly recordUse: (agent: AuthenticatedAgent) => Promise<void>;
  /** Seals the responses kept for Idempotency-Key replays. */
  readonly responseCipher: IdempotencyResponseCipher;
  /** Claims an Idempotency-Key, batched across concurrent requests; unbatched when absent. */
  readonly claimIdempotency?: (input: IdempotencyClaimInput) => Promise<IdempotencyClaim>;
  /** Stores a response for replays, batched across concurrent requests; unbatched when absent. */
  readonly completeIdempotency?: (input: IdempotencyCompletion) => Promise<void>;
}

/**
 * Refusals of a request whose credential was genuine (a valid signature or bearer token): these
 * say something about the agent's owner's agent, so they are audited. Forged, malformed, stale
 * and replayed requests are not — anyone can send those — and go to metrics and logs only.
 */
export const AUDITED_REFUSALS: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  "agent_revoked",
  "agent_suspended",
  "agent_credentials_rotated",
  "ip_not_allowed",
  "action_not_allowed",
  "bearer_not_allowed",
]);

/**
 * Runs the pipeline before the handler of every route with `config.agentAuth`. It runs as a
 * preHandler so the raw body has been read (for the digest) and the route's schema already
 * validated the shape. After it: the request's log lines carry the agent id and auth mode, the
 * agent's last use is recorded, and a POST must carry an Idempotency-Key (T-8).
 */
export function registerAgentAuth(app: FastifyInstance, deps: AgentAuthDeps): void {
  app.decorateRequest("agentAuth", undefined);
  registerIdempotencyCompletion(app, deps);
  app.addHook("preHandler", async (request, reply) => {
    if (request.routeOptions.config.agentAuth !== true) return;
    const agentRequest = toAgentRequest(request);
    const state: AgentRequestState = {};
    try {
      await runAgentRequestPipeline(agentRequest, deps, agentRequestChecksFor(agentRequest), state);
    } catch (error) {
      await recordAgentRefusal(request, deps, error, state);
      throw error;
    }
    const { agent, authMode } = state;
    if (agent === undefined || authMode === undefined) throw new Error("pipeline ended unauthenticated");
    const params = state.signature?.params;
    request.agentAuth = {
      agent,
      authMode,
      keyId: params?.keyid ?? null,
      nonce: params?.nonce ?? null,
      created: params?.created ?? null,
    };
    // Every log line of the request, "request completed" included, says who and how (DESIGN §4.2).
    bindToRequestLog(request, reply, { agent_id: agent.id, auth_mode: authMode });
    deps.metrics.requests.inc({ auth_mode: authMode });
    try {
      await deps.recordUse(agent);
    } catch (err) {
      request.log.warn({ err }, "could not record the agent's last use");
    }
    request.routeOptions.config.afterAgentAuth?.(request);
    if (
      request.method === "POST" &&
      (await beginIdempotentRequest(request, reply, { agentRequest, agentId: agent.id }, deps))
    ) {
      return reply;
    }
  });
}

/**
 * Counts a refusal by code, and audits it when the credential was genuine
 * ({@link AUDITED_REFUSALS}). Handlers that refuse an authenticated agent (an action type it
 * may not ask for) call it too. Never throws: the refusal itself is what the client gets.
 */
export async function recordAgentRefusal(
  request: FastifyRequest,
  deps: Pick<AgentAuthDeps, "db" | "auditSink" | "metrics">,
  error: unknown,
  state: Pick<AgentRequestState, "agent" | "authMode" | "signature">,
): Promise<void> {
  const code: ErrorCode = isCountersignError(error) ? error.code : "internal_error";
  deps.metrics.failures.inc({ code });
  const agent = state.agent;
  if (agent === undefined || !AUDITED_REFUSALS.has(code)) return;
  try {
    await deps.auditSink.append(deps.db, {
      type: "agent.request_refused",
      userId: agent.userId,
      actor: { kind: "agent", id: agent.id },
      subject: { kind: "agent", id: agent.id },
      context: {
        code,
        auth_mode: agent.authMode,
        key_id: state.signature?.params.keyid ?? null,
        ip: request.ip,
        method: request.method,
        path: request.url.split("?")[0],
        request_id: request.id,
      },
    });
  } catch (err) {
    request.log.error({ err, code }, "could not audit a refused agent request");
  }
}

/**
 * Adds bindings to the request's logger. Fastify gives each request a child logger of its own,
 * so pino's `setBindings` changes only this request's lines, without building another child.
 */
function bindToRequestLog(request: FastifyRequest, reply: FastifyReply, bindings: Record<string, string>): void {
  const log = request.log as FastifyBaseLogger & Partial<Pick<Logger, "setBindings">>;
  if (typeof log.setBindings === "function" && reply.log === request.log) {
    log.setBindings(bindings);
    return;
  }
  const child = request.log.child(bindings);
  request.log = child;
  reply.log = child;
}

/** The RFC 9421 view of a Fastify request: the target exactly as sent, headers as received. */
export function toAgentRequest(request: FastifyRequest): AgentRequest {
  const url = request.raw.url ?? "/";
  const q = url.indexOf("?");
  return {
    parts: {
      method: request.method,
      authority: (request.headers.host ?? "").toLowerCase(),
      path: q === -1 ? url : url.slice(0, q),
      query: q === -1 ? "" : url.slice(q),
      headers: singleValuedHeaders(request.headers),
    },
    body: request.rawBody,
    clientIp: request.ip,
  };
}

/**
 * Node joins repeated header lines into one string, except `set-cookie`, which stays an array;
 * an array is joined the same way here. Headers are only read, so without an array the object
 * is used as it is rather than copied for every request.
 */
function singleValuedHeaders(headers: IncomingHttpHeaders): Record<string, string | undefined> {
  for (const name in headers) {
    if (Array.isArray(headers[name])) {
      const joined: Record<string, string | undefined> = {};
      for (const [key, value] of Object.entries(headers)) joined[key] = Array.isArray(value) ? value.join(", ") : value;
      return joined;
    }
  }
  return headers as Record<string, string | undefined>;
}
