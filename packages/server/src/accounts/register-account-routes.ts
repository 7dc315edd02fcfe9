import type { FastifyInstance } from "fastify";
import type { AppServices } from "../app-services.ts";
import { registerPeriodicSweep } from "../auth-guards/register-periodic-sweep.ts";
import { registerAccountRoutes } from "./account-routes.ts";
import { registerPasswordRoutes } from "./password-routes.ts";
import { registerRecoveryRoutes } from "./recovery-routes.ts";
import { registerSignupRoutes } from "./signup-routes.ts";
import { sweepExpiredTokens } from "./sweep-expired-tokens.ts";

/**
 * The account domain as a route module: sign-up, recovery, the account itself, and password
 * sign-in only when `config.auth.passwordLogin` is on (otherwise those routes do not exist: 404).
 */
export function registerAccounts(app: FastifyInstance, services: AppServices): void {
  registerSignupRoutes(app, services);
  registerRecoveryRoutes(app, services);
  registerAccountRoutes(app, services);
  if (services.config.auth.passwordLogin) registerPasswordRoutes(app, services);
  registerPeriodicSweep(app, "expired codes, tickets and challenges", () =>
    sweepExpiredTokens(services.db, new Date(services.clock.now())),
  );
}
