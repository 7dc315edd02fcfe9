import type { Counter, MetricsRegistry } from "../metrics/metrics-registry.ts";

/** The counters of agent authentication. */
export interface AgentAuthMetrics {
  /**
   * `countersign_agent_auth_failures_total{code}`: every refused agent request, by error code.
   * Forged and malformed credentials are counted here and logged, never audited, so strangers
   * cannot flood the audit log (issue 5, part 7).
   */
  readonly failures: Counter<"code">;
  /** `countersign_agent_requests_total{auth_mode}`: authenticated agent requests by auth mode (DESIGN §4.2). */
  readonly requests: Counter<"auth_mode">;
}

/** Declares the agent-authentication counters on `registry` (idempotent). */
export function agentAuthMetrics(registry: MetricsRegistry): AgentAuthMetrics {
  return {
    failures: registry.counter(
      "countersign_agent_auth_failures_total",
      "Agent requests refused by the authentication pipeline, by error code.",
      ["code"],
    ),
    requests: registry.counter(
      "countersign_agent_requests_total",
      "Agent requests that passed authentication, by auth mode.",
      ["auth_mode"],
    ),
  };
}
