import assert from "node:assert/strict";
import { afterEach, it } from "node:test";
import { createContentDigest, fromUtf8 } from "@countersign/protocol";
import { createManualClock, type ManualClock } from "../../../test-support/manual-clock.ts";
import { createTestConfig } from "../../../test-support/test-app.ts";
import { describeEachDatabase } from "../../../test-support/test-database.ts";
import type { Config } from "../../config/config.ts";
import { insertTestApproval, publicJwk, verifyReceivedWebhook } from "./test-support/webhook-fixtures.ts";
import {
  type ReceivedWebhook,
  type ReceiverAnswer,
  startWebhookReceiver,
  type WebhookReceiver,
} from "./test-support/webhook-receiver.ts";
import { createWebhookDispatcher, type WebhookDispatcherDeps, type WebhookLogger } from "./webhook-dispatcher.ts";
import { enqueueWebhook } from "./webhook-outbox.ts";
import type { WebhookApproval } from "./webhook-payload.ts";
import { createWebhookService } from "./webhook-service.ts";
import { createWebhookTransport } from "./webhook-transport.ts";

interface DeliveryRow {
  status: string;
  attempts: number;
  next_attempt_at: Date | null;
  last_status: number | null;
  last_error: string | null;
  delivered_at: Date | null;
}

