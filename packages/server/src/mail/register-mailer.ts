import type { FastifyInstance } from "fastify";
import type { AppServices } from "../app-services.ts";

/** Closes the mailer's connections when the app closes. Mail has no routes of its own. */
export function registerMailer(app: FastifyInstance, services: AppServices): void {
  app.addHook("onClose", async () => {
    await services.mailer.close();
  });
}
