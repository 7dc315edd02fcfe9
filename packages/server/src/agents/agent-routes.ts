import type { FastifyInstance } from "fastify";
import type { AppServices } from "../app-services.ts";
import { registerPeriodicSweep } from "../auth-guards/register-periodic-sweep.ts";
import { registerAgentEnrollRoute } from "./agent-enroll-route.ts";
import { registerAgentManagementRoutes } from "./agent-management-routes.ts";
import { registerAgentWhoamiRoute } from "./agent-whoami-route.ts";
import { sweepAgentRecords } from "./sweep-agent-records.ts";

/**
 * The agent domain as a route module: the person's management API, enrolment, whoami, and the
 * periodic sweep of expired Idempotency-Key records and enrolment codes.
 */
export function registerAgentRoutes(app: FastifyInstance, services: AppServices): void {
  registerAgentManagementRoutes(app, services);
  registerAgentEnrollRoute(app, services);
  registerAgentWhoamiRoute(app, services);
  registerPeriodicSweep(app, "agent idempotency keys and enrolment codes", () =>
    sweepAgentRecords(services.db, services.clock.now()),
  );
}
