import type { FastifyInstance } from "fastify";
import type { AppServices } from "../app-services.ts";
import { registerPeriodicSweep } from "../auth-guards/register-periodic-sweep.ts";
import { registerSessionAuth } from "./session-auth-hook.ts";
import { createSessionAuthenticator } from "./session-authenticator.ts";
import { registerSessionRoutes } from "./session-routes.ts";
import { sweepExpiredSessions } from "./session-store.ts";

/**
 * Sessions as a route module: the `config.auth` route option for every route of the app, the
 * session routes, and the sweep of expired sessions.
 */
export function registerSessions(app: FastifyInstance, services: AppServices): void {
  const { config, db, clock } = services;
  registerSessionAuth(app, {
    db,
    clock,
    authenticator: createSessionAuthenticator({ config, clock }),
    stepUpMaxAgeSeconds: config.auth.stepUpMaxAgeSeconds,
  });
  registerSessionRoutes(app, { db, sessions: services.sessions });
  registerPeriodicSweep(app, "expired sessions", () => sweepExpiredSessions(db, new Date(clock.now())));
}
