import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fromBase64Url, isCountersignError } from "@countersign/protocol";

// The app's modules read the page's origin and set the document's language when loaded.
const ORIGIN = "https://app.example";
Object.assign(globalThis, { window: { location: { origin: ORIGIN } }, document: { documentElement: {} } });
const { createAccountKeySet } = await import("../device/create-account-key-set.ts");
const { unwrapBundle } = await import("../device/credential-bundle.ts");
const { generateDeviceKeys } = await import("../device/device-keys.ts");
const { keyring } = await import("../device/keyring.ts");
const { memoryKeyIds, useKeyIdMemory } = await import("../device/key-id-memory.ts");
const { refreshKeyring } = await import("../device/refresh-keyring.ts");
// No IndexedDB here: the key set ids each device unlocked with are kept in a Map.
useKeyIdMemory(memoryKeyIds());
const { finishPairing, startPairing } = await import("./pairing-initiator.ts");
const { joinPairing } = await import("./pairing-responder.ts");

const account = {
  id: "usr_pairing",
  email: "p@example.com",
  created_at: "",
  password_set: false,
  password_login_enabled: false,
  recovery_codes_remaining: 10,
};

type Json = Record<string, unknown>;

/**
 * The server's pairing relay as the two devices see it (spec §2), in memory: one pairing, one
 * join, states and the bundles of the two devices. It relays bytes and never looks inside them.
 */
async function relay() {
  const initiator = { userId: account.id, deviceId: "dev_initiator", ...(await generateDeviceKeys()) };
  const responder = { userId: account.id, deviceId: "dev_responder", ...(await generateDeviceKeys()) };
  const set = await createAccountKeySet({
    userId: account.id,
    deviceId: "dev_initiator",
    wrapping: initiator.wrapping,
  });
  const state = {
    pairing: null as Json | null,
    failReason: null as string | null,
    responderBundle: null as string | null,
  };
  const accountKey = {
    id: set.body.id,
    public_key: set.body.public_key,
    fingerprint: "the server's word, which the app does not use",
    created_at: "",
    has_recovery: true,
  };
  const routes: Record<string, (body: Json) => Json | [number, Json]> = {
    "POST /v1/me/pairings": (body) => {
      state.pairing = {
        id: "pair_1",
        state: "waiting",
        sid: body.sid,
        initiator_device_id: initiator.deviceId,
        responder_device_id: null,
        initiator_message: body.message,
        responder_message: null,
        responder_tag: null,
        initiator_tag: null,
        sealed_auk: null,
        expires_at: new Date(Date.now() + 300_000).toISOString(),
      };
      return { pairing: state.pairing };
    },
    "GET /v1/me/pairings/open": () =>
      state.pairing?.state === "waiting" ? { pairing: state.pairing } : [404, { error: { code: "pairing_not_found" } }],
    "POST /v1/me/pairings/pair_1/join": (body) => {
      if (state.pairing?.state !== "waiting") return [409, { error: { code: "pairing_closed" } }];
      Object.assign(state.pairing, {
        state: "joined",
        responder_device_id: responder.deviceId,
        responder_message: body.message,
        responder_tag: body.tag,
      });
      return { pairing: state.pairing };
    },
    "GET /v1/me/pairings/pair_1": () => ({ pairing: state.pairing }),
    "POST /v1/me/pairings/pair_1/confirm": (body) => {
      Object.assign(state.pairing ?? {}, { state: "confirmed", initiator_tag: body.tag, sealed_auk: body.sealed_auk });
      return { pairing: state.pairing };
    },
    "POST /v1/me/pairings/pair_1/fail": (body) => {
      state.failReason = String(body.reason);
      Object.assign(state.pairing ?? {}, { state: body.reason === "canceled" ? "canceled" : "failed" });
      return { pairing: state.pairing };
    },
    "POST /v1/me/pairings/pair_1/complete": () => {
      Object.assign(state.pairing ?? {}, { state: "completed", sealed_auk: null });
      return { pairing: state.pairing };
    },
    // The initiator reads its own bundle to send the AUK; after storing, the responder reads its own.
    "GET /v1/me/devices/current/bundle": () => ({
      bundle: state.responderBundle ?? set.body.bundle,
      account_key: { ...accountKey, encrypted_private_key: set.body.encrypted_private_key },
    }),
    "PUT /v1/me/devices/current/bundle": (body) => {
      state.responderBundle = String(body.bundle);
      return { device: {} };
    },
    "GET /v1/me/account-key": () => ({ account_key: accountKey }),
  };
  globalThis.fetch = (async (path: string, init: RequestInit) => {
    const route = routes[`${init.method} ${path}`];
    if (route === undefined) throw new Error(`no route ${init.method} ${path}`);
    const answer = route(typeof init.body === "string" ? JSON.parse(init.body) : {});
    const [status, body] = Array.isArray(answer) ? answer : [200, answer];
    return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
  }) as typeof fetch;
  return { initiator, responder, state, set };
}

