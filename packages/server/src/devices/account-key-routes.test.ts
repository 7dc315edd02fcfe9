import assert from "node:assert/strict";
import { before, it } from "node:test";
import {
  accountKeyFingerprint,
  accountPrivateKeyAad,
  openWithKey,
  parseRecoverySecret,
  randomBytes,
  recoveryAukAad,
  recoveryKeyFromSecret,
  toBase64Url,
} from "@countersign/protocol";
import { unwrapBundle } from "../../../web/src/device/credential-bundle.ts";
import { describeEachDatabase } from "../../test-support/test-database.ts";
import { sessionCookieOf } from "../accounts/testing/account-test-client.ts";
import {
  createDeviceTestKit,
  type DeviceTestKit,
  type TestBrowser,
  type TestDevice,
} from "./test-support/device-test-kit.ts";

describeEachDatabase("the account key and credential bundle routes", (ctx) => {
  let t: DeviceTestKit;

  before(async () => {
    t = await createDeviceTestKit(ctx.db);
  });

  const newBrowser = async (): Promise<TestBrowser> => {
    const person = await t.kit.newPerson();
    return { userId: person.userId, cookie: person.cookie, authenticator: person.authenticator };
  };

  /** Opens a bundle of the key set `accountKeyId` with the app's own code and the device's wrapping key. */
  const openBundle = (userId: string, device: TestDevice, bundle: string, accountKeyId: string) =>
    unwrapBundle(device.wrapping, bundle, userId, device.id, accountKeyId);

  const auditTypes = async (userId: string) => {
    const { rows } = await ctx.db.query<{ event_type: string }>(
      "SELECT event_type FROM audit_log WHERE user_id = $1 ORDER BY seq",
      [userId],
    );
    return rows.map((row) => row.event_type);
  };

  it("creates the account key set from a device, with the fingerprint computed by the server", async () => {
    const browser = await newBrowser();
    assert.deepEqual((await t.call(browser, "GET", "/v1/me/account-key")).body, { account_key: null });
    const device = await t.registerDevice(browser);
    const keySet = await t.newAccountKeySet(browser.userId, device);
    const created = await t.call(browser, "POST", "/v1/me/account-key", keySet.body);
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const expected = {
      id: keySet.id,
      public_key: toBase64Url(keySet.publicKey),
      fingerprint: accountKeyFingerprint(keySet.publicKey),
      has_recovery: true,
    };
    const { created_at: _at, ...view } = created.body.account_key;
    assert.deepEqual(view, expected);
    const read = await t.call(browser, "GET", "/v1/me/account-key");
    assert.deepEqual(read.body, created.body);
    const list = await t.call(browser, "GET", "/v1/me/devices");
    assert.equal(list.body.devices[0].has_bundle, true);
    assert.ok((await auditTypes(browser.userId)).includes("account_key.created"));
  });

  it("refuses a second key set, a session without a device, a stale confirmation and bad values", async () => {
    const { browser, device } = await t.enrolledPerson();
    const again = await t.newAccountKeySet(browser.userId, device);
    const exists = await t.call(browser, "POST", "/v1/me/account-key", again.body);
    assert.equal(exists.status, 409);
    assert.equal(exists.code, "account_key_exists");

    const fresh = await newBrowser();
    const noDevice = await t.call(fresh, "POST", "/v1/me/account-key", again.body);
    assert.equal(noDevice.status, 409);
    assert.equal(noDevice.code, "device_required");

    const other = await newBrowser();
    const otherDevice = await t.registerDevice(other);
    const mine = await t.newAccountKeySet(other.userId, otherDevice);
    const taken = await t.call(other, "POST", "/v1/me/account-key", { ...mine.body, id: again.body.id ?? "" });
    assert.equal(taken.status, 201, "an id never stored is free");
    const reused = await t.newAccountKeySet(fresh.userId, otherDevice);
    const freshDevice = await t.registerDevice(fresh);
    const clash = await t.call(fresh, "POST", "/v1/me/account-key", { ...reused.body, id: again.body.id ?? "" });
    assert.equal(clash.status, 400, "an id another account holds is refused");
    for (const publicKey of [toBase64Url(randomBytes(31)), toBase64Url(new Uint8Array(32))]) {
      const bad = await t.call(fresh, "POST", "/v1/me/account-key", { ...reused.body, public_key: publicKey });
      assert.equal(bad.status, 400);
    }
    const badId = await t.call(fresh, "POST", "/v1/me/account-key", { ...reused.body, id: "ak_short" });
    assert.equal(badId.status, 400);
    const unsealed = await t.call(fresh, "POST", "/v1/me/account-key", { ...reused.body, bundle: "plain AUK" });
    assert.equal(unsealed.status, 400);

    t.kit.clock.advance((t.kit.config.auth.stepUpMaxAgeSeconds + 1) * 1000);
    const stale = await t.call(fresh, "POST", "/v1/me/account-key", reused.body);
    assert.equal(stale.code, "step_up_required");
    assert.ok(freshDevice.id);
    assert.deepEqual((await t.call(fresh, "GET", "/v1/me/account-key")).body, { account_key: null });
  });

  it("gives the bundle back to a passkey session on its own device, which opens it to the account private key", async () => {
    const { browser, device, keySet } = await t.enrolledPerson();
    // A new sign-in on the same browser: the app attaches the session, then unlocks.
    const later = await t.signInAgain(browser);
    assert.equal((await t.call(later, "GET", "/v1/me/devices/current/bundle")).code, "device_required");
    assert.equal((await t.attach(later, device)).status, 200);
    const res = await t.call(later, "GET", "/v1/me/devices/current/bundle");
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(res.body.account_key, {
      id: keySet.id,
      public_key: toBase64Url(keySet.publicKey),
      fingerprint: accountKeyFingerprint(keySet.publicKey),
      encrypted_private_key: keySet.body.encrypted_private_key,
    });
    const auk = await openBundle(browser.userId, device, res.body.bundle, keySet.id);
    assert.deepEqual(auk, keySet.auk);
    const privateKey = openWithKey(
      auk,
      res.body.account_key.encrypted_private_key,
      accountPrivateKeyAad(browser.userId, keySet.id),
    );
    assert.deepEqual(privateKey, keySet.privateKey);
  });

  it("gives a device only its own bundle: another device of the account without one gets none", async () => {
    const { browser, keySet } = await t.enrolledPerson();
    const phone = await t.signInAgain(browser);
    const phoneDevice = await t.registerDevice(phone, { name: "Phone" });
    const none = await t.call(phone, "GET", "/v1/me/devices/current/bundle");
    assert.equal(none.status, 404);
    assert.equal(none.code, "bundle_not_available");

    const bundle = await t.sealBundle(browser.userId, phoneDevice, keySet.auk, keySet.id);
    const stored = await t.call(phone, "PUT", "/v1/me/devices/current/bundle", { bundle, account_key_id: keySet.id });
    assert.equal(stored.status, 200, JSON.stringify(stored.body));
    assert.equal(stored.body.device.has_bundle, true);
    const got = await t.call(phone, "GET", "/v1/me/devices/current/bundle");
    assert.equal(got.body.bundle, bundle);
    const laptop = await t.call(browser, "GET", "/v1/me/devices/current/bundle");
    assert.notEqual(laptop.body.bundle, bundle, "each device reads its own");
    assert.ok((await auditTypes(browser.userId)).includes("device.bundle_stored"));
  });

  it("stores a bundle only for the active key set", async () => {
    const { browser, device } = await t.enrolledPerson();
    const stale = `ak_${toBase64Url(randomBytes(16))}`;
    const res = await t.call(browser, "PUT", "/v1/me/devices/current/bundle", {
      bundle: "v1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
      account_key_id: stale,
    });
    assert.equal(res.status, 409);
    assert.equal(res.code, "account_key_changed");
    const fresh = await newBrowser();
    await t.registerDevice(fresh);
    const missing = await t.call(fresh, "PUT", "/v1/me/devices/current/bundle", {
      bundle: "v1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
      account_key_id: stale,
    });
    assert.equal(missing.code, "account_key_missing");
    assert.ok(device.id);
  });

  it("resets the key set: the old one retires, every bundle goes, this device keeps the new one", async () => {
    const { browser, device, keySet } = await t.enrolledPerson();
    const phone = await t.signInAgain(browser);
    const phoneDevice = await t.registerDevice(phone, { name: "Phone" });
    const phoneBundle = await t.sealBundle(browser.userId, phoneDevice, keySet.auk, keySet.id);
    await t.call(phone, "PUT", "/v1/me/devices/current/bundle", { bundle: phoneBundle, account_key_id: keySet.id });

    const next = await t.newAccountKeySet(browser.userId, device);
    await t.kit.accounts.stepUp(browser.cookie, browser.authenticator);
    const reset = await t.call(browser, "POST", "/v1/me/account-key/reset", next.body);
    assert.equal(reset.status, 201, JSON.stringify(reset.body));
    assert.equal(reset.body.account_key.id, next.id);
    assert.equal((await t.call(browser, "GET", "/v1/me/account-key")).body.account_key.id, next.id);
    const { rows } = await ctx.db.query<{ id: string; retired_at: Date | null }>(
      "SELECT id, retired_at FROM account_keys WHERE user_id = $1 ORDER BY created_at, id",
      [browser.userId],
    );
    assert.equal(rows.find((row) => row.id === keySet.id)?.retired_at instanceof Date, true);
    assert.equal(rows.find((row) => row.id === next.id)?.retired_at, null);
    assert.equal((await t.call(phone, "GET", "/v1/me/devices/current/bundle")).code, "bundle_not_available");
    const mine = await t.call(browser, "GET", "/v1/me/devices/current/bundle");
    assert.deepEqual(await openBundle(browser.userId, device, mine.body.bundle, next.id), next.auk);
    assert.ok((await auditTypes(browser.userId)).includes("account_key.reset"));

    const noDevice = await newBrowser();
    await t.kit.accounts.stepUp(noDevice.cookie, noDevice.authenticator);
    assert.equal((await t.call(noDevice, "POST", "/v1/me/account-key/reset", next.body)).code, "device_required");
  });

  it("recovers on a new device with the recovery secret, and after a recovery sign-in hands the bundle out only within a passkey confirmation", async () => {
    const { person, browser, keySet } = await t.enrolledPerson();
    // Account recovery: email code + recovery code + a new passkey → a "recovery" session.
    const email = person.email;
    const start = await t.kit.accounts.call("POST", "/v1/auth/recovery/start", { email });
    assert.equal(start.statusCode, 202);
    const verify = await t.kit.accounts.call("POST", "/v1/auth/recovery/verify", {
      email,
      code: t.kit.accounts.lastCode(email),
      recovery_code: person.recoveryCodes[0],
    });
    assert.equal(verify.statusCode, 200, verify.body);
    const options = await t.kit.accounts.call("POST", "/v1/auth/recovery/passkey/options", {
      ticket: verify.json().ticket,
    });
    const passkey = t.kit.accounts.newAuthenticator();
    const done = await t.kit.accounts.call("POST", "/v1/auth/recovery/passkey/verify", {
      ticket: verify.json().ticket,
      credential: passkey.register(options.json()),
      name: "New phone",
    });
    assert.equal(done.statusCode, 200, done.body);
    const recovered: TestBrowser = { userId: browser.userId, cookie: sessionCookieOf(done), authenticator: passkey };

    const device = await t.registerDevice(recovered, { name: "New phone" });
    const material = await t.call(recovered, "GET", "/v1/me/account-key/recovery");
    assert.equal(material.status, 200, JSON.stringify(material.body));
    assert.equal(material.body.account_key_id, keySet.id);
    const recoveryKey = recoveryKeyFromSecret(parseRecoverySecret(keySet.recoverySecret), browser.userId);
    const auk = openWithKey(recoveryKey, material.body.recovery_wrapped_auk, recoveryAukAad(browser.userId, keySet.id));
    assert.deepEqual(auk, keySet.auk);
    const bundle = await t.sealBundle(browser.userId, device, auk, keySet.id);
    const stored = await t.call(recovered, "PUT", "/v1/me/devices/current/bundle", {
      bundle,
      account_key_id: keySet.id,
    });
    assert.equal(stored.status, 200);
    assert.equal((await t.call(recovered, "GET", "/v1/me/devices/current/bundle")).status, 200);

    // A recovery session is not a passkey sign-in: past the confirmation window the bundle waits
    // for a fresh passkey confirmation.
    t.kit.clock.advance((t.kit.config.auth.stepUpMaxAgeSeconds + 1) * 1000);
    const locked = await t.call(recovered, "GET", "/v1/me/devices/current/bundle");
    assert.equal(locked.code, "bundle_not_available");
    // Nor may it overwrite the bundle: a stolen cookie could otherwise lock the device out.
    const overwrite = await t.call(recovered, "PUT", "/v1/me/devices/current/bundle", {
      bundle: await t.sealBundle(browser.userId, device, new Uint8Array(32), keySet.id),
      account_key_id: keySet.id,
    });
    assert.equal(overwrite.code, "step_up_required");
    await t.kit.accounts.stepUp(recovered.cookie, passkey);
    assert.deepEqual(
      await openBundle(
        browser.userId,
        device,
        (await t.call(recovered, "GET", "/v1/me/devices/current/bundle")).body.bundle,
        keySet.id,
      ),
      auk,
    );
    assert.equal((await t.call(recovered, "GET", "/v1/me/devices/current/bundle")).status, 200);
    assert.ok((await auditTypes(browser.userId)).includes("account_key.recovery_read"));
  });

  it("has no recovery material without a recovery wrap, and needs a device and a confirmation for it", async () => {
    const browser = await newBrowser();
    const device = await t.registerDevice(browser);
    assert.equal((await t.call(browser, "GET", "/v1/me/account-key/recovery")).code, "bundle_not_available");
    const keySet = await t.newAccountKeySet(browser.userId, device);
    const { recovery_wrapped_auk: _wrap, ...withoutRecovery } = keySet.body;
    const created = await t.call(browser, "POST", "/v1/me/account-key", withoutRecovery);
    assert.equal(created.body.account_key.has_recovery, false);
    assert.equal((await t.call(browser, "GET", "/v1/me/account-key/recovery")).code, "bundle_not_available");
    const other = await t.signInAgain(browser);
    assert.equal((await t.call(other, "GET", "/v1/me/account-key/recovery")).code, "device_required");
    t.kit.clock.advance((t.kit.config.auth.stepUpMaxAgeSeconds + 1) * 1000);
    assert.equal((await t.call(browser, "GET", "/v1/me/account-key/recovery")).code, "step_up_required");
  });
});
