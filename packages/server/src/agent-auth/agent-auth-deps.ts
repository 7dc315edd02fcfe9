import type { AppServices } from "../app-services.ts";
import type { AgentAuthDeps } from "./agent-auth-hook.ts";
import { agentAuthMetrics } from "./agent-auth-metrics.ts";
import type { AgentKeyResolver } from "./agent-request.ts";
import { createIdempotencyResponseCipher } from "./idempotency-response-cipher.ts";
import { createBatchedIdempotencyClaim, createBatchedIdempotencyCompletion } from "./idempotency-store.ts";
import { createBatchedNonceConsumer } from "./nonce-store.ts";

/**
 * Wires the agent-request pipeline to the app's services: keys and tokens from the agents
 * domain, the host, time window and nonce window from the configuration, refusals to the audit
 * sink and the metrics. `resolveKey` may be replaced (tests of the pipeline with made-up keys).
 */
export function createAgentAuthDeps(
  services: Pick<AppServices, "config" | "db" | "clock" | "agents" | "auditSink" | "metrics">,
  overrides: { resolveKey?: AgentKeyResolver | undefined } = {},
): AgentAuthDeps {
  const { config, agents } = services;
  return Object.freeze({
    db: services.db,
    clock: services.clock,
    apiHost: config.apiHost,
    maxSkewSeconds: config.signatures.maxSkewSeconds,
    nonceTtlSeconds: config.signatures.nonceTtlSeconds,
    resolveKey: overrides.resolveKey ?? agents.resolveKey,
    resolveBearerToken: agents.resolveBearerToken,
    bearerOnlyAllowed: config.agents.bearerOnlyAllowed,
    proxyTrusted: config.trustProxy.length > 0,
    consumeNonce: createBatchedNonceConsumer(services.db),
    // Tests that resolve made-up keys have no agent rows to make current.
    ...(overrides.resolveKey === undefined ? { currentAgent: agents.currentAgent } : {}),
    auditSink: services.auditSink,
    metrics: agentAuthMetrics(services.metrics),
    recordUse: agents.recordUse,
    responseCipher: createIdempotencyResponseCipher(config.secrets.masterKey),
    claimIdempotency: createBatchedIdempotencyClaim(services.db),
    completeIdempotency: createBatchedIdempotencyCompletion(services.db),
  });
}
