import type { FastifyInstance } from "fastify";
import type { AppServices } from "../app-services.ts";
import { registerPeriodicSweep } from "../auth-guards/register-periodic-sweep.ts";
import { registerSseShutdown } from "../notify/sse-stream.ts";
import { registerAgentApprovalRoutes } from "./agent-approval-routes.ts";
import { sweepApprovalRecords } from "./approval-store.ts";
import { registerJwksRoute } from "./jwks-route.ts";
import { registerPersonApprovalRoutes } from "./person-approval-routes.ts";
import { registerSettingsRoutes } from "./settings-routes.ts";

/** How often the sweeper expires requests whose time is up (they also expire lazily on read). */
export const EXPIRY_SWEEP_INTERVAL_MS = 1_000;

/**
 * The approvals domain as a route module: the agent's and the person's routes, the JWKS, the
 * person's settings, the event bus's lifecycle, the expiry sweeper (every second, so webhooks and
 * streams learn of an expiry promptly) and the sweep of spent nonces and throttle windows.
 */
export function registerApprovalRoutes(app: FastifyInstance, services: AppServices): void {
  registerSseShutdown(app);
  registerAgentApprovalRoutes(app, services);
  registerPersonApprovalRoutes(app, services);
  registerSettingsRoutes(app, services);
  registerJwksRoute(app, services.receipts);
  app.addHook("onReady", () => services.events.start());
  app.addHook("onClose", () => services.events.close());
  registerPeriodicSweep(app, "expired approval requests", () => services.approvals.expireDue(), {
    intervalMs: EXPIRY_SWEEP_INTERVAL_MS,
  });
  registerPeriodicSweep(app, "decision nonces and throttle windows", () =>
    sweepApprovalRecords(services.db, new Date(services.clock.now())),
  );
}
