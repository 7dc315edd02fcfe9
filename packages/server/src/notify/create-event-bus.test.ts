import assert from "node:assert/strict";
import { it } from "node:test";
import { describeEachDatabase } from "../../test-support/test-database.ts";
import { createEventBus } from "./create-event-bus.ts";
import { APPROVAL_EVENTS_CHANNEL } from "./postgres-event-bus.ts";
import { collectEvents, sampleApprovalEvent, testId, within } from "./test-support/event-fixtures.ts";

describeEachDatabase("createEventBus", (ctx) => {
  it("picks NOTIFY on PostgreSQL and memory on PGlite, and delivers on both", async (t) => {
    const bus = createEventBus({ db: ctx.db });
    t.after(() => bus.close());
    await bus.start();
    const payloads: string[] = [];
    let heard = (): void => {};
    const unlisten = await ctx.db.listen(APPROVAL_EVENTS_CHANNEL, (payload) => {
      payloads.push(payload);
      heard();
    });
    t.after(unlisten);
    const user = collectEvents(bus, { userId: testId("usr", 1) });
    const event = sampleApprovalEvent(1);

    const published = bus.publish(event);
    assert.deepEqual(user.events, [event], "delivered in this process before publish returns");
    if (ctx.kind === "postgres") {
      const notified = within<void>(10_000, "the NOTIFY", (resolve) => {
        heard = resolve;
      });
      await published;
      await notified;
      assert.deepEqual(user.events, [event], "not again when the notification comes back");
      const { origin, ...sent } = (JSON.parse(payloads[0] ?? "") as (typeof event & { origin?: string })[])[0] ?? {};
      assert.deepEqual([sent], [event], "sent to the other processes");
      assert.equal(typeof origin, "string");
    } else {
      await published;
      // A NOTIFY sent in the same call would have been queried and dispatched by now.
      await ctx.db.query("SELECT 1");
      assert.deepEqual(payloads, []);
    }
  });

  it("passes onError on to the bus it builds", async (t) => {
    const errors: Error[] = [];
    const bus = createEventBus({ db: ctx.db, onError: (error) => errors.push(error) });
    t.after(() => bus.close());
    await bus.start();
    const failure = new Error("subscriber failed");
    bus.subscribe({ approvalId: testId("apr", 4) }, () => {
      throw failure;
    });
    const after = collectEvents(bus, { approvalId: testId("apr", 4) });
    await bus.publish(sampleApprovalEvent(4));
    await after.waitFor(1);
    assert.equal(errors.length, 1);
    assert.equal(errors[0]?.cause, failure);
  });
});
