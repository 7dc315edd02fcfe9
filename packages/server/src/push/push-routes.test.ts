import assert from "node:assert/strict";
import { createECDH, randomBytes } from "node:crypto";
import { before, it } from "node:test";
import { describeEachDatabase } from "../../test-support/test-database.ts";
import {
  type ApprovalTestKit,
  createApprovalTestKit,
  type TestPerson,
} from "../approvals/test-support/approval-test-kit.ts";

function browserSubscription(endpoint = `https://push.example.net/wpush/v2/${randomBytes(16).toString("base64url")}`) {
  const ecdh = createECDH("prime256v1");
  ecdh.generateKeys();
  return {
    endpoint,
    expirationTime: null,
    keys: { p256dh: ecdh.getPublicKey().toString("base64url"), auth: randomBytes(16).toString("base64url") },
  };
}

describeEachDatabase("the push subscription routes", (ctx) => {
  let kit: ApprovalTestKit;
  let alice: TestPerson;
  let bob: TestPerson;

  before(async () => {
    kit = await createApprovalTestKit(ctx.db);
    alice = await kit.newPerson();
    bob = await kit.newPerson();
  });

  const remove = async (person: TestPerson, body: unknown) => {
    const res = await kit.accounts.call("DELETE", "/v1/me/push/subscriptions", body, { cookie: person.cookie });
    return { status: res.statusCode, code: res.body === "" ? undefined : JSON.parse(res.body).error?.code };
  };

  it("gives the VAPID public key generated for this server", async () => {
    const res = await kit.personCall(alice, "GET", "/v1/me/push/vapid-public-key");
    assert.equal(res.status, 200);
    assert.equal(res.body.public_key, kit.config.push.webPush?.publicKey);
    assert.equal(Buffer.from(res.body.public_key, "base64url").length, 65);
  });

  it("needs a session", async () => {
    const res = await kit.accounts.call("GET", "/v1/me/push/subscriptions");
    assert.equal(res.statusCode, 401);
  });

  it("subscribes, lists, refreshes the same endpoint without a duplicate, and unsubscribes", async () => {
    const sub = browserSubscription();
    const created = await kit.personCall(alice, "POST", "/v1/me/push/subscriptions", sub);
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.kind, "webpush");
    assert.equal(created.body.endpoint, sub.endpoint);
    assert.equal(created.body.keys, undefined);
    const again = await kit.personCall(alice, "POST", "/v1/me/push/subscriptions", browserSubscription(sub.endpoint));
    assert.equal(again.status, 200);
    assert.equal(again.body.id, created.body.id);
    const listed = await kit.personCall(alice, "GET", "/v1/me/push/subscriptions");
    assert.deepEqual(
      listed.body.subscriptions.map((s: { id: string }) => s.id),
      [created.body.id],
    );
    assert.deepEqual(await remove(alice, { endpoint: sub.endpoint }), { status: 204, code: undefined });
    assert.deepEqual(await remove(alice, { endpoint: sub.endpoint }), {
      status: 404,
      code: "push_subscription_not_found",
    });
    const after = await kit.personCall(alice, "GET", "/v1/me/push/subscriptions");
    assert.deepEqual(after.body.subscriptions, []);
  });

  it("stores the endpoint and keys sealed, findable only by a keyed digest", async () => {
    const sub = browserSubscription();
    const created = await kit.personCall(alice, "POST", "/v1/me/push/subscriptions", sub);
    const { rows } = await ctx.db.query<{ target: string; keys: string; target_digest: string }>(
      "SELECT target, keys, target_digest FROM push_subscriptions WHERE id = $1",
      [created.body.id],
    );
    const row = rows[0];
    assert.ok(row);
    assert.match(row.target, /^v1\./);
    assert.match(row.keys, /^v1\./);
    for (const column of [row.target, row.keys, row.target_digest]) {
      assert.equal(column.includes("push.example.net"), false);
      assert.equal(column.includes(sub.keys.p256dh), false);
      assert.equal(column.includes(sub.keys.auth), false);
    }
    assert.match(row.target_digest, /^[0-9a-f]{64}$/);
  });

  it("does not let one person remove another's subscription", async () => {
    const sub = browserSubscription();
    await kit.personCall(alice, "POST", "/v1/me/push/subscriptions", sub);
    assert.deepEqual(await remove(bob, { endpoint: sub.endpoint }), {
      status: 404,
      code: "push_subscription_not_found",
    });
    const listed = await kit.personCall(bob, "GET", "/v1/me/push/subscriptions");
    assert.deepEqual(listed.body.subscriptions, []);
  });

  it("moves a browser's subscription to the account that subscribes it last", async () => {
    const sub = browserSubscription();
    await kit.personCall(alice, "POST", "/v1/me/push/subscriptions", sub);
    const moved = await kit.personCall(bob, "POST", "/v1/me/push/subscriptions", sub);
    assert.equal(moved.status, 200);
    const aliceList = await kit.personCall(alice, "GET", "/v1/me/push/subscriptions");
    assert.equal(
      aliceList.body.subscriptions.some((s: { endpoint: string }) => s.endpoint === sub.endpoint),
      false,
    );
    const bobList = await kit.personCall(bob, "GET", "/v1/me/push/subscriptions");
    assert.deepEqual(
      bobList.body.subscriptions.map((s: { endpoint: string }) => s.endpoint),
      [sub.endpoint],
    );
  });

  it("refuses an http endpoint, a key that is not a P-256 point, and an auth secret that is not 16 bytes", async () => {
    const http = { ...browserSubscription(), endpoint: "http://push.example.net/x" };
    const notPoint = browserSubscription();
    notPoint.keys.p256dh = Buffer.concat([Buffer.from([4]), Buffer.alloc(64, 1)]).toString("base64url");
    const longAuth = browserSubscription();
    longAuth.keys.auth = randomBytes(17).toString("base64url");
    for (const [body, code] of [
      [http, "validation_failed"],
      [notPoint, "push_subscription_invalid"],
      [longAuth, "push_subscription_invalid"],
    ] as const) {
      const res = await kit.personCall(alice, "POST", "/v1/me/push/subscriptions", body);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(res.code, code);
    }
  });

  it("refuses a native token for a channel this server is not configured for", async () => {
    const res = await kit.personCall(alice, "POST", "/v1/me/push/subscriptions", {
      kind: "fcm",
      token: "x".repeat(40),
    });
    assert.equal(res.status, 404);
    assert.equal(res.code, "push_not_configured");
  });

  it("caps the subscriptions of one person", async () => {
    const carol = await kit.newPerson();
    for (let i = 0; i < 20; i++) {
      const res = await kit.personCall(carol, "POST", "/v1/me/push/subscriptions", browserSubscription());
      assert.equal(res.status, 201);
    }
    const res = await kit.personCall(carol, "POST", "/v1/me/push/subscriptions", browserSubscription());
    assert.equal(res.status, 409);
    assert.equal(res.code, "push_subscription_limit");
  });

  it("deletes a person's subscriptions with the account", async () => {
    const dave = await kit.newPerson();
    await kit.personCall(dave, "POST", "/v1/me/push/subscriptions", browserSubscription());
    await ctx.db.query("DELETE FROM users WHERE id = $1", [dave.userId]);
    const { rows } = await ctx.db.query("SELECT 1 FROM push_subscriptions WHERE user_id = $1", [dave.userId]);
    assert.equal(rows.length, 0);
  });
});
