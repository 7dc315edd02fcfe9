import type { FastifyRequest } from "fastify";

/** The request facts that go into a new session and into the encrypted context of audit events. */
export type ClientFacts = {
  readonly ip: string;
  readonly userAgent?: string;
};

/** The client's address (after the configured trusted proxies) and User-Agent, if it sent one. */
export function clientFacts(request: FastifyRequest): ClientFacts {
  const userAgent = request.headers["user-agent"];
  return typeof userAgent === "string" && userAgent.length > 0
    ? { ip: request.ip, userAgent: userAgent.slice(0, 1024) }
    : { ip: request.ip };
}
