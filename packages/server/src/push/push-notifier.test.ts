import assert from "node:assert/strict";
import { createECDH, randomBytes } from "node:crypto";
import { before, it } from "node:test";
import { recordingPool } from "../../test-support/recording-database.ts";
import { createTestConfig } from "../../test-support/test-app.ts";
import { describeEachDatabase } from "../../test-support/test-database.ts";
import {
  type ApprovalTestKit,
  ASK,
  createApprovalTestKit,
  type TestAgent,
  type TestPerson,
} from "../approvals/test-support/approval-test-kit.ts";
import { createKeyRingFromConfig } from "../crypto/create-key-ring-from-config.ts";
import { createUserDataKeys } from "../crypto/user-data-keys.ts";
import { createMetricsRegistry } from "../metrics/metrics-registry.ts";
import type { PushMessage, PushOutcome, WebPushTarget } from "./push-message.ts";
import { createPushNotifier } from "./push-notifier.ts";
import { createPushService } from "./push-service.ts";

function browserSubscription() {
  const ecdh = createECDH("prime256v1");
  ecdh.generateKeys();
  return {
    endpoint: `https://push.example.net/${randomBytes(12).toString("base64url")}`,
    keys: { p256dh: ecdh.getPublicKey().toString("base64url"), auth: randomBytes(16).toString("base64url") },
  };
}

