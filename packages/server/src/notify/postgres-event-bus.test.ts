import assert from "node:assert/strict";
import { AsyncLocalStorage } from "node:async_hooks";
import { spawn } from "node:child_process";
import { it, type TestContext } from "node:test";
import { fileURLToPath } from "node:url";
import { describeEachDatabase, type TestDatabaseContext } from "../../test-support/test-database.ts";
import type { Database } from "../db/database.ts";
import { openPgDatabase } from "../db/pg-database.ts";
import type { ApprovalEvent } from "./approval-event.ts";
import { APPROVAL_EVENTS_CHANNEL, createPostgresEventBus, MAX_NOTIFY_PAYLOAD_BYTES } from "./postgres-event-bus.ts";
import { collectEvents, deferred, sampleApprovalEvent, testId, within } from "./test-support/event-fixtures.ts";

const CHILD = fileURLToPath(new URL("./test-support/publish-in-child.ts", import.meta.url));

/**
 * Another connection to the test database: on PostgreSQL a pool and LISTEN connection of its
 * own, as another server process would have; PGlite has one connection, which is shared.
 */
async function otherConnection(t: TestContext, ctx: TestDatabaseContext): Promise<Database> {
  if (ctx.kind !== "postgres") return ctx.db;
  const db = await openPgDatabase({ databaseUrl: ctx.url as string, poolSize: 2 });
  t.after(() => db.close());
  return db;
}

/** Records every raw payload on the events channel of `db`. */
async function recordPayloads(t: TestContext, db: Database) {
  const payloads: string[] = [];
  const waiters = new Set<() => void>();
  const unlisten = await db.listen(APPROVAL_EVENTS_CHANNEL, (payload) => {
    payloads.push(payload);
    for (const waiter of [...waiters]) waiter();
  });
  t.after(unlisten);
  return {
    payloads,
    /** Resolves once `count` payloads have arrived. */
    heard(count: number): Promise<void> {
      return within<void>(10_000, `payload ${count} on ${APPROVAL_EVENTS_CHANNEL}`, (resolve) => {
        const check = (): void => {
          if (payloads.length < count) return;
          waiters.delete(check);
          resolve();
        };
        waiters.add(check);
        check();
      });
    },
  };
}

/** An event as a notification carries it, without the id of the bus that sent it. */
function withoutOrigin(event: ApprovalEvent & { origin?: string }): ApprovalEvent {
  const { origin: _origin, ...rest } = event;
  return rest;
}

