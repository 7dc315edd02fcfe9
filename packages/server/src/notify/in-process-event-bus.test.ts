import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ApprovalEvent } from "./approval-event.ts";
import type { EventFilter } from "./event-bus.ts";
import { createInProcessEventBus } from "./in-process-event-bus.ts";
import { collectEvents, sampleApprovalEvent, testId } from "./test-support/event-fixtures.ts";

describe("createInProcessEventBus", () => {
  it("delivers to subscribers of the approval and of its user, and to no one else", async () => {
    const bus = createInProcessEventBus();
    await bus.start();
    const approval1 = collectEvents(bus, { approvalId: testId("apr", 1) });
    const approval2 = collectEvents(bus, { approvalId: testId("apr", 2) });
    const user1 = collectEvents(bus, { userId: testId("usr", 1) });
    const user2 = collectEvents(bus, { userId: testId("usr", 2) });

    const first = sampleApprovalEvent(1);
    const second = sampleApprovalEvent(2, { userId: testId("usr", 2), status: "approved" });
    const third = sampleApprovalEvent(3, { type: "approval.created", status: "pending" });
    await bus.publish(first);
    await bus.publish(second);
    await bus.publish(third);

    assert.deepEqual(approval1.events, [first]);
    assert.deepEqual(approval2.events, [second]);
    assert.deepEqual(user1.events, [first, third]);
    assert.deepEqual(user2.events, [second]);
    await bus.close();
  });

  it("has delivered by the time publish returns", async () => {
    const bus = createInProcessEventBus();
    const user = collectEvents(bus, { userId: testId("usr", 1) });
    const publishing = bus.publish(sampleApprovalEvent(1));
    assert.equal(user.events.length, 1);
    await publishing;
  });

  it("hands every subscriber the same frozen copy", async () => {
    const bus = createInProcessEventBus();
    const byApproval = collectEvents(bus, { approvalId: testId("apr", 1) });
    const byUser = collectEvents(bus, { userId: testId("usr", 1) });
    const published = { ...sampleApprovalEvent(1), extra: "dropped" };
    await bus.publish(published);
    const [received] = byApproval.events;
    assert.ok(received);
    assert.equal(byUser.events[0], received);
    assert.notEqual(received, published);
    assert.ok(Object.isFrozen(received));
    assert.equal("extra" in received, false);
  });

  it("stops delivering after unsubscribe, to that subscription only; unsubscribe is idempotent", async () => {
    const bus = createInProcessEventBus();
    const filter = { approvalId: testId("apr", 1) };
    const kept = collectEvents(bus, filter);
    const left = collectEvents(bus, filter);
    // The same function subscribed twice is two subscriptions.
    const shared: ApprovalEvent[] = [];
    const record = (event: ApprovalEvent): void => {
      shared.push(event);
    };
    const stopShared = bus.subscribe(filter, record);
    bus.subscribe(filter, record);

    const first = sampleApprovalEvent(1, { status: "delivered" });
    await bus.publish(first);
    left.stop();
    left.stop();
    stopShared();
    stopShared();
    const second = sampleApprovalEvent(1, { status: "approved" });
    await bus.publish(second);

    assert.deepEqual(kept.events, [first, second]);
    assert.deepEqual(left.events, [first]);
    assert.deepEqual(shared, [first, first, second]);
  });

  it("keeps delivering to the others when a subscriber throws, and reports the error", async () => {
    const errors: Error[] = [];
    const bus = createInProcessEventBus({ onError: (error) => errors.push(error) });
    const before = collectEvents(bus, { approvalId: testId("apr", 1) });
    const failure = new Error("subscriber failed");
    bus.subscribe({ approvalId: testId("apr", 1) }, () => {
      throw failure;
    });
    bus.subscribe({ userId: testId("usr", 1) }, () => {
      throw failure;
    });
    const after = collectEvents(bus, { approvalId: testId("apr", 1) });
    const byUser = collectEvents(bus, { userId: testId("usr", 1) });

    const event = sampleApprovalEvent(1);
    await bus.publish(event);

    assert.deepEqual(before.events, [event]);
    assert.deepEqual(after.events, [event]);
    assert.deepEqual(byUser.events, [event]);
    assert.equal(errors.length, 2);
    for (const error of errors) assert.equal(error.cause, failure);
  });

  it("swallows subscriber errors without onError, and survives an onError that throws", async () => {
    for (const onError of [undefined, () => assert.fail("the reporter fails too")]) {
      const bus = createInProcessEventBus(onError ? { onError } : {});
      bus.subscribe({ approvalId: testId("apr", 1) }, () => {
        throw new Error("subscriber failed");
      });
      const after = collectEvents(bus, { approvalId: testId("apr", 1) });
      await bus.publish(sampleApprovalEvent(1));
      assert.equal(after.events.length, 1);
    }
  });

  it("does not deliver an event to a subscription made while that event is being delivered", async () => {
    const bus = createInProcessEventBus();
    const filter = { approvalId: testId("apr", 1) };
    let calls = 0;
    // Re-subscribes itself on every event: visiting the live set would loop forever.
    const resubscribe = (stop: () => void): void => {
      const next = bus.subscribe(filter, () => {
        calls++;
        // A bound, so that a bus visiting the live set fails this test instead of hanging it.
        if (calls > 10) return;
        resubscribe(next);
      });
      stop();
    };
    resubscribe(() => {});
    await bus.publish(sampleApprovalEvent(1));
    await bus.publish(sampleApprovalEvent(1));
    assert.equal(calls, 2);
  });

  it("skips a subscription that an earlier subscriber removed during the same delivery", async () => {
    const bus = createInProcessEventBus();
    const filter = { approvalId: testId("apr", 1) };
    let stopSecond = (): void => {};
    bus.subscribe(filter, () => stopSecond());
    const second = collectEvents(bus, filter);
    stopSecond = second.stop;
    await bus.publish(sampleApprovalEvent(1));
    assert.deepEqual(second.events, []);
  });

  it("refuses a malformed event without delivering it", async () => {
    const bus = createInProcessEventBus();
    const user = collectEvents(bus, { userId: testId("usr", 1) });
    const malformed = { ...sampleApprovalEvent(1), status: "approvedish" } as unknown as ApprovalEvent;
    await assert.rejects(bus.publish(malformed), TypeError);
    assert.deepEqual(user.events, []);
  });

  it("refuses a filter naming neither, both, or a malformed id", () => {
    const bus = createInProcessEventBus();
    const filters = [
      {},
      { approvalId: testId("apr", 1), userId: testId("usr", 1) },
      { approvalId: testId("usr", 1) },
      { userId: testId("apr", 1) },
      { userId: 1 },
    ] as unknown as EventFilter[];
    for (const filter of filters) {
      assert.throws(() => bus.subscribe(filter, () => {}), TypeError, JSON.stringify(filter));
    }
  });

  it("drops every subscription on close and refuses to be used afterwards", async () => {
    const bus = createInProcessEventBus();
    let calls = 0;
    bus.subscribe({ userId: testId("usr", 1) }, () => calls++);
    await bus.close();
    await bus.close();
    await assert.rejects(bus.publish(sampleApprovalEvent(1)), /closed/);
    await assert.rejects(bus.start(), /closed/);
    assert.throws(() => bus.subscribe({ userId: testId("usr", 1) }, () => {}), /closed/);
    assert.equal(calls, 0);
  });
});