describeEachDatabase("the webhook dispatcher", (ctx) => {
  const config = createTestConfig({ COUNTERSIGN_WEBHOOK_MAX_ATTEMPTS: "3" });
  const signingKey = config.secrets.signingKeys[0] as NonNullable<Config["secrets"]["signingKeys"][0]>;
  const receivers: WebhookReceiver[] = [];
  let warnings: string[] = [];
  const log: WebhookLogger = { warn: (_details, message) => warnings.push(message), debug: () => {} };

  afterEach(async () => {
    await Promise.all(receivers.splice(0).map((r) => r.close()));
    await ctx.db.query("DELETE FROM webhook_deliveries");
    warnings = [];
  });

  async function receiver(answer?: (hook: ReceivedWebhook, index: number) => ReceiverAnswer) {
    const started = await startWebhookReceiver(answer);
    receivers.push(started);
    return started;
  }

  function dispatcher(clock: ManualClock, overrides: Partial<WebhookDispatcherDeps> = {}) {
    return createWebhookDispatcher({ db: ctx.db, config, signingKey, clock, random: () => 0.5, log, ...overrides });
  }

  async function enqueue(approval: WebhookApproval, clock: ManualClock): Promise<string> {
    return ctx.db.transaction((tx) => enqueueWebhook(tx, approval, new Date(clock.now())));
  }

  async function row(id: string): Promise<DeliveryRow> {
    const { rows } = await ctx.db.query<DeliveryRow>(
      `SELECT status, attempts, next_attempt_at, last_status, last_error, delivered_at
       FROM webhook_deliveries WHERE id = $1`,
      [id],
    );
    assert.ok(rows[0], `no delivery ${id}`);
    return rows[0];
  }

  it("delivers a webhook the receiver verifies with the public JWK alone, and a changed byte fails", async () => {
    const clock = createManualClock();
    const hooks = await receiver();
    const approval = await insertTestApproval(ctx.db, { callbackUrl: hooks.url });
    const id = await enqueue(approval, clock);
    assert.match(id, /^whd_[A-Za-z0-9_-]{22}$/);

    assert.equal(await dispatcher(clock).runOnce(), 1);
    const [hook] = hooks.received;
    assert.ok(hook);
    const now = clock.now() / 1000;
    const verified = await verifyReceivedWebhook(hook, publicJwk(signingKey), now);
    assert.equal(verified.ok, true, JSON.stringify(verified));
    assert.equal(verified.ok && verified.keyid, signingKey.kid);
    assert.deepEqual(JSON.parse(fromUtf8(hook.body)), {
      type: "approval.approved",
      approval_id: approval.approvalId,
      status: "approved",
      reason: null,
      action_type: "deploy.production",
      display_payload_hash: approval.displayPayloadHash,
      decided_at: approval.decidedAt.toISOString(),
      receipt: approval.receipt,
      delivery_id: id,
    });
    assert.equal(hook.headers["countersign-delivery"], id);
    assert.equal(hook.headers["countersign-event"], "approval.approved");
    assert.equal(hook.headers["user-agent"], "Countersign-Webhook/1");
    assert.equal(hook.headers["content-type"], "application/json");

    // One byte changed: the digest no longer matches; with a digest recomputed to match, the
    // signature (which covers the digest) fails instead.
    const tampered = new Uint8Array(hook.body);
    const at = tampered.length - 3;
    tampered[at] = (tampered[at] as number) ^ 0x01;
    assert.deepEqual(await verifyReceivedWebhook({ ...hook, body: tampered }, publicJwk(signingKey), now), {
      ok: false,
      code: "digest_mismatch",
    });
    const redigested = { ...hook.headers, "content-digest": await createContentDigest(tampered) };
    assert.deepEqual(
      await verifyReceivedWebhook({ ...hook, body: tampered, headers: redigested }, publicJwk(signingKey), now),
      { ok: false, code: "invalid_signature" },
    );

    assert.deepEqual(await row(id), {
      status: "delivered",
      attempts: 1,
      next_attempt_at: null,
      last_status: 200,
      last_error: null,
      delivered_at: new Date(clock.now()),
    });
    assert.equal(await dispatcher(clock).runOnce(), 0);
  });

  it("retries after 2^attempts seconds, sending identical bytes signed afresh, until a 2xx", async () => {
    const clock = createManualClock();
    const hooks = await receiver((_hook, index) => (index === 0 ? 500 : 202));
    const id = await enqueue(await insertTestApproval(ctx.db, { callbackUrl: hooks.url, status: "rejected" }), clock);
    const d = dispatcher(clock);

    assert.equal(await d.runOnce(), 1);
    assert.deepEqual(await row(id), {
      status: "pending",
      attempts: 1,
      next_attempt_at: new Date(clock.now() + 2_000),
      last_status: 500,
      last_error: "HTTP 500",
      delivered_at: null,
    });
    clock.advance(1_999);
    assert.equal(await d.runOnce(), 0, "not due before its time");
    clock.advance(1);
    assert.equal(await d.runOnce(), 1);
    assert.deepEqual(await row(id), {
      status: "delivered",
      attempts: 2,
      next_attempt_at: null,
      last_status: 202,
      last_error: null,
      delivered_at: new Date(clock.now()),
    });

    const [first, second] = hooks.received;
    assert.ok(first && second);
    assert.deepEqual(second.body, first.body);
    assert.equal(second.headers["content-digest"], first.headers["content-digest"]);
    assert.notEqual(second.headers["signature-input"], first.headers["signature-input"]);
    const verified = await verifyReceivedWebhook(second, publicJwk(signingKey), clock.now() / 1000);
    assert.equal(verified.ok, true);
    assert.equal(JSON.parse(fromUtf8(second.body)).type, "approval.rejected");
  });

  it("gives up after maxAttempts and never sends again", async () => {
    const clock = createManualClock();
    const hooks = await receiver(() => 503);
    const id = await enqueue(await insertTestApproval(ctx.db, { callbackUrl: hooks.url, status: "expired" }), clock);
    const d = dispatcher(clock);

    assert.equal(await d.runOnce(), 1);
    clock.advance(2_000);
    assert.equal(await d.runOnce(), 1);
    assert.equal((await row(id)).next_attempt_at?.getTime(), clock.now() + 4_000);
    clock.advance(4_000);
    assert.equal(await d.runOnce(), 1);
    assert.deepEqual(await row(id), {
      status: "failed",
      attempts: 3,
      next_attempt_at: null,
      last_status: 503,
      last_error: "HTTP 503",
      delivered_at: null,
    });
    assert.deepEqual(warnings, ["webhook given up"]);
    clock.advance(3_600_000);
    assert.equal(await d.runOnce(), 0);
    assert.equal(hooks.received.length, 3);
  });

  it("does not follow redirects: a 3xx is retried, the target never hears of it", async () => {
    const clock = createManualClock();
    const target = await receiver();
    const hooks = await receiver(() => ({ status: 302, headers: { location: target.url } }));
    const id = await enqueue(await insertTestApproval(ctx.db, { callbackUrl: hooks.url }), clock);

    assert.equal(await dispatcher(clock).runOnce(), 1);
    assert.equal(hooks.received.length, 1);
    assert.equal(target.received.length, 0);
    const delivery = await row(id);
    assert.equal(delivery.status, "pending");
    assert.equal(delivery.last_status, 302);
    assert.equal(delivery.last_error, "HTTP 302 (redirects are not followed)");
  });

  it("retries an attempt that times out", async () => {
    const clock = createManualClock();
    const hooks = await receiver(() => "hang");
    const id = await enqueue(await insertTestApproval(ctx.db, { callbackUrl: hooks.url, status: "canceled" }), clock);
    const quick = { webhooks: { ...config.webhooks, timeoutMs: 100 } };

    assert.equal(await dispatcher(clock, { config: quick }).runOnce(), 1);
    assert.deepEqual(await row(id), {
      status: "pending",
      attempts: 1,
      next_attempt_at: new Date(clock.now() + 2_000),
      last_status: null,
      last_error: "timed out",
      delivered_at: null,
    });
  });

  it("retries a host that resolves to a non-public address, without connecting", async () => {
    const clock = createManualClock();
    const asked: string[] = [];
    const transport = createWebhookTransport({
      allowLoopback: true,
      resolve: async (hostname) => {
        asked.push(hostname);
        return [{ address: "10.1.2.3", family: 4 }];
      },
    });
    const approval = await insertTestApproval(ctx.db, { callbackUrl: "https://hooks.example.com/cs" });
    const id = await enqueue(approval, clock);

    assert.equal(await dispatcher(clock, { transport }).runOnce(), 1);
    assert.deepEqual(asked, ["hooks.example.com"]);
    const delivery = await row(id);
    assert.equal(delivery.status, "pending");
    assert.equal(delivery.last_status, null);
    assert.equal(delivery.last_error, "refused: host resolves to a non-public address");
  });

  it("fails at once a URL the current rules refuse (loopback http outside development)", async () => {
    const clock = createManualClock();
    const hooks = await receiver();
    const id = await enqueue(await insertTestApproval(ctx.db, { callbackUrl: hooks.url }), clock);
    const production = { webhooks: { ...config.webhooks, allowLoopbackHttp: false } };

    assert.equal(await dispatcher(clock, { config: production }).runOnce(), 1);
    assert.equal(hooks.received.length, 0);
    const delivery = await row(id);
    assert.equal(delivery.status, "failed");
    assert.equal(delivery.attempts, 1);
    assert.equal(delivery.last_error, "callback URL refused by the current rules");
  });

  it("joins the caller's transaction: a rollback leaves no webhook; an approval has one webhook", async () => {
    const clock = createManualClock();
    const approval = await insertTestApproval(ctx.db, { callbackUrl: "https://hooks.example.com/cs" });
    await assert.rejects(
      ctx.db.transaction(async (tx) => {
        await enqueueWebhook(tx, approval, new Date(clock.now()));
        throw new Error("the decision failed");
      }),
      /the decision failed/,
    );
    const count = async () =>
      (await ctx.db.query<{ n: number }>("SELECT count(*)::int AS n FROM webhook_deliveries")).rows[0]?.n;
    assert.equal(await count(), 0);

    const first = await enqueue(approval, clock);
    assert.equal(await enqueue(approval, clock), first);
    assert.equal(await count(), 1);
    await assert.rejects(
      ctx.db.transaction((tx) => enqueueWebhook(tx, { ...approval, status: "delivered" }, new Date(clock.now()))),
      TypeError,
    );
  });

  it("runs in the background: a kick sends at once, a poll finds rows without one, stop waits", async () => {
    const clock = createManualClock();
    const hooks = await receiver((_hook, index) => (index === 1 ? "hang" : 200));
    const d = dispatcher(clock, { pollIntervalMs: 60_000 });
    d.start();
    const kicked = await enqueue(await insertTestApproval(ctx.db, { callbackUrl: hooks.url }), clock);
    d.kick();
    await hooks.next();

    // The second one hangs until released: stop() must wait for it.
    const held = await enqueue(await insertTestApproval(ctx.db, { callbackUrl: hooks.url }), clock);
    d.kick();
    await hooks.next();
    let stopped = false;
    const stopping = d.stop().then(() => {
      stopped = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(stopped, false, "stop() returned while an attempt was in flight");
    hooks.release();
    await stopping;
    assert.equal((await row(kicked)).status, "delivered");
    assert.equal((await row(held)).status, "delivered");

    // Without a kick, the poll picks rows up.
    const polling = dispatcher(clock, { pollIntervalMs: 20 });
    polling.start();
    const polled = await enqueue(await insertTestApproval(ctx.db, { callbackUrl: hooks.url }), clock);
    await hooks.next();
    await polling.stop();
    assert.equal((await row(polled)).status, "delivered");
  });

  it("bounds stop(): an attempt still hanging after stopTimeoutMs is aborted and retried later", async () => {
    const clock = createManualClock();
    const hooks = await receiver(() => "hang");
    const d = dispatcher(clock, { pollIntervalMs: 60_000, stopTimeoutMs: 50 });
    d.start();
    const id = await enqueue(await insertTestApproval(ctx.db, { callbackUrl: hooks.url }), clock);
    d.kick();
    await hooks.next();
    const started = performance.now();
    await d.stop();
    assert.ok(performance.now() - started < config.webhooks.timeoutMs, "stop() waited for the full attempt timeout");
    const delivery = await row(id);
    assert.equal(delivery.status, "pending");
    assert.equal(delivery.last_error, "aborted");
    d.kick(); // a stopped dispatcher stays stopped
    d.start();
    assert.equal(hooks.received.length, 1);
  });

  it("serves as one AppServices field: enqueue at the clock's time, kick, start and stop", async () => {
    const clock = createManualClock();
    const hooks = await receiver();
    const webhooks = createWebhookService({ db: ctx.db, config, clock, log, pollIntervalMs: 60_000 });
    await webhooks.start();
    const approval = await insertTestApproval(ctx.db, { callbackUrl: hooks.url, status: "expired" });
    const id = await ctx.db.transaction((tx) => webhooks.enqueue(tx, approval));
    webhooks.kick();
    const hook = await hooks.next();
    await webhooks.stop();
    assert.equal(hook.headers["countersign-delivery"], id);
    const { rows } = await ctx.db.query<{ created_at: Date; status: string }>(
      "SELECT created_at, status FROM webhook_deliveries WHERE id = $1",
      [id],
    );
    assert.deepEqual(rows, [{ created_at: new Date(clock.now()), status: "delivered" }]);
  });
});
