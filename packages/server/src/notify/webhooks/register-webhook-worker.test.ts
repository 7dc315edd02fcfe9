import assert from "node:assert/strict";
import { describe, it } from "node:test";
import Fastify from "fastify";
import { registerWebhookWorker } from "./register-webhook-worker.ts";
import type { WebhookService } from "./webhook-service.ts";

describe("registerWebhookWorker", () => {
  it("starts the service when the app is ready, with the app's logger, and stops it when it closes", async () => {
    const calls: string[] = [];
    let log: unknown;
    const service: WebhookService = {
      enqueue: async () => assert.fail("not called"),
      kick: () => calls.push("kick"),
      start: async (options) => {
        log = options?.log;
        calls.push("start");
      },
      stop: async () => {
        calls.push("stop");
      },
    };
    const app = Fastify({ logger: false });
    registerWebhookWorker(app, service);
    assert.deepEqual(calls, []);
    await app.ready();
    assert.deepEqual(calls, ["start"]);
    assert.equal(typeof (log as { warn?: unknown } | undefined)?.warn, "function");
    await app.close();
    assert.deepEqual(calls, ["start", "stop"]);
  });
});