describeEachDatabase("the push notifier", (ctx) => {
  let kit: ApprovalTestKit;
  let alice: TestPerson;
  let agent: TestAgent;
  let subscriptions: ReturnType<typeof createPushService>["subscriptions"];
  // A push service that accepts every push but answers only when the test says so.
  const calls: { target: WebPushTarget; message: PushMessage; answer: (outcome: PushOutcome) => void }[] = [];
  let inFlight = 0;
  let maxInFlight = 0;

  before(async () => {
    const config = createTestConfig();
    const base = createPushService({
      config,
      db: ctx.db,
      clock: { now: () => kit.clock.now() },
      dataKeys: createUserDataKeys(createKeyRingFromConfig(config)),
      metrics: createMetricsRegistry(),
    });
    subscriptions = base.subscriptions;
    const notifier = createPushNotifier({
      db: ctx.db,
      clock: { now: () => kit.clock.now() },
      dataKeys: createUserDataKeys(createKeyRingFromConfig(config)),
      subscriptions: base.subscriptions,
      concurrency: 2,
      senders: {
        webpush: (target, message) =>
          new Promise<PushOutcome>((resolve) => {
            inFlight++;
            maxInFlight = Math.max(maxInFlight, inFlight);
            calls.push({
              target,
              message,
              answer: (outcome) => {
                inFlight--;
                resolve(outcome);
              },
            });
          }),
      },
      onError: (error) => assert.fail(error as Error),
    });
    kit = await createApprovalTestKit(ctx.db, {
      env: { COUNTERSIGN_SECRETS_FILE: config.secrets.file as string },
      services: { push: { ...base, notifier } },
    });
    alice = await kit.newPerson();
    agent = await kit.newAgent(alice);
  });

  /** A new request of `person`'s, as the notifier gets it after its commit (its payload is never opened here). */
  const requestOf = (person: TestPerson) => ({
    id: `apr_${randomBytes(16).toString("base64url")}`,
    user_id: person.userId,
    action_type: "deploy.production",
    sealed: "v1.unread",
    expires_at: new Date(kit.clock.now() + 60_000),
  });

  const until = async (condition: () => boolean) => {
    for (let i = 0; i < 200 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
    assert.ok(condition(), "condition not reached");
  };

  it("creates the request without waiting for the push service, and sends at most `concurrency` pushes at once", async () => {
    for (let i = 0; i < 5; i++) {
      const res = await kit.personCall(alice, "POST", "/v1/me/push/subscriptions", browserSubscription());
      assert.equal(res.status, 201);
    }
    // The push service has not answered anything, yet the agent gets its request.
    const asked = await kit.ask(agent, { ...ASK, action_type: "deploy.slow" });
    assert.equal(asked.status, 201);
    await until(() => calls.length === 2);
    assert.equal(maxInFlight, 2);
    while (calls.length < 5) {
      const pending = calls.filter((c) => !("done" in c));
      for (const call of pending) {
        Object.assign(call, { done: true });
        call.answer({ kind: "delivered" });
      }
      await until(() => calls.length === 5 || calls.some((c) => !("done" in c)));
    }
    for (const call of calls.filter((c) => !("done" in c))) call.answer({ kind: "delivered" });
    assert.equal(maxInFlight, 2);
    assert.equal(new Set(calls.map((c) => c.target.endpoint)).size, 5);
    for (const call of calls) {
      assert.deepEqual(Object.keys(call.message.payload).sort(), [
        "action_type",
        "agent_name",
        "approval_id",
        "title",
        "type",
      ]);
      assert.equal(call.message.expiresAt, Date.parse(asked.body.expires_at));
    }
  });

  it("reads the subscriptions for new requests together, however few pushes may be in flight", async () => {
    const config = createTestConfig();
    const dataKeys = createUserDataKeys(createKeyRingFromConfig(config));
    const reads: string[] = [];
    const db = recordingPool(ctx.db, (sql) => {
      if (sql.includes("FROM push_subscriptions")) reads.push(sql);
    });
    const quiet = createPushNotifier({
      db,
      clock: { now: () => kit.clock.now() },
      dataKeys,
      subscriptions,
      concurrency: 2,
      senders: { webpush: async () => ({ kind: "delivered" }) },
      onError: (error) => assert.fail(error as Error),
    });
    // Requests of people with no subscription: nothing is sent, only the reads are made.
    const people = [await kit.newPerson(), await kit.newPerson(), await kit.newPerson()];
    const row = (i: number) => requestOf(people[i % people.length] as TestPerson);
    // A group commit's requests, all in one turn.
    for (let i = 0; i < 12; i++) quiet.approvalCreated(row(i));
    await quiet.idle();
    assert.equal(reads.length, 1, "one read for the twelve, not one per pair the queue lets through");
  });

  it("drops, and reports, the requests past maxQueued that wait for their fan-out", async () => {
    const config = createTestConfig();
    const errors: string[] = [];
    const bounded = createPushNotifier({
      db: ctx.db,
      clock: { now: () => kit.clock.now() },
      dataKeys: createUserDataKeys(createKeyRingFromConfig(config)),
      subscriptions,
      concurrency: 2,
      maxQueued: 3,
      senders: { webpush: async () => ({ kind: "delivered" }) },
      onError: (error) => errors.push((error as Error).message),
    });
    const person = await kit.newPerson();
    for (let i = 0; i < 5; i++) {
      bounded.approvalCreated(requestOf(person));
    }
    assert.deepEqual(errors, ["push queue full", "push queue full"]);
    await bounded.idle();
    // Once they have gone through, there is room again.
    bounded.approvalCreated(requestOf(person));
    await bounded.idle();
    assert.equal(errors.length, 2);
  });

  it("reads the subscriptions of many people in one statement, none for someone who turned notifications off", async () => {
    const [bob, carol, dan] = [await kit.newPerson(), await kit.newPerson(), await kit.newPerson()];
    for (const person of [bob, bob, carol]) {
      assert.equal(
        (await kit.personCall(person, "POST", "/v1/me/push/subscriptions", browserSubscription())).status,
        201,
      );
    }
    const off = await kit.personCall(carol, "PATCH", "/v1/me/settings", { notifications_enabled: false });
    assert.equal(off.status, 200);
    let statements = 0;
    const counting = recordingPool(ctx.db, () => statements++);
    const byUser = await subscriptions.listNotifiable(counting, [bob.userId, carol.userId, dan.userId]);
    // Opening the sealed endpoints reads bob's data key once: two statements in all.
    assert.equal(statements, 2);
    assert.deepEqual(
      [...byUser].map(([userId, subs]) => [userId, subs.length]),
      [
        [bob.userId, 2],
        [carol.userId, 0],
        [dan.userId, 0],
      ],
    );
    const listed = await subscriptions.listForUser(ctx.db, bob.userId);
    assert.deepEqual(
      byUser.get(bob.userId)?.map((sub) => sub.id),
      listed.map((sub) => sub.id),
    );
  });
});
