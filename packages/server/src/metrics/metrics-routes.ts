import { CountersignError } from "@countersign/protocol";
import type { FastifyInstance } from "fastify";
import { Type } from "typebox";
import type { AppServices } from "../app-services.ts";
import { createIpMatcher } from "../net/ip-allowlist.ts";
import { isUntrustedForward } from "../net/untrusted-forward.ts";

/** Loopback, IPv4 and IPv6: always allowed to scrape. */
export const METRICS_LOOPBACK: readonly string[] = ["127.0.0.0/8", "::1"];

/**
 * `GET /metrics`: the process's counters in the Prometheus text format, for the operator. The
 * counters reveal traffic patterns (how many forged signatures, how many bearer requests), so the
 * route answers only clients on loopback or in `COUNTERSIGN_METRICS_ALLOW`; everyone else gets
 * 404, as if there were no such route. The client address is the socket peer, or the
 * `X-Forwarded-For` entry resolved through `COUNTERSIGN_TRUST_PROXY` only.
 */
export function registerMetricsRoutes(app: FastifyInstance, services: Pick<AppServices, "config" | "metrics">): void {
  const allowed = createIpMatcher([...METRICS_LOOPBACK, ...services.config.metrics.allow]);
  const proxyTrusted = services.config.trustProxy.length > 0;
  app.get(
    "/metrics",
    {
      config: { surface: "any" },
      schema: {
        tags: ["operations"],
        summary: "Prometheus metrics (loopback and COUNTERSIGN_METRICS_ALLOW only)",
        response: { 200: { content: { "text/plain": { schema: Type.String() } } }, 404: { $ref: "ErrorBody#" } },
      },
    },
    async (request, reply) => {
      if (isUntrustedForward(request.headers, proxyTrusted) || !allowed(request.ip)) {
        throw new CountersignError("not_found");
      }
      return reply
        .type("text/plain; version=0.0.4; charset=utf-8")
        .header("cache-control", "no-store")
        .send(services.metrics.render());
    },
  );
}
