import type { FastifyInstance } from "fastify";
import type { AppServices } from "../app-services.ts";
import { registerHealthRoutes } from "../health/health-routes.ts";

/** A domain's routes: registered on the app with the shared services. */
export type RouteModule = (app: FastifyInstance, services: AppServices) => void | Promise<void>;

/** Every domain's routes, in registration order. Add one line per domain. */
export const ROUTE_MODULES: readonly RouteModule[] = [registerHealthRoutes];
