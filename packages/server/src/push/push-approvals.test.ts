import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, it } from "node:test";
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
import { createPushService, type PushService } from "./push-service.ts";
import { type ApnsStub, startApnsStub } from "./test-support/apns-stub.ts";
import { type FcmStub, startFcmStub } from "./test-support/fcm-stub.ts";
import { type PushServiceStub, type StubSubscription, startPushServiceStub } from "./test-support/push-service-stub.ts";

describeEachDatabase("push notifications of new approval requests", (ctx) => {
  let kit: ApprovalTestKit;
  let push: PushService;
  let stub: PushServiceStub;
  let apnsStub: ApnsStub;
  let fcmStub: FcmStub;
  let alice: TestPerson;
  let agent: TestAgent;
  const cleanups: (() => unknown)[] = [];

  before(async () => {
    stub = await startPushServiceStub();
    const team = { teamId: "TEAM123456", keyId: "KEYID12345", bundleId: "com.example.countersign" };
    const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    apnsStub = await startApnsStub({
      ...team,
      publicKey: publicKey.export({ format: "pem", type: "spki" }).toString(),
      // Provider tokens carry the server's (the kit's manual) time.
      now: () => kit.clock.now(),
    });
    const account = { projectId: "countersign-test", clientEmail: "push@countersign-test.iam.gserviceaccount.com" };
    const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
    fcmStub = await startFcmStub({
      ...account,
      publicKey: rsa.publicKey.export({ format: "pem", type: "spki" }).toString(),
      now: () => kit.clock.now(),
    });
    // The push service's extra CA option takes a PEM bundle: every stub's certificate.
    const ca = `${stub.ca}${apnsStub.ca}${fcmStub.ca}`;
    const dir = mkdtempSync(join(tmpdir(), "cs-push-keys-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const keyFile = join(dir, "AuthKey.p8");
    writeFileSync(keyFile, privateKey.export({ format: "pem", type: "pkcs8" }));
    const serviceAccount = join(dir, "service-account.json");
    writeFileSync(
      serviceAccount,
      JSON.stringify({
        type: "service_account",
        project_id: account.projectId,
        client_email: account.clientEmail,
        private_key: rsa.privateKey.export({ format: "pem", type: "pkcs8" }),
        token_uri: fcmStub.tokenUri,
      }),
    );
    const env = {
      COUNTERSIGN_FCM_SERVICE_ACCOUNT_FILE: serviceAccount,
      COUNTERSIGN_FCM_URL: fcmStub.baseUrl,
      COUNTERSIGN_APNS_TEAM_ID: team.teamId,
      COUNTERSIGN_APNS_KEY_ID: team.keyId,
      COUNTERSIGN_APNS_KEY_FILE: keyFile,
      COUNTERSIGN_APNS_BUNDLE_ID: team.bundleId,
      COUNTERSIGN_APNS_URL: apnsStub.baseUrl,
    };
    // The push service is built here, to trust the stubs' certificates, and handed to the kit.
    const config = createTestConfig(env);
    const dataKeys = createUserDataKeys(createKeyRingFromConfig(config));
    push = createPushService({
      config,
      db: ctx.db,
      // The kit's manual clock, which exists only once the kit does.
      clock: { now: () => kit.clock.now() },
      dataKeys,
      metrics: createMetricsRegistry(),
      ca,
      retryDelayMs: 10,
    });
    cleanups.push(() => push.close());
    // The kit reads the same secrets file, so its data keys are the ones the notifier opens with.
    kit = await createApprovalTestKit(ctx.db, {
      env: { ...env, COUNTERSIGN_SECRETS_FILE: config.secrets.file as string },
      services: { push },
    });
    alice = await kit.newPerson();
    agent = await kit.newAgent(alice);
  });
  after(async () => {
    for (const cleanup of cleanups) await cleanup();
    await stub.close();
    await apnsStub.close();
    await fcmStub.close();
  });

  const subscribe = async (person: TestPerson, subscription: StubSubscription | Record<string, unknown>) =>
    kit.personCall(person, "POST", "/v1/me/push/subscriptions", subscription);

  it("delivers an encrypted push that decrypts to the id, title, agent and action type, with Urgency, TTL and Topic", async () => {
    const sub = stub.subscribe();
    const saved = await subscribe(alice, sub);
    assert.equal(saved.status, 201, JSON.stringify(saved.body));
    const asked = await kit.ask(agent, { ...ASK, action_type: "deploy.push1", ttl_seconds: 120 });
    assert.equal(asked.status, 201, JSON.stringify(asked.body));
    await push.notifier.idle();
    const got = stub.received.filter((r) => r.endpoint === sub.endpoint);
    assert.equal(got.length, 1, JSON.stringify(stub.refused));
    const [push1] = got as [(typeof got)[number]];
    assert.deepEqual(JSON.parse(push1.text), {
      type: "approval.created",
      approval_id: asked.body.id,
      title: ASK.title,
      agent_name: "Deploy bot",
      action_type: "deploy.push1",
    });
    // No context, no body, no number: none of them may reach a push service or a lock screen.
    assert.doesNotMatch(push1.text, /a1b2c3|Rolls out|"number"|context/);
    assert.equal(push1.urgency, "high");
    assert.equal(push1.topic, asked.body.id);
    assert.equal(push1.ttl, 120);
    assert.equal(push1.vapidKey, push.vapidPublicKey);
    const listed = await kit.personCall(alice, "GET", "/v1/me/push/subscriptions");
    const row = listed.body.subscriptions.find((s: { endpoint?: string }) => s.endpoint === sub.endpoint);
    assert.equal(row.last_success_at, new Date(kit.clock.now()).toISOString());
  });

  it("sends no second push when asking again is suppressed as in flight", async () => {
    const sub = stub.subscribe();
    await subscribe(alice, sub);
    const first = await kit.ask(agent, { ...ASK, action_type: "deploy.push2" });
    await push.notifier.idle();
    const again = await kit.ask(agent, { ...ASK, action_type: "deploy.push2" });
    assert.equal(again.body.id, first.body.id);
    await push.notifier.idle();
    assert.equal(stub.received.filter((r) => r.endpoint === sub.endpoint && r.topic === first.body.id).length, 1);
  });

  it("sends nothing when the person turned notifications off", async () => {
    const bob = await kit.newPerson();
    const bobAgent = await kit.newAgent(bob);
    const sub = stub.subscribe();
    await subscribe(bob, sub);
    const off = await kit.personCall(bob, "PATCH", "/v1/me/settings", { notifications_enabled: false });
    assert.equal(off.status, 200);
    await kit.ask(bobAgent, { ...ASK, action_type: "deploy.quiet" });
    await push.notifier.idle();
    assert.equal(stub.received.filter((r) => r.endpoint === sub.endpoint).length, 0);
  });

  it("deletes a subscription the push service calls gone (410), and retries a 503 once", async () => {
    const carol = await kit.newPerson();
    const carolAgent = await kit.newAgent(carol);
    const gone = stub.subscribe();
    const busy = stub.subscribe();
    await subscribe(carol, gone);
    await subscribe(carol, busy);
    stub.respondWith(gone.endpoint, 410);
    stub.respondWith(busy.endpoint, 503);
    await kit.ask(carolAgent, { ...ASK, action_type: "deploy.gone" });
    await push.notifier.idle();
    const listed = await kit.personCall(carol, "GET", "/v1/me/push/subscriptions");
    assert.deepEqual(
      listed.body.subscriptions.map((s: { endpoint: string }) => s.endpoint),
      [busy.endpoint],
    );
    assert.equal(listed.body.subscriptions[0].failure_count, 1);
    // Two attempts reached the busy endpoint, the first and its one retry; one reached the gone one.
    assert.equal(stub.received.filter((r) => r.endpoint === busy.endpoint).length, 2);
    assert.equal(stub.received.filter((r) => r.endpoint === gone.endpoint).length, 1);
  });

  it("unsubscribes an APNs device whose token APNs no longer knows, and delivers to one it knows", async () => {
    const dave = await kit.newPerson();
    const daveAgent = await kit.newAgent(dave);
    const known = apnsStub.registerDevice();
    const removed = apnsStub.registerDevice();
    apnsStub.unregister(removed);
    for (const token of [known, removed]) {
      const res = await subscribe(dave, { kind: "apns", token });
      assert.equal(res.status, 201, JSON.stringify(res.body));
    }
    const asked = await kit.ask(daveAgent, { ...ASK, action_type: "deploy.apns" });
    await push.notifier.idle();
    const got = apnsStub.received.filter((r) => r.token === known);
    assert.equal(got.length, 1, apnsStub.refused.join("; "));
    assert.equal(got[0]?.body.approval_id, asked.body.id);
    assert.equal(got[0]?.headers["apns-expiration"], String(Math.floor(Date.parse(asked.body.expires_at) / 1000)));
    const listed = await kit.personCall(dave, "GET", "/v1/me/push/subscriptions");
    assert.deepEqual(
      listed.body.subscriptions.map((s: { kind: string }) => s.kind),
      ["apns"],
    );
  });

  it("unsubscribes an FCM token FCM calls UNREGISTERED, and delivers a HIGH-priority message to one it knows", async () => {
    const erin = await kit.newPerson();
    const erinAgent = await kit.newAgent(erin);
    const known = fcmStub.registerDevice();
    for (const token of [known, "stale-registration-token-0123456789"]) {
      const res = await subscribe(erin, { kind: "fcm", token });
      assert.equal(res.status, 201, JSON.stringify(res.body));
    }
    const asked = await kit.ask(erinAgent, { ...ASK, action_type: "deploy.fcm", ttl_seconds: 90 });
    await push.notifier.idle();
    const got = fcmStub.received.filter((r) => r.message.token === known);
    assert.equal(got.length, 1, fcmStub.refused.join("; "));
    assert.equal(got[0]?.message.android.priority, "HIGH");
    assert.equal(got[0]?.message.android.ttl, "90s");
    assert.equal(got[0]?.message.data.approval_id, asked.body.id);
    const listed = await kit.personCall(erin, "GET", "/v1/me/push/subscriptions");
    assert.equal(listed.body.subscriptions.length, 1);
    assert.equal(listed.body.subscriptions[0].kind, "fcm");
  });
});
