import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import webPush from "web-push";
import type { PushMessage } from "./push-message.ts";
import { type PushServiceStub, startPushServiceStub } from "./test-support/push-service-stub.ts";
import { classifyWebPushStatus, createWebPushSender } from "./web-push-sender.ts";

const keys = webPush.generateVAPIDKeys();
const vapid = { subject: "mailto:ops@example.com", publicKey: keys.publicKey, privateKey: keys.privateKey };

const message = (now: number): PushMessage => ({
  approvalId: "apr_AAAAAAAAAAAAAAAAAAAAAA",
  expiresAt: now + 90_500,
  payload: {
    type: "approval.created",
    approval_id: "apr_AAAAAAAAAAAAAAAAAAAAAA",
    title: "Deploy api v2.3.1",
    agent_name: "ci-bot",
    action_type: "deploy.production",
  },
});

describe("the Web Push sender against a local push service", () => {
  let stub: PushServiceStub;
  before(async () => {
    stub = await startPushServiceStub();
  });
  after(() => stub.close());

  const sender = () =>
    createWebPushSender({ vapid, now: Date.now, timeoutMs: 5_000, allowLoopback: true, ca: stub.ca });

  it("delivers an RFC 8291 payload the subscriber decrypts, with VAPID, TTL, Urgency and Topic", async () => {
    const sub = stub.subscribe();
    const now = Date.now();
    const outcome = await sender()({ kind: "webpush", endpoint: sub.endpoint, ...sub.keys }, message(now));
    assert.deepEqual(outcome, { kind: "delivered" });
    const got = stub.received.find((r) => r.endpoint === sub.endpoint);
    assert.ok(got, JSON.stringify(stub.refused));
    assert.deepEqual(JSON.parse(got.text), message(now).payload);
    assert.equal(got.urgency, "high");
    assert.equal(got.topic, "apr_AAAAAAAAAAAAAAAAAAAAAA");
    assert.ok(got.ttl >= 89 && got.ttl <= 90, `TTL ${got.ttl}`);
    assert.equal(got.vapid.aud, stub.origin);
    assert.equal(got.vapid.sub, vapid.subject);
    assert.equal(got.vapidKey, vapid.publicKey);
    assert.ok(got.vapid.exp <= Math.floor(Date.now() / 1000) + 24 * 3600);
  });

  it("reports a subscription the push service says is gone (410) and a busy one (429) as retry", async () => {
    const sub = stub.subscribe();
    stub.respondWith(sub.endpoint, 410);
    const target = { kind: "webpush" as const, endpoint: sub.endpoint, ...sub.keys };
    assert.equal((await sender()(target, message(Date.now()))).kind, "gone");
    stub.respondWith(sub.endpoint, 429);
    assert.equal((await sender()(target, message(Date.now()))).kind, "retry");
  });

  it("is refused by the push service when signed with another VAPID key than it claims", async () => {
    const sub = stub.subscribe();
    const other = webPush.generateVAPIDKeys();
    const forged = createWebPushSender({
      vapid: { ...vapid, privateKey: other.privateKey },
      now: Date.now,
      timeoutMs: 5_000,
      allowLoopback: true,
      ca: stub.ca,
    });
    const outcome = await forged({ kind: "webpush", endpoint: sub.endpoint, ...sub.keys }, message(Date.now()));
    assert.equal(outcome.kind, "failed");
    assert.match(stub.refused.at(-1)?.reason ?? "", /^vapid/);
  });

  it("does not connect to a loopback endpoint unless allowed", async () => {
    const sub = stub.subscribe();
    const strict = createWebPushSender({ vapid, now: Date.now, timeoutMs: 5_000, allowLoopback: false, ca: stub.ca });
    const before = stub.received.length + stub.refused.length;
    const outcome = await strict({ kind: "webpush", endpoint: sub.endpoint, ...sub.keys }, message(Date.now()));
    assert.equal(outcome.kind, "retry");
    assert.equal(stub.received.length + stub.refused.length, before);
  });

  it("classifies push service statuses (RFC 8030 §7.3, §8.4)", () => {
    assert.equal(classifyWebPushStatus(201).kind, "delivered");
    assert.equal(classifyWebPushStatus(404).kind, "gone");
    assert.equal(classifyWebPushStatus(410).kind, "gone");
    assert.equal(classifyWebPushStatus(429).kind, "retry");
    assert.equal(classifyWebPushStatus(503).kind, "retry");
    assert.equal(classifyWebPushStatus(413).kind, "failed");
  });
});
