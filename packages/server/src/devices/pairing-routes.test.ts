import assert from "node:assert/strict";
import { before, it } from "node:test";
import {
  type CpaceResult,
  cpaceStart,
  fromBase64Url,
  generatePairingCode,
  normalizePairingCode,
  openWithKey,
  pairingChannelId,
  pairingTransferKey,
  randomBytes,
  sealWithKey,
  toBase64Url,
  utf8,
} from "@countersign/protocol";
import { describeEachDatabase } from "../../test-support/test-database.ts";
import { expireOverduePairings } from "./pairing-store.ts";
import {
  createDeviceTestKit,
  type DeviceTestKit,
  type TestAccountKeySet,
  type TestBrowser,
  type TestDevice,
} from "./test-support/device-test-kit.ts";

const FIVE_MINUTES = 5 * 60_000;

describeEachDatabase("the pairing relay", (ctx) => {
  let t: DeviceTestKit;

  before(async () => {
    t = await createDeviceTestKit(ctx.db);
  });

  const bytes = (value: string) => fromBase64Url(value) as Uint8Array;
  const aukAad = (userId: string, pairingId: string) => utf8(`countersign/pairing-auk/v1|${userId}|${pairingId}`);

  /** An enrolled device (with the account key set) and a second browser with a new device. */
  interface World {
    userId: string;
    old: TestBrowser;
    oldDevice: TestDevice;
    keySet: TestAccountKeySet;
    fresh: TestBrowser;
    freshDevice: TestDevice;
  }
  const world = async (): Promise<World> => {
    const { browser, device, keySet } = await t.enrolledPerson();
    const fresh = await t.signInAgain(browser);
    const freshDevice = await t.registerDevice(fresh, { name: "New phone" });
    return { userId: browser.userId, old: browser, oldDevice: device, keySet, fresh, freshDevice };
  };

  const setup = (w: World, code: string, sid: Uint8Array, device: TestDevice) => ({
    prs: utf8(normalizePairingCode(code)),
    ci: pairingChannelId(w.userId, t.kit.config.webauthn.origin),
    sid,
    ad: utf8(device.id),
  });

  /** The enrolled device shows a code and starts, as the app does. */
  const start = async (w: World) => {
    const code = generatePairingCode();
    const sid = randomBytes(16);
    const cpace = cpaceStart("initiator", setup(w, code, sid, w.oldDevice));
    const res = await t.call(w.old, "POST", "/v1/me/pairings", {
      sid: toBase64Url(sid),
      message: toBase64Url(cpace.message),
    });
    return { res, code, sid, cpace, id: res.body?.pairing?.id as string };
  };

  /** The new device types `code` and joins the open pairing. */
  const join = async (w: World, code: string, browser = w.fresh, device = w.freshDevice) => {
    const open = await t.call(browser, "GET", "/v1/me/pairings/open");
    assert.equal(open.status, 200, JSON.stringify(open.body));
    const sid = bytes(open.body.pairing.sid);
    const cpace = cpaceStart("responder", setup(w, code, sid, device));
    const result = cpace.finish(bytes(open.body.pairing.initiator_message));
    const res = await t.call(browser, "POST", `/v1/me/pairings/${open.body.pairing.id}/join`, {
      message: toBase64Url(cpace.message),
      tag: toBase64Url(result.confirmationTag),
    });
    return { res, result, sid, id: open.body.pairing.id as string };
  };

  const auditOf = async (pairingId: string) => {
    const { rows } = await ctx.db.query<{ event_type: string; entry: Uint8Array }>(
      "SELECT event_type, entry FROM audit_log WHERE subject_type = 'pairing' AND subject_id = $1 ORDER BY seq",
      [pairingId],
    );
    return rows.map((row) => ({ type: row.event_type, entry: JSON.parse(Buffer.from(row.entry).toString("utf8")) }));
  };

  it("relays a whole CPace pairing: the new device ends up with its own bundle of the same AUK", async () => {
    const w = await world();
    const started = await start(w);
    assert.equal(started.res.status, 201, JSON.stringify(started.res.body));
    assert.equal(started.res.body.pairing.state, "waiting");
    assert.equal(started.res.body.pairing.sid, toBase64Url(started.sid));
    assert.equal(
      started.res.body.pairing.expires_at,
      new Date(t.kit.clock.now() + FIVE_MINUTES).toISOString(),
      "five minutes on the injected clock",
    );

    const joined = await join(w, started.code);
    assert.equal(joined.res.status, 200, JSON.stringify(joined.res.body));
    assert.equal(joined.res.body.pairing.state, "joined");

    // The enrolled device checks Tb, then sends Ta and the AUK sealed under the CPace key.
    const polled = await t.call(w.old, "GET", `/v1/me/pairings/${started.id}`);
    assert.equal(polled.body.pairing.state, "joined");
    assert.equal(polled.body.pairing.responder_device_id, w.freshDevice.id);
    const a: CpaceResult = started.cpace.finish(bytes(polled.body.pairing.responder_message));
    assert.equal(a.verifyPeerTag(bytes(polled.body.pairing.responder_tag)), true);
    const sealed = sealWithKey(pairingTransferKey(a.isk, started.sid), w.keySet.auk, aukAad(w.userId, started.id));
    const confirmed = await t.call(w.old, "POST", `/v1/me/pairings/${started.id}/confirm`, {
      tag: toBase64Url(a.confirmationTag),
      sealed_auk: sealed,
    });
    assert.equal(confirmed.status, 200, JSON.stringify(confirmed.body));
    assert.equal(confirmed.body.pairing.state, "confirmed");

    // The new device checks Ta, opens the AUK, stores its own bundle and completes.
    const read = await t.call(w.fresh, "GET", `/v1/me/pairings/${started.id}`);
    assert.equal(joined.result.verifyPeerTag(bytes(read.body.pairing.initiator_tag)), true);
    const auk = openWithKey(
      pairingTransferKey(joined.result.isk, joined.sid),
      read.body.pairing.sealed_auk,
      aukAad(w.userId, started.id),
    );
    assert.deepEqual(auk, w.keySet.auk);
    const early = await t.call(w.fresh, "POST", `/v1/me/pairings/${started.id}/complete`);
    assert.equal(early.code, "bundle_not_available", "completing needs the new device's own bundle first");
    const bundle = await t.sealBundle(w.userId, w.freshDevice, auk, w.keySet.id);
    const stored = await t.call(w.fresh, "PUT", "/v1/me/devices/current/bundle", {
      bundle,
      account_key_id: w.keySet.id,
    });
    assert.equal(stored.status, 200);
    const completed = await t.call(w.fresh, "POST", `/v1/me/pairings/${started.id}/complete`);
    assert.equal(completed.status, 200, JSON.stringify(completed.body));
    assert.equal(completed.body.pairing.state, "completed");
    assert.equal(completed.body.pairing.sealed_auk, null);
    assert.equal(completed.body.pairing.initiator_tag, null);
    assert.equal(completed.body.pairing.responder_tag, null);
    const { rows } = await ctx.db.query<{ sealed_auk: string | null }>(
      "SELECT sealed_auk FROM pairing_sessions WHERE id = $1",
      [started.id],
    );
    assert.equal(rows[0]?.sealed_auk, null, "the sealed AUK is forgotten once delivered");
    assert.equal((await t.call(w.fresh, "GET", "/v1/me/devices/current/bundle")).body.bundle, bundle);
    assert.deepEqual(
      (await auditOf(started.id)).map((event) => event.type),
      ["pairing.started", "pairing.joined", "pairing.confirmed", "pairing.completed"],
    );
  });

  it("burns a pairing after a wrong code: the failed confirmation is audited and no second join is accepted", async () => {
    const w = await world();
    const started = await start(w);
    let wrong = generatePairingCode();
    while (wrong === started.code) wrong = generatePairingCode();
    const joined = await join(w, wrong);
    assert.equal(joined.res.status, 200);

    const polled = await t.call(w.old, "GET", `/v1/me/pairings/${started.id}`);
    const a = started.cpace.finish(bytes(polled.body.pairing.responder_message));
    assert.equal(a.verifyPeerTag(bytes(polled.body.pairing.responder_tag)), false, "a wrong code fails confirmation");
    const failed = await t.call(w.old, "POST", `/v1/me/pairings/${started.id}/fail`, { reason: "confirmation_failed" });
    assert.equal(failed.status, 200);
    assert.equal(failed.body.pairing.state, "failed");
    assert.equal(failed.body.pairing.responder_tag, null);

    const events = await auditOf(started.id);
    const failure = events.find((event) => event.type === "pairing.failed");
    assert.ok(failure, "the failed confirmation is audited");
    assert.equal(failure.entry.details.reason, "confirmation_failed");
    assert.equal(failure.entry.details.by, "initiator");

    // Another device, with the right code this time, finds nothing open and cannot join.
    const third = await t.signInAgain(w.old);
    const thirdDevice = await t.registerDevice(third, { name: "Tablet" });
    assert.equal((await t.call(third, "GET", "/v1/me/pairings/open")).code, "pairing_not_found");
    const cpace = cpaceStart("responder", setup(w, started.code, started.sid, thirdDevice));
    const result = cpace.finish(started.cpace.message);
    const second = await t.call(third, "POST", `/v1/me/pairings/${started.id}/join`, {
      message: toBase64Url(cpace.message),
      tag: toBase64Url(result.confirmationTag),
    });
    assert.equal(second.status, 409);
    assert.equal(second.code, "pairing_closed");
    const confirm = await t.call(w.old, "POST", `/v1/me/pairings/${started.id}/confirm`, {
      tag: toBase64Url(a.confirmationTag),
      sealed_auk: "v1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    });
    assert.equal(confirm.code, "pairing_closed");
  });

  it("accepts exactly one join", async () => {
    const w = await world();
    const started = await start(w);
    const other = await t.signInAgain(w.old);
    const otherDevice = await t.registerDevice(other, { name: "Tablet" });
    const first = await join(w, started.code);
    assert.equal(first.res.status, 200);
    const cpace = cpaceStart("responder", setup(w, started.code, started.sid, otherDevice));
    const result = cpace.finish(started.cpace.message);
    const second = await t.call(other, "POST", `/v1/me/pairings/${started.id}/join`, {
      message: toBase64Url(cpace.message),
      tag: toBase64Url(result.confirmationTag),
    });
    assert.equal(second.status, 409);
    assert.equal(second.code, "pairing_closed");
    const state = await t.call(w.old, "GET", `/v1/me/pairings/${started.id}`);
    assert.equal(state.body.pairing.responder_device_id, w.freshDevice.id, "the first join stands");
  });

  it("lets exactly one of two concurrent joins through", async () => {
    const w = await world();
    const started = await start(w);
    const other = await t.signInAgain(w.old);
    const otherDevice = await t.registerDevice(other, { name: "Tablet" });
    const body = (device: TestDevice) => {
      const cpace = cpaceStart("responder", setup(w, started.code, started.sid, device));
      const result = cpace.finish(started.cpace.message);
      return { message: toBase64Url(cpace.message), tag: toBase64Url(result.confirmationTag) };
    };
    const url = `/v1/me/pairings/${started.id}/join`;
    const answers = await Promise.all([
      t.call(w.fresh, "POST", url, body(w.freshDevice)),
      t.call(other, "POST", url, body(otherDevice)),
    ]);
    assert.deepEqual(answers.map((res) => res.status).sort(), [200, 409]);
    assert.equal(answers.find((res) => res.status === 409)?.code, "pairing_closed");
  });

  it("counts concurrent starts against the hourly limit one at a time", async () => {
    const w = await world();
    const answers = await Promise.all(Array.from({ length: 7 }, () => start(w)));
    const statuses = answers.map((started) => started.res.status).sort();
    assert.deepEqual(statuses, [201, 201, 201, 201, 201, 429, 429]);
    const { rows } = await ctx.db.query<{ state: string }>("SELECT state FROM pairing_sessions WHERE user_id = $1", [
      w.userId,
    ]);
    assert.equal(rows.length, 5);
    assert.equal(rows.filter((row) => row.state === "waiting").length, 1, "one open pairing at a time");
  });

  it("starts at most 5 pairings per account in a rolling hour, each new one canceling the open one", async () => {
    const w = await world();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const started = await start(w);
      assert.equal(started.res.status, 201, `pairing ${i + 1}: ${JSON.stringify(started.res.body)}`);
      ids.push(started.id);
      t.kit.clock.advance(60_000);
    }
    const { rows } = await ctx.db.query<{ id: string; state: string }>(
      "SELECT id, state FROM pairing_sessions WHERE user_id = $1 ORDER BY created_at",
      [w.userId],
    );
    assert.deepEqual(
      rows.map((row) => row.state),
      ["canceled", "canceled", "canceled", "canceled", "waiting"],
    );

    const sixth = await start(w);
    assert.equal(sixth.res.status, 429);
    assert.equal(sixth.res.code, "pairing_rate_limited");
    // The first one was started 5 minutes ago: a place frees up 55 minutes from now.
    assert.equal(sixth.res.headers["retry-after"], String(55 * 60));
    t.kit.clock.advance(55 * 60_000 - 1000);
    // The old session idled out meanwhile: a new passkey sign-in on the same device.
    w.old = await t.signInAgain(w.old);
    assert.equal((await t.attach(w.old, w.oldDevice)).status, 200);
    assert.equal((await start(w)).res.status, 429, "still inside the hour");
    t.kit.clock.advance(1000);
    const later = await start(w);
    assert.equal(later.res.status, 201, "an hour after the first, one more is allowed");
    assert.equal((await start(w)).res.status, 429);
  });

  it("expires a pairing after 5 minutes on the clock: a join then gets pairing_expired", async () => {
    const w = await world();
    const started = await start(w);
    t.kit.clock.advance(FIVE_MINUTES - 1000);
    assert.equal((await t.call(w.fresh, "GET", "/v1/me/pairings/open")).status, 200, "still open at 4:59");
    t.kit.clock.advance(1000);
    assert.equal((await t.call(w.fresh, "GET", "/v1/me/pairings/open")).code, "pairing_not_found");
    const cpace = cpaceStart("responder", setup(w, started.code, started.sid, w.freshDevice));
    const result = cpace.finish(started.cpace.message);
    const late = await t.call(w.fresh, "POST", `/v1/me/pairings/${started.id}/join`, {
      message: toBase64Url(cpace.message),
      tag: toBase64Url(result.confirmationTag),
    });
    assert.equal(late.status, 410);
    assert.equal(late.code, "pairing_expired");
    const { rows } = await ctx.db.query<{ state: string }>("SELECT state FROM pairing_sessions WHERE id = $1", [
      started.id,
    ]);
    assert.equal(rows[0]?.state, "expired", "the refusal's state change was committed");
    assert.equal((await t.call(w.old, "GET", `/v1/me/pairings/${started.id}`)).code, "pairing_expired");
  });

  it("expires a joined pairing past its time too, and the sweep expires overdue ones", async () => {
    const w = await world();
    const started = await start(w);
    assert.equal((await join(w, started.code)).res.status, 200);
    t.kit.clock.advance(FIVE_MINUTES);
    const confirm = await t.call(w.old, "POST", `/v1/me/pairings/${started.id}/confirm`, {
      tag: toBase64Url(randomBytes(64)),
      sealed_auk: "v1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    });
    assert.equal(confirm.code, "pairing_expired");
    // A joined pairing whose confirmation never came is likely a wrong guess: it leaves a trace.
    const expiry = (await auditOf(started.id)).find((event) => event.type === "pairing.expired");
    assert.ok(expiry, "the expiry is audited");
    assert.equal(expiry.entry.details.from_state, "joined");

    const swept = await start(w);
    t.kit.clock.advance(FIVE_MINUTES);
    const expired = await expireOverduePairings(ctx.db, new Date(t.kit.clock.now()));
    assert.ok(expired.some((pairing) => pairing.id === swept.id && pairing.fromState === "waiting"));
    const { rows } = await ctx.db.query<{ state: string }>("SELECT state FROM pairing_sessions WHERE id = $1", [
      swept.id,
    ]);
    assert.equal(rows[0]?.state, "expired");
  });

  it("keeps each step to its role", async () => {
    const w = await world();
    const started = await start(w);
    const own = await t.call(w.old, "POST", `/v1/me/pairings/${started.id}/join`, {
      message: toBase64Url(started.cpace.message),
      tag: toBase64Url(randomBytes(64)),
    });
    assert.equal(own.code, "pairing_role_mismatch", "the initiator cannot join its own pairing");
    const joined = await join(w, started.code);
    assert.equal(joined.res.status, 200);

    const stranger = await t.signInAgain(w.old);
    await t.registerDevice(stranger, { name: "Tablet" });
    assert.equal((await t.call(stranger, "GET", `/v1/me/pairings/${started.id}`)).code, "pairing_role_mismatch");
    const confirmBody = {
      tag: toBase64Url(randomBytes(64)),
      sealed_auk: "v1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    };
    assert.equal(
      (await t.call(w.fresh, "POST", `/v1/me/pairings/${started.id}/confirm`, confirmBody)).code,
      "pairing_role_mismatch",
      "only the initiator confirms",
    );
    assert.equal(
      (await t.call(stranger, "POST", `/v1/me/pairings/${started.id}/fail`, { reason: "canceled" })).code,
      "pairing_role_mismatch",
    );
    assert.equal(
      (await t.call(w.old, "POST", `/v1/me/pairings/${started.id}/complete`)).code,
      "pairing_role_mismatch",
      "only the responder completes",
    );
    assert.equal(
      (await t.call(w.fresh, "POST", `/v1/me/pairings/${started.id}/complete`)).code,
      "pairing_closed",
      "not before it is confirmed",
    );
    const canceled = await t.call(w.fresh, "POST", `/v1/me/pairings/${started.id}/fail`, { reason: "canceled" });
    assert.equal(canceled.body.pairing.state, "canceled");

    const bob = await t.enrolledPerson();
    assert.equal((await t.call(bob.browser, "GET", `/v1/me/pairings/${started.id}`)).code, "pairing_not_found");
  });

  it("starts only from a device that holds a bundle for the active key set, with a well-formed sid and message", async () => {
    const w = await world();
    const body = { sid: toBase64Url(randomBytes(16)), message: toBase64Url(randomBytes(40)) };
    assert.equal((await t.call(w.fresh, "POST", "/v1/me/pairings", body)).code, "bundle_not_available");
    const noDevice = await t.signInAgain(w.old);
    assert.equal((await t.call(noDevice, "POST", "/v1/me/pairings", body)).code, "device_required");
    const shortSid = await t.call(w.old, "POST", "/v1/me/pairings", { ...body, sid: toBase64Url(randomBytes(8)) });
    assert.equal(shortSid.status, 400);
    const tiny = await t.call(w.old, "POST", "/v1/me/pairings", { ...body, message: toBase64Url(randomBytes(4)) });
    assert.equal(tiny.code, "pairing_message_invalid");
    const { rows } = await ctx.db.query("SELECT 1 FROM pairing_sessions WHERE user_id = $1", [w.userId]);
    assert.equal(rows.length, 0);
  });

  it("cancels the pairings of a revoked device", async () => {
    const w = await world();
    const started = await start(w);
    await t.kit.accounts.stepUp(w.fresh.cookie, w.fresh.authenticator);
    assert.equal((await t.call(w.fresh, "DELETE", `/v1/me/devices/${w.oldDevice.id}`)).status, 200);
    const { rows } = await ctx.db.query<{ state: string }>("SELECT state FROM pairing_sessions WHERE id = $1", [
      started.id,
    ]);
    assert.equal(rows[0]?.state, "canceled");
  });
});
