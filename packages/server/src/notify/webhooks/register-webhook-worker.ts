import type { FastifyInstance } from "fastify";
import type { WebhookService } from "./webhook-service.ts";

/**
 * Runs the webhook dispatcher while the app is up: started when the app is ready, stopped when
 * it closes — before the server closes the database, which it does after `app.close()`.
 */
export function registerWebhookWorker(app: FastifyInstance, service: WebhookService): void {
  app.addHook("onReady", async () => {
    await service.start({ log: app.log.child({ module: "webhooks" }) });
  });
  app.addHook("onClose", async () => {
    await service.stop();
  });
}
