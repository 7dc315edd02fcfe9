import assert from "node:assert/strict";
import { createECDH, generateKeyPairSync, randomBytes } from "node:crypto";
import { before, it } from "node:test";
import { toBase64Url } from "@countersign/protocol";
import { describeEachDatabase } from "../../test-support/test-database.ts";
import { createDeviceTestKit, type DeviceTestKit, type TestBrowser } from "./test-support/device-test-kit.ts";

function browserSubscription() {
  const ecdh = createECDH("prime256v1");
  ecdh.generateKeys();
  return {
    endpoint: `https://push.example.net/wpush/v2/${randomBytes(16).toString("base64url")}`,
    expirationTime: null,
    keys: { p256dh: ecdh.getPublicKey().toString("base64url"), auth: randomBytes(16).toString("base64url") },
  };
}

describeEachDatabase("the device routes", (ctx) => {
  let t: DeviceTestKit;

  before(async () => {
    t = await createDeviceTestKit(ctx.db);
  });

  const newBrowser = async (): Promise<TestBrowser> => {
    const person = await t.kit.newPerson();
    return { userId: person.userId, cookie: person.cookie, authenticator: person.authenticator };
  };

  const auditTypes = async (userId: string) => {
    const { rows } = await ctx.db.query<{ event_type: string }>(
      "SELECT event_type FROM audit_log WHERE user_id = $1 ORDER BY seq",
      [userId],
    );
    return rows.map((row) => row.event_type);
  };

  it("registers a device with a fresh passkey confirmation and binds the session to it", async () => {
    const browser = await newBrowser();
    const device = await t.registerDevice(browser, { name: "  Alice's laptop ", platform: "macOS" });
    const list = await t.call(browser, "GET", "/v1/me/devices");
    assert.equal(list.status, 200);
    assert.equal(list.body.current_device_id, device.id);
    assert.match(list.body.session_handle, /^ses_/);
    assert.equal(list.body.devices.length, 1);
    const [view] = list.body.devices;
    assert.equal(view.id, device.id);
    assert.equal(view.name, "Alice's laptop");
    assert.equal(view.platform, "macOS");
    assert.equal(view.current, true);
    assert.equal(view.has_bundle, false);
    assert.equal(view.has_push, false);
    assert.ok((await auditTypes(browser.userId)).includes("device.registered"));
  });

  it("registers a device whose platform is unknown", async () => {
    const browser = await newBrowser();
    const device = await t.registerDevice(browser, { name: "Browser", platform: "" });
    const list = await t.call(browser, "GET", "/v1/me/devices");
    assert.equal(list.body.devices[0].id, device.id);
    assert.equal(list.body.devices[0].platform, "");
  });

  it("stores the name and platform sealed under the person's data key", async () => {
    const browser = await newBrowser();
    const device = await t.registerDevice(browser, { name: "Kitchen tablet", platform: "Android 15" });
    const { rows } = await ctx.db.query<{ name: string; platform: string }>(
      "SELECT name, platform FROM devices WHERE id = $1",
      [device.id],
    );
    assert.match(rows[0]?.name ?? "", /^v1\./);
    assert.match(rows[0]?.platform ?? "", /^v1\./);
    assert.doesNotMatch(`${rows[0]?.name}${rows[0]?.platform}`, /Kitchen|Android/);
  });

  it("needs a fresh passkey confirmation to register", async () => {
    const browser = await newBrowser();
    t.kit.clock.advance((t.kit.config.auth.stepUpMaxAgeSeconds + 1) * 1000);
    const keys = await t.newDeviceKeys();
    const res = await t.call(browser, "POST", "/v1/me/devices", { name: "Phone", platform: "", public_key: keys.spki });
    assert.equal(res.status, 401);
    assert.equal(res.code, "step_up_required");
    assert.equal(
      await ctx.db.query("SELECT 1 FROM devices WHERE user_id = $1", [browser.userId]).then((r) => r.rowCount),
      0,
    );
  });

  it("refuses a key that is not ECDSA P-256, and a name with control characters", async () => {
    const browser = await newBrowser();
    await t.kit.accounts.stepUp(browser.cookie, browser.authenticator);
    const p384 = generateKeyPairSync("ec", { namedCurve: "secp384r1" }).publicKey.export({
      format: "der",
      type: "spki",
    });
    const ed = generateKeyPairSync("ed25519").publicKey.export({ format: "der", type: "spki" });
    for (const publicKey of [toBase64Url(p384), toBase64Url(ed), toBase64Url(randomBytes(91)), "A"]) {
      const res = await t.call(browser, "POST", "/v1/me/devices", { name: "X", platform: "", public_key: publicKey });
      assert.equal(res.status, 400, publicKey);
    }
    const keys = await t.newDeviceKeys();
    const named = await t.call(browser, "POST", "/v1/me/devices", {
      name: "a\u0007b",
      platform: "",
      public_key: keys.spki,
    });
    assert.equal(named.status, 400);
    const blank = await t.call(browser, "POST", "/v1/me/devices", { name: "   ", platform: "", public_key: keys.spki });
    assert.equal(blank.status, 400);
    const list = await t.call(browser, "GET", "/v1/me/devices");
    assert.deepEqual(list.body.devices, []);
  });

  it("attaches a later session to the device with an ECDSA P-256 signature made by WebCrypto", async () => {
    const first = await newBrowser();
    const device = await t.registerDevice(first);
    const second = await t.signInAgain(first);
    const before = await t.call(second, "GET", "/v1/me/devices");
    assert.equal(before.body.current_device_id, null);
    t.kit.clock.advance(120_000);
    const res = await t.attach(second, device);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.device.id, device.id);
    assert.equal(res.body.device.current, true);
    assert.equal(res.body.device.last_seen_at, new Date(t.kit.clock.now()).toISOString());
    const after = await t.call(second, "GET", "/v1/me/devices");
    assert.equal(after.body.current_device_id, device.id);
  });

  it("refuses an attach signature made for another session, by another key, or malformed", async () => {
    const first = await newBrowser();
    const device = await t.registerDevice(first);
    const second = await t.signInAgain(first);
    const firstHandle = (await t.call(first, "GET", "/v1/me/devices")).body.session_handle;
    const replayed = await t.attachSignature(device, firstHandle);
    const attach = (signature: string) => t.call(second, "POST", `/v1/me/devices/${device.id}/attach`, { signature });
    const other = await t.newDeviceKeys();
    const secondHandle = (await t.call(second, "GET", "/v1/me/devices")).body.session_handle;
    const wrongKey = await t.attachSignature({ id: device.id, signing: other.signing }, secondHandle);
    for (const signature of [replayed, wrongKey, toBase64Url(randomBytes(64)), toBase64Url(randomBytes(32))]) {
      const res = await attach(signature);
      assert.equal(res.status, 401, signature);
      assert.equal(res.code, "device_signature_invalid");
    }
    assert.equal((await t.call(second, "GET", "/v1/me/devices")).body.current_device_id, null);
  });

  it("does not attach to another person's device or a revoked one", async () => {
    const alice = await newBrowser();
    const bob = await newBrowser();
    const bobs = await t.registerDevice(bob);
    const foreign = await t.attach(alice, bobs);
    assert.equal(foreign.status, 404);
    assert.equal(foreign.code, "device_not_found");

    const device = await t.registerDevice(alice);
    const second = await t.signInAgain(alice);
    await t.kit.accounts.stepUp(alice.cookie, alice.authenticator);
    assert.equal((await t.call(alice, "DELETE", `/v1/me/devices/${device.id}`)).status, 200);
    const revoked = await t.attach(second, device);
    assert.equal(revoked.status, 403);
    assert.equal(revoked.code, "device_revoked");
  });

  it("revokes a device: its sessions end, its bundle and push subscriptions go, and it is no longer listed", async () => {
    const { browser: admin, device: adminDevice, keySet } = await t.enrolledPerson();
    // A second browser of the same person, with its own device, bundle and push subscription.
    const phone = await t.signInAgain(admin);
    const phoneDevice = await t.registerDevice(phone, { name: "Phone" });
    const bundle = await t.sealBundle(admin.userId, phoneDevice, keySet.auk, keySet.id);
    const stored = await t.call(phone, "PUT", "/v1/me/devices/current/bundle", { bundle, account_key_id: keySet.id });
    assert.equal(stored.status, 200, JSON.stringify(stored.body));
    const phoneSub = await t.call(phone, "POST", "/v1/me/push/subscriptions", browserSubscription());
    assert.equal(phoneSub.status, 201, JSON.stringify(phoneSub.body));
    const adminSub = await t.call(admin, "POST", "/v1/me/push/subscriptions", browserSubscription());
    assert.equal(adminSub.status, 201);
    const pushed = await t.call(admin, "GET", "/v1/me/devices");
    assert.deepEqual(
      new Map(
        pushed.body.devices.map((d: { id: string; has_push: boolean; has_bundle: boolean }) => [
          d.id,
          [d.has_push, d.has_bundle],
        ]),
      ),
      new Map([
        [adminDevice.id, [true, true]],
        [phoneDevice.id, [true, true]],
      ]),
    );
    const { rows: subs } = await ctx.db.query<{ id: string; device_id: string | null }>(
      "SELECT id, device_id FROM push_subscriptions WHERE user_id = $1",
      [admin.userId],
    );
    assert.deepEqual(
      new Map(subs.map((row) => [row.id, row.device_id])),
      new Map([
        [phoneSub.body.id, phoneDevice.id],
        [adminSub.body.id, adminDevice.id],
      ]),
    );

    await t.kit.accounts.stepUp(admin.cookie, admin.authenticator);
    const revoked = await t.call(admin, "DELETE", `/v1/me/devices/${phoneDevice.id}`);
    assert.equal(revoked.status, 200, JSON.stringify(revoked.body));
    assert.deepEqual(revoked.body, { revoked: true });

    assert.equal((await t.call(phone, "GET", "/v1/me/devices")).status, 401, "the phone's session ended");
    const { rows } = await ctx.db.query<{ bundle: string | null; revoked_at: Date | null }>(
      "SELECT bundle, revoked_at FROM devices WHERE id = $1",
      [phoneDevice.id],
    );
    assert.equal(rows[0]?.bundle, null);
    assert.ok(rows[0]?.revoked_at instanceof Date);
    const { rows: left } = await ctx.db.query<{ id: string }>("SELECT id FROM push_subscriptions WHERE user_id = $1", [
      admin.userId,
    ]);
    assert.deepEqual(
      left.map((row) => row.id),
      [adminSub.body.id],
    );
    const list = await t.call(admin, "GET", "/v1/me/devices");
    assert.deepEqual(
      list.body.devices.map((d: { id: string }) => d.id),
      [adminDevice.id],
    );
    assert.equal((await t.call(admin, "DELETE", `/v1/me/devices/${phoneDevice.id}`)).code, "device_not_found");
    assert.ok((await auditTypes(admin.userId)).includes("device.revoked"));
  });

  it("revoking the current device ends the caller's own session and clears its cookie", async () => {
    const browser = await newBrowser();
    const device = await t.registerDevice(browser);
    await t.kit.accounts.stepUp(browser.cookie, browser.authenticator);
    const res = await t.call(browser, "DELETE", `/v1/me/devices/${device.id}`);
    assert.equal(res.status, 200);
    assert.match(String(res.headers["set-cookie"]), /__Host-cs_session=;/);
    assert.equal((await t.call(browser, "GET", "/v1/me/devices")).status, 401);
  });

  it("needs a fresh passkey confirmation to revoke, and refuses another person's device", async () => {
    const alice = await newBrowser();
    const bob = await newBrowser();
    const bobs = await t.registerDevice(bob);
    const alices = await t.registerDevice(alice);
    await t.kit.accounts.stepUp(alice.cookie, alice.authenticator);
    const foreign = await t.call(alice, "DELETE", `/v1/me/devices/${bobs.id}`);
    assert.equal(foreign.code, "device_not_found");
    t.kit.clock.advance((t.kit.config.auth.stepUpMaxAgeSeconds + 1) * 1000);
    const stale = await t.call(alice, "DELETE", `/v1/me/devices/${alices.id}`);
    assert.equal(stale.code, "step_up_required");
    assert.equal((await t.call(bob, "GET", "/v1/me/devices")).body.devices.length, 1);
  });

  it("needs a session", async () => {
    const res = await t.kit.accounts.call("GET", "/v1/me/devices");
    assert.equal(res.statusCode, 401);
  });
});