describe("pairing two devices through the relay", () => {
  it("hands the AUK to the new device, which stores it as its own bundle and unlocks", async () => {
    const { initiator, responder, state, set } = await relay();
    // The enrolled device is unlocked (it checked the key set) before it hands the AUK on.
    await refreshKeyring(account, initiator);
    assert.equal(keyring.value.status, "unlocked");
    const started = await startPairing(account, initiator);
    assert.match(started.code, /^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$/);
    const signal = new AbortController().signal;
    await Promise.all([
      finishPairing(account, initiator, started, signal),
      joinPairing(account, responder, started.code.toLowerCase(), signal),
    ]);
    assert.equal(state.pairing?.state, "completed");
    assert.equal(keyring.value.status, "unlocked");
    // The responder's bundle opens with its own device key to the initiator's AUK.
    const theirs = await unwrapBundle(initiator.wrapping, set.body.bundle, account.id, initiator.deviceId, set.body.id);
    const mine = await unwrapBundle(
      responder.wrapping,
      state.responderBundle ?? "",
      account.id,
      responder.deviceId,
      set.body.id,
    );
    assert.deepEqual(mine, theirs);
    // The relay saw the pairing's messages, and nothing it could open the AUK with.
    assert.equal(fromBase64Url(String(state.pairing?.sid))?.length, 16);
  });

  it("fails on both sides with a wrong code, and the initiator burns the pairing", async () => {
    const { initiator, responder, state } = await relay();
    const started = await startPairing(account, initiator);
    const wrong = started.code.startsWith("0") ? `1${started.code.slice(1)}` : `0${started.code.slice(1)}`;
    const signal = new AbortController().signal;
    const [first, second] = await Promise.allSettled([
      finishPairing(account, initiator, started, signal),
      joinPairing(account, responder, wrong, signal),
    ]);
    assert.ok(first.status === "rejected" && isCountersignError(first.reason, "pairing_failed"));
    assert.ok(second.status === "rejected" && isCountersignError(second.reason, "pairing_failed"));
    assert.equal(state.pairing?.state, "failed");
    assert.equal(state.failReason, "confirmation_failed");
    assert.equal(state.responderBundle, null, "nothing stored");
    assert.equal(state.pairing?.sealed_auk, null, "no AUK sent");
  });

  it("refuses a malformed code before anything reaches the relay", async () => {
    const { responder, state } = await relay();
    await assert.rejects(joinPairing(account, responder, "ABC", new AbortController().signal), (error) =>
      isCountersignError(error, "pairing_code_invalid"),
    );
    assert.equal(state.pairing, null);
  });

  it("fails when the relay names another responder than the device CPace authenticated", async () => {
    const { initiator, responder, state } = await relay();
    const started = await startPairing(account, initiator);
    const signal = new AbortController().signal;
    const joining = joinPairing(account, responder, started.code, signal);
    // The relay reports a different responder than the one CPace authenticated.
    const finishing = (async () => {
      while (state.pairing?.state !== "joined") await new Promise((resolve) => setTimeout(resolve, 20));
      state.pairing.responder_device_id = "dev_someone_else";
      return finishPairing(account, initiator, started, signal);
    })();
    const [first, second] = await Promise.allSettled([finishing, joining]);
    assert.ok(first.status === "rejected" && isCountersignError(first.reason, "pairing_failed"));
    assert.ok(second.status === "rejected");
    assert.equal(state.pairing?.state, "failed");
  });
});
