import type { FastifyRequest } from "fastify";
import { currentSession } from "../sessions/session-auth-hook.ts";
import type { PersonContext } from "./agent-lifecycle.ts";

/**
 * The signed-in person behind a management request, from the session that `config.auth` loaded.
 *
 * @throws CountersignError `unauthenticated` when the route has no session.
 */
export function personContext(request: FastifyRequest): PersonContext {
  return { userId: currentSession(request).userId, ip: request.ip, requestId: request.id };
}