describeEachDatabase("createPostgresEventBus", (ctx) => {
  it("delivers its own events at once, and once: it skips its notification when it comes back", async (t) => {
    const bus = createPostgresEventBus({ db: ctx.db });
    t.after(() => bus.close());
    await bus.start();
    // Listens after the bus: when this hears a payload, the bus has already handled it.
    const raw = await recordPayloads(t, ctx.db);
    const user = collectEvents(bus, { userId: testId("usr", 1) });

    const first = sampleApprovalEvent(1);
    const second = sampleApprovalEvent(2, { type: "approval.created", status: "pending" });
    const published = [bus.publish(first), bus.publish(second)];
    assert.deepEqual(user.events, [first, second], "delivered here before any NOTIFY");
    await Promise.all(published);
    await raw.heard(1);
    assert.deepEqual(user.events, [first, second]);
    const sent = JSON.parse(raw.payloads[0] ?? "") as (ApprovalEvent & { origin: string })[];
    assert.deepEqual(sent.map(withoutOrigin), [first, second], "one NOTIFY, a JSON array");
    assert.equal(new Set(sent.map((event) => event.origin)).size, 1, "both name the bus that sent them");
    assert.equal(bus.notifiesSent, 1);

    const third = sampleApprovalEvent(3, { status: "rejected" });
    await bus.publish(third);
    await raw.heard(2);
    assert.deepEqual(user.events, [first, second, third], "no event twice");
  });

  it("reaches the subscriber of another bus on another connection to the same database", async (t) => {
    if (ctx.kind !== "postgres") {
      t.skip("PGlite has a single connection; see the cross-connection cases on PostgreSQL");
      return;
    }
    const publisher = createPostgresEventBus({ db: await otherConnection(t, ctx) });
    const subscriber = createPostgresEventBus({ db: await otherConnection(t, ctx) });
    t.after(() => Promise.all([publisher.close(), subscriber.close()]));
    await subscriber.start();
    const approval = collectEvents(subscriber, { approvalId: testId("apr", 9) });
    const ofOtherUser = collectEvents(subscriber, { userId: testId("usr", 2) });

    const event = sampleApprovalEvent(9, { status: "approved" });
    await publisher.publish(event);
    assert.deepEqual(await approval.waitFor(1), [event]);
    assert.deepEqual(ofOtherUser.events, []);
  });

  it("sends 500 publishes made in one tick as a few NOTIFYs under the size limit, all delivered in order", async (t) => {
    const publisher = createPostgresEventBus({ db: ctx.db });
    const receivingDb = await otherConnection(t, ctx);
    const subscriber = createPostgresEventBus({ db: receivingDb });
    t.after(() => Promise.all([publisher.close(), subscriber.close()]));
    await subscriber.start();
    const raw = await recordPayloads(t, receivingDb);
    const user = collectEvents(subscriber, { userId: testId("usr", 5) });

    const events = Array.from({ length: 500 }, (_, n) =>
      sampleApprovalEvent(n, { userId: testId("usr", 5), status: n % 2 === 0 ? "delivered" : "approved" }),
    );
    const started = performance.now();
    await Promise.all(events.map((event) => publisher.publish(event)));
    assert.deepEqual(await user.waitFor(events.length), events);
    t.diagnostic(`500 events in ${publisher.notifiesSent} NOTIFYs, ${(performance.now() - started).toFixed(1)} ms`);

    const sizes = raw.payloads.map((payload) => Buffer.byteLength(payload));
    assert.equal(raw.payloads.length, publisher.notifiesSent);
    assert.deepEqual(
      raw.payloads.flatMap((payload) => (JSON.parse(payload) as ApprovalEvent[]).map(withoutOrigin)),
      events,
    );
    assert.ok(Math.max(...sizes) <= MAX_NOTIFY_PAYLOAD_BYTES, `payload sizes ${sizes.join(", ")}`);
    // Fewer NOTIFYs than events, and packed: each payload is full but for less than one event.
    // Each event as sent, with the id of its bus.
    const eventBytes = raw.payloads
      .flatMap((payload) => JSON.parse(payload) as object[])
      .map((event) => Buffer.byteLength(JSON.stringify(event)));
    const totalBytes = eventBytes.reduce((sum, size) => sum + size + 1, 0);
    const atLeast = Math.ceil(totalBytes / MAX_NOTIFY_PAYLOAD_BYTES);
    const atMost = Math.ceil(totalBytes / (MAX_NOTIFY_PAYLOAD_BYTES - Math.max(...eventBytes) - 1));
    assert.ok(atLeast >= 2, "the batch is large enough to need splitting");
    assert.ok(
      publisher.notifiesSent >= atLeast && publisher.notifiesSent <= atMost,
      `${publisher.notifiesSent} NOTIFYs for ${totalBytes} bytes`,
    );
  });

  it("sends everything published while a NOTIFY is in flight in the next one, in order", async (t) => {
    // A database whose first NOTIFY is held until the test lets it go.
    const firstNotify = deferred();
    let notifies = 0;
    const slow: Database = {
      kind: ctx.db.kind,
      async query<R extends object>(sql: string, params?: readonly unknown[]) {
        if (notifies++ === 0) await firstNotify.promise;
        return ctx.db.query<R>(sql, params);
      },
      exec: (sql) => ctx.db.exec(sql),
      transaction: (fn) => ctx.db.transaction(fn),
      listen: (channel, onPayload) => ctx.db.listen(channel, onPayload),
      close: async () => {},
    };
    const publisher = createPostgresEventBus({ db: slow });
    const subscriber = createPostgresEventBus({ db: ctx.db });
    t.after(() => Promise.all([publisher.close(), subscriber.close()]));
    await subscriber.start();
    const raw = await recordPayloads(t, ctx.db);
    const user = collectEvents(subscriber, { userId: testId("usr", 6) });

    const events = Array.from({ length: 21 }, (_, n) => sampleApprovalEvent(n, { userId: testId("usr", 6) }));
    const published = [publisher.publish(events[0] as ApprovalEvent)];
    // Twenty more, each in a turn of its own, while the first NOTIFY waits.
    for (const event of events.slice(1)) {
      await new Promise((resolve) => setImmediate(resolve));
      published.push(publisher.publish(event));
    }
    assert.equal(publisher.notifiesSent, 0);
    firstNotify.resolve();
    await Promise.all(published);
    assert.deepEqual(await user.waitFor(events.length), events);
    assert.equal(publisher.notifiesSent, 2);
    assert.deepEqual(
      raw.payloads.map((payload) => (JSON.parse(payload) as ApprovalEvent[]).length),
      [1, 20],
    );
  });

  it("rejects the publishes of a NOTIFY that failed, and still sends the ones after it", async (t) => {
    let failNext = true;
    const flaky: Database = {
      ...ctx.db,
      kind: ctx.db.kind,
      async query<R extends object>(sql: string, params?: readonly unknown[]) {
        if (failNext) {
          failNext = false;
          throw new Error("connection lost");
        }
        return ctx.db.query<R>(sql, params);
      },
    };
    const publisher = createPostgresEventBus({ db: flaky });
    t.after(() => publisher.close());
    const first = publisher.publish(sampleApprovalEvent(1));
    await assert.rejects(first, (error: Error) => {
      assert.match(error.message, /could not send approval events over NOTIFY/);
      assert.equal((error.cause as Error).message, "connection lost");
      return true;
    });
    await publisher.publish(sampleApprovalEvent(2));
    assert.equal(publisher.notifiesSent, 1);
  });

  it("reports and drops a malformed notification, and delivers the valid events beside a malformed one", async (t) => {
    const errors: Error[] = [];
    const bus = createPostgresEventBus({ db: ctx.db, onError: (error) => errors.push(error) });
    t.after(() => bus.close());
    await bus.start();
    const user = collectEvents(bus, { userId: testId("usr", 1) });

    const valid = [sampleApprovalEvent(1), sampleApprovalEvent(2)];
    const payloads = [
      "not json",
      JSON.stringify(valid[0]), // an event, not a list of events
      JSON.stringify([valid[0], { ...valid[1], approvalId: "apr_short" }, valid[1]]),
    ];
    for (const payload of payloads) {
      await ctx.db.query("SELECT pg_notify($1, $2)", [APPROVAL_EVENTS_CHANNEL, payload]);
    }
    assert.deepEqual(await user.waitFor(2), valid);
    assert.deepEqual(
      errors.map((error) => error.message),
      [
        `a notification on ${APPROVAL_EVENTS_CHANNEL} is not JSON; dropped`,
        `a notification on ${APPROVAL_EVENTS_CHANNEL} is not a list of events; dropped`,
        `a notification on ${APPROVAL_EVENTS_CHANNEL} held a malformed approval event; dropped`,
      ],
    );
  });

  it("listens once however often start() is called", async (t) => {
    const bus = createPostgresEventBus({ db: ctx.db });
    t.after(() => bus.close());
    await Promise.all([bus.start(), bus.start()]);
    await bus.start();
    const raw = await recordPayloads(t, ctx.db);
    const user = collectEvents(bus, { userId: testId("usr", 1) });
    const event = sampleApprovalEvent(1);
    await bus.publish(event);
    await raw.heard(1);
    assert.deepEqual(user.events, [event]);
  });

  it("leaves the pooled session's synchronous_commit as it was", async (t) => {
    const db = ctx.kind === "postgres" ? await openPgDatabase({ databaseUrl: ctx.url as string, poolSize: 1 }) : ctx.db;
    if (db !== ctx.db) t.after(() => db.close());
    const bus = createPostgresEventBus({ db });
    t.after(() => bus.close());
    await bus.publish(sampleApprovalEvent(1));
    assert.equal(bus.notifiesSent, 1);
    const { rows } = await db.query<{ synchronous_commit: string }>("SHOW synchronous_commit");
    assert.equal(rows[0]?.synchronous_commit, "on");
  });

  it("refuses a malformed event before sending anything", async (t) => {
    const bus = createPostgresEventBus({ db: ctx.db });
    t.after(() => bus.close());
    const malformed = { ...sampleApprovalEvent(1), userId: testId("agt", 1) };
    await assert.rejects(bus.publish(malformed), TypeError);
    assert.equal(bus.notifiesSent, 0);
  });

  it("sends what was published before close(), then refuses to publish, start or deliver", async (t) => {
    const closing = createPostgresEventBus({ db: ctx.db });
    const staying = createPostgresEventBus({ db: ctx.db });
    t.after(() => Promise.all([closing.close(), staying.close()]));
    await closing.start();
    await staying.start();
    const onClosing = collectEvents(closing, { userId: testId("usr", 1) });
    const onStaying = collectEvents(staying, { userId: testId("usr", 1) });

    const last = sampleApprovalEvent(1);
    const published = closing.publish(last);
    await closing.close();
    assert.equal(closing.notifiesSent, 1, "close() waited for the NOTIFY, so the database can be closed next");
    await published;
    assert.deepEqual(await onStaying.waitFor(1), [last]);

    await assert.rejects(closing.publish(sampleApprovalEvent(2)), /closed/);
    await assert.rejects(closing.start(), /closed/);
    const after = sampleApprovalEvent(3);
    await staying.publish(after);
    assert.deepEqual(await onStaying.waitFor(2), [last, after]);
    assert.ok(onClosing.events.length <= 1, "a closed bus delivers nothing more");
    assert.ok(!onClosing.events.includes(after));
  });

  it("does not let a publish made too early, inside a transaction, fail the others of its batch", async (t) => {
    const bus = createPostgresEventBus({ db: ctx.db });
    t.after(() => bus.close());
    const outside = AsyncLocalStorage.snapshot();
    let early: Promise<void> | undefined;
    let onTime: Promise<void> | undefined;
    await ctx.db.transaction(async (tx) => {
      // The first publish of the batch is made here, so the batch is started from this context.
      early = bus.publish(sampleApprovalEvent(1));
      onTime = outside(() => bus.publish(sampleApprovalEvent(2)));
      // Keep the transaction open while the batch is sent.
      await new Promise((resolve) => setImmediate(resolve));
      await new Promise((resolve) => setImmediate(resolve));
      await tx.query("SELECT 1");
    });
    await Promise.all([early, onTime]);
    assert.equal(bus.notifiesSent, 1);
  });

  it("reaches a subscriber in this process from a bus in another process", { timeout: 60_000 }, async (t) => {
    if (ctx.kind !== "postgres") {
      t.skip("PGlite belongs to one process; there is no other process to publish from");
      return;
    }
    const bus = createPostgresEventBus({ db: ctx.db });
    t.after(() => bus.close());
    await bus.start();
    const user = collectEvents(bus, { userId: testId("usr", 77) });
    const events = [1, 2, 3].map((n) => sampleApprovalEvent(n, { userId: testId("usr", 77) }));

    const child = spawn(process.execPath, [CHILD, ctx.url as string, JSON.stringify(events)], {
      // Nothing from the test's environment: the child finds the database from its arguments.
      env: { PATH: process.env.PATH ?? "" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
    });
    const code = await new Promise<number | null>((resolve, reject) => {
      child.on("error", reject);
      child.on("close", resolve);
    });
    assert.equal(code, 0, stderr);
    const report = JSON.parse(stdout) as { pid: number; published: number; notifies: number };
    assert.notEqual(report.pid, process.pid);
    assert.deepEqual({ published: report.published, notifies: report.notifies }, { published: 3, notifies: 1 });
    assert.deepEqual(await user.waitFor(3), events);
  });
});
