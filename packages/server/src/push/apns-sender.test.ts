import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { decodeJwt, decodeProtectedHeader } from "jose";
import { type ApnsSender, createApnsSender } from "./apns-sender.ts";
import type { PushMessage } from "./push-message.ts";
import { type ApnsStub, startApnsStub } from "./test-support/apns-stub.ts";

const team = { teamId: "TEAM123456", keyId: "KEYID12345", bundleId: "com.example.countersign" };
const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
const pkcs8 = privateKey.export({ format: "pem", type: "pkcs8" }).toString();
const spki = publicKey.export({ format: "pem", type: "spki" }).toString();

const message = (now: number): PushMessage => ({
  approvalId: "apr_BBBBBBBBBBBBBBBBBBBBBB",
  expiresAt: now + 120_000,
  payload: {
    type: "approval.created",
    approval_id: "apr_BBBBBBBBBBBBBBBBBBBBBB",
    title: "Delete the staging database",
    agent_name: "ops-agent",
    action_type: "db.drop",
  },
});

describe("the APNs adapter against a local HTTP/2 APNs", () => {
  let stub: ApnsStub;
  let clock = Date.now();
  const senders: ApnsSender[] = [];
  const sender = (key = pkcs8) => {
    const created = createApnsSender({
      ...team,
      privateKey: key,
      baseUrl: stub.baseUrl,
      ca: stub.ca,
      now: () => clock,
      timeoutMs: 5_000,
    });
    senders.push(created);
    return created;
  };
  before(async () => {
    stub = await startApnsStub({ ...team, publicKey: spki, now: () => clock });
  });
  after(async () => {
    for (const s of senders) s.close();
    await stub.close();
  });

  it("delivers a time-sensitive alert with token auth and the APNs headers", async () => {
    const device = stub.registerDevice();
    const now = clock;
    const outcome = await sender().send({ token: device }, message(now));
    assert.deepEqual(outcome, { kind: "delivered" }, stub.refused.join("; "));
    const got = stub.received.at(-1);
    assert.ok(got);
    assert.equal(got.token, device);
    assert.equal(got.headers["apns-push-type"], "alert");
    assert.equal(got.headers["apns-priority"], "10");
    assert.equal(got.headers["apns-expiration"], String(Math.floor((now + 120_000) / 1000)));
    assert.equal(got.headers["apns-topic"], team.bundleId);
    assert.equal(got.headers["apns-collapse-id"], "apr_BBBBBBBBBBBBBBBBBBBBBB");
    assert.equal(got.body.aps["interruption-level"], "time-sensitive");
    assert.equal(got.body.aps.alert.title, "Delete the staging database");
    assert.equal(got.body.approval_id, "apr_BBBBBBBBBBBBBBBBBBBBBB");
    assert.equal(decodeProtectedHeader(got.jwt).kid, team.keyId);
    assert.equal(decodeJwt(got.jwt).iss, team.teamId);
    assert.equal(JSON.stringify(got.body).includes("context"), false);
  });

  it("reuses the provider token within the hour and signs a new one after 50 minutes", async () => {
    const device = stub.registerDevice();
    const apns = sender();
    await apns.send({ token: device }, message(clock));
    await apns.send({ token: device }, message(clock));
    const [a, b] = stub.received.slice(-2);
    assert.equal(a?.jwt, b?.jwt);
    clock += 51 * 60 * 1000;
    assert.equal((await apns.send({ token: device }, message(clock))).kind, "delivered");
    assert.notEqual(stub.received.at(-1)?.jwt, b?.jwt);
  });

  it("reports a token APNs never issued (400 BadDeviceToken) and an unregistered one (410) as gone", async () => {
    const apns = sender();
    const bad = await apns.send({ token: "ab".repeat(32) }, message(clock));
    assert.deepEqual(bad, { kind: "gone", reason: "APNs answered 400 BadDeviceToken" });
    const device = stub.registerDevice();
    stub.unregister(device);
    const gone = await apns.send({ token: device }, message(clock));
    assert.deepEqual(gone, { kind: "gone", reason: "APNs answered 410 Unregistered" });
  });

  it("is refused by APNs when the provider token is signed with another key", async () => {
    const other = generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({
      format: "pem",
      type: "pkcs8",
    });
    const outcome = await sender(other.toString()).send({ token: stub.registerDevice() }, message(clock));
    assert.deepEqual(outcome, { kind: "retry", reason: "APNs answered 403 InvalidProviderToken" });
  });
});
