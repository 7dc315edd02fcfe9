import type { FastifyInstance } from "fastify";
import type { AppServices } from "../app-services.ts";
import { registerPasskeyAuthRoutes } from "./passkey-auth-routes.ts";
import { registerPasskeyRoutes } from "./passkey-routes.ts";

/** The passkey domain as a route module: sign-in, step-up, and the account's passkeys. */
export function registerPasskeys(app: FastifyInstance, services: AppServices): void {
  registerPasskeyAuthRoutes(app, services);
  registerPasskeyRoutes(app, services);
}
