import assert from "node:assert/strict";
import { after, it } from "node:test";
import { fromUtf8 } from "@countersign/protocol";
import { createManualClock } from "../../../test-support/manual-clock.ts";
import { createTestConfig } from "../../../test-support/test-app.ts";
import { describeEachDatabase } from "../../../test-support/test-database.ts";
import type { Config } from "../../config/config.ts";
import type { Database } from "../../db/database.ts";
import { openPgDatabase } from "../../db/pg-database.ts";
import { insertTestApproval } from "./test-support/webhook-fixtures.ts";
import { startWebhookReceiver } from "./test-support/webhook-receiver.ts";
import { createWebhookDispatcher } from "./webhook-dispatcher.ts";
import { enqueueWebhook } from "./webhook-outbox.ts";

/**
 * Several server processes run dispatchers over one outbox. On PostgreSQL, two dispatchers on two
 * pools claim concurrently (FOR UPDATE SKIP LOCKED); PGlite serves one connection, so there the
 * two interleave their claims on it. Either way, each webhook is sent exactly once.
 */
describeEachDatabase("two webhook dispatchers on one database", (ctx) => {
  const config = createTestConfig();
  const signingKey = config.secrets.signingKeys[0] as NonNullable<Config["secrets"]["signingKeys"][0]>;
  const log = { warn: (details: object, message: string) => assert.fail(`${message} ${String(details)}`), debug() {} };

  it("never deliver one row twice", async () => {
    const total = ctx.kind === "postgres" ? 120 : 24;
    // Answers after a short, varying delay, so attempts overlap and claims interleave.
    const hooks = await startWebhookReceiver(
      (_hook, index) => new Promise((resolve) => setTimeout(resolve, index % 7, 200)),
    );
    after(() => hooks.close());
    const clock = createManualClock();
    const ids = new Set<string>();
    for (let i = 0; i < total; i++) {
      const approval = await insertTestApproval(ctx.db, { callbackUrl: hooks.url, userLabel: `owner-${i % 5}` });
      ids.add(await ctx.db.transaction((tx) => enqueueWebhook(tx, approval, new Date(clock.now()))));
    }

    const pools: Database[] =
      ctx.kind === "postgres"
        ? [
            await openPgDatabase({ databaseUrl: ctx.url as string, poolSize: 4 }),
            await openPgDatabase({ databaseUrl: ctx.url as string, poolSize: 4 }),
          ]
        : [ctx.db, ctx.db];
    try {
      const dispatchers = pools.map((db) =>
        createWebhookDispatcher({ db, config, signingKey, clock, log, concurrency: 4 }),
      );
      const counts = await Promise.all(dispatchers.map((d) => d.runOnce()));
      assert.equal(
        counts.reduce((a, b) => a + b, 0),
        total,
        `attempts per dispatcher: ${counts.join(", ")}`,
      );
      if (ctx.kind === "postgres") {
        assert.ok(
          counts.every((n) => n > 0),
          "both dispatchers took a share",
        );
      }
    } finally {
      if (ctx.kind === "postgres") await Promise.all(pools.map((db) => db.close()));
    }

    const delivered = hooks.received.map((hook) => hook.headers["countersign-delivery"]);
    assert.equal(delivered.length, total);
    assert.deepEqual(new Set(delivered), ids);
    for (const hook of hooks.received) {
      assert.equal(JSON.parse(fromUtf8(hook.body)).delivery_id, hook.headers["countersign-delivery"]);
    }
    const { rows } = await ctx.db.query<{ status: string; attempts: number; n: number }>(
      "SELECT status, attempts, count(*)::int AS n FROM webhook_deliveries GROUP BY status, attempts",
    );
    assert.deepEqual(rows, [{ status: "delivered", attempts: 1, n: total }]);
  });
});
