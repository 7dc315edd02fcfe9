import type { FastifyInstance } from "fastify";
import type { AppServices } from "../app-services.ts";
import { sweepAttempts } from "./attempt-limiter.ts";
import { registerAuthFloor } from "./auth-floor.ts";
import { registerOriginCheck } from "./origin-check.ts";
import { registerPeriodicSweep } from "./register-periodic-sweep.ts";

/**
 * The authentication guards every person-facing route relies on: the Origin check on
 * state-changing `surface: "app"` routes (CSRF, DESIGN §4.9), the `config.authFloor` minimum
 * response time, and the sweep of stale attempt counts. The hooks apply to every
 * route of the app, whichever module registers it.
 */
export function registerAuthGuards(app: FastifyInstance, services: AppServices): void {
  registerOriginCheck(app, { origin: services.config.webauthn.origin });
  registerAuthFloor(app, { minDurationMs: services.config.auth.minDurationMs });
  registerPeriodicSweep(app, "attempt counts", () => sweepAttempts(services.db, services.clock.now()));
}
