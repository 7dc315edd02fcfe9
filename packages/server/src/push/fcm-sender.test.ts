import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { createFcmSender } from "./fcm-sender.ts";
import type { PushMessage } from "./push-message.ts";
import { type FcmStub, startFcmStub } from "./test-support/fcm-stub.ts";

const account = { projectId: "countersign-test", clientEmail: "push@countersign-test.iam.gserviceaccount.com" };
const keys = generateKeyPairSync("rsa", { modulusLength: 2048 });
const pkcs8 = keys.privateKey.export({ format: "pem", type: "pkcs8" }).toString();
const spki = keys.publicKey.export({ format: "pem", type: "spki" }).toString();

const message = (now: number): PushMessage => ({
  approvalId: "apr_CCCCCCCCCCCCCCCCCCCCCC",
  expiresAt: now + 300_000,
  payload: {
    type: "approval.created",
    approval_id: "apr_CCCCCCCCCCCCCCCCCCCCCC",
    title: "Pay invoice 42",
    agent_name: "billing-bot",
    action_type: "payment.send",
  },
});

describe("the FCM HTTP v1 adapter against a local FCM and OAuth endpoint", () => {
  let stub: FcmStub;
  let clock = Date.now();
  before(async () => {
    stub = await startFcmStub({ ...account, publicKey: spki, now: () => clock });
  });
  after(() => stub.close());
  const sender = (privateKey = pkcs8) =>
    createFcmSender({
      ...account,
      privateKey,
      tokenUri: stub.tokenUri,
      baseUrl: stub.baseUrl,
      ca: stub.ca,
      now: () => clock,
      timeoutMs: 5_000,
    });

  it("gets an access token with the JWT bearer grant and sends a HIGH-priority data message with its TTL", async () => {
    const device = stub.registerDevice();
    const outcome = await sender()({ token: device }, message(clock));
    assert.deepEqual(outcome, { kind: "delivered" }, stub.refused.join("; "));
    const got = stub.received.at(-1)?.message;
    assert.equal(got.token, device);
    assert.equal(got.android.priority, "HIGH");
    assert.equal(got.android.ttl, "300s");
    assert.equal(got.android.collapse_key, "apr_CCCCCCCCCCCCCCCCCCCCCC");
    assert.deepEqual(got.data, message(clock).payload);
  });

  it("caches the access token until shortly before it expires", async () => {
    const fcm = sender();
    const device = stub.registerDevice();
    const before = stub.tokensIssued();
    await fcm({ token: device }, message(clock));
    await fcm({ token: device }, message(clock));
    assert.equal(stub.tokensIssued(), before + 1);
    clock += 56 * 60 * 1000;
    assert.equal((await fcm({ token: device }, message(clock))).kind, "delivered");
    assert.equal(stub.tokensIssued(), before + 2);
  });

  it("reports an unknown registration token (404 UNREGISTERED) as gone", async () => {
    const outcome = await sender()({ token: "not-a-registered-token" }, message(clock));
    assert.deepEqual(outcome, { kind: "gone", reason: "FCM answered 404 UNREGISTERED" });
  });

  it("gets no access token with an assertion signed by another key", async () => {
    const other = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({
      format: "pem",
      type: "pkcs8",
    });
    const outcome = await sender(other.toString())({ token: stub.registerDevice() }, message(clock));
    assert.deepEqual(outcome, { kind: "retry", reason: "FCM OAuth: token endpoint answered 400" });
    assert.equal(stub.refused.at(-1), "400 invalid_grant");
  });
});
