import type { FastifyInstance } from "fastify";
import { registerAccounts } from "../accounts/register-account-routes.ts";
import { registerAgentRoutes } from "../agents/agent-routes.ts";
import type { AppServices } from "../app-services.ts";
import { registerApprovalRoutes } from "../approvals/approval-routes.ts";
import { registerAuditRoutes } from "../audit/audit-routes.ts";
import { registerAuthGuards } from "../auth-guards/register-auth-guards.ts";
import { registerDevices } from "../devices/register-devices.ts";
import { registerHealthRoutes } from "../health/health-routes.ts";
import { registerMailer } from "../mail/register-mailer.ts";
import { registerMetricsRoutes } from "../metrics/metrics-routes.ts";
import { registerWebhookWorker } from "../notify/webhooks/register-webhook-worker.ts";
import { registerPasskeys } from "../passkeys/register-passkeys.ts";
import { registerPushRoutes } from "../push/push-routes.ts";
import { registerSessions } from "../sessions/register-sessions.ts";
import { registerWebApp } from "../web-app/web-app-routes.ts";

/** A domain's routes: registered on the app with the shared services. */
export type RouteModule = (app: FastifyInstance, services: AppServices) => void | Promise<void>;

/** Every domain's routes, in registration order. Add one line per domain. */
export const ROUTE_MODULES: readonly RouteModule[] = [
  // First: the guards attach their hooks to each route as it is added (onRoute).
  registerAuthGuards,
  registerHealthRoutes,
  registerSessions,
  registerAccounts,
  registerPasskeys,
  registerMailer,
  registerAgentRoutes,
  registerApprovalRoutes,
  (app, services) => registerWebhookWorker(app, services.webhooks),
  registerMetricsRoutes,
  registerAuditRoutes,
  registerPushRoutes,
  registerDevices,
  registerWebApp,
];
