import assert from "node:assert/strict";
import { beforeEach, describe, it } from "node:test";
import {
  accountKeyFingerprint,
  fromBase64Url,
  generateAccountKeyPair,
  isCountersignError,
  toBase64Url,
} from "@countersign/protocol";
import type { DeviceRecord } from "./device-db.ts";

// The app's modules set the document's language when loaded.
Object.assign(globalThis, { document: { documentElement: {} } });
const { createAccountKeySet } = await import("./create-account-key-set.ts");
const { generateDeviceKeys } = await import("./device-keys.ts");
const { accountPrivateKey, keyring, setKeyring } = await import("./keyring.ts");
const { refreshKeyring } = await import("./refresh-keyring.ts");
const { memoryKeyIds } = await import("./key-id-memory.ts");
const { readAuk } = await import("./read-auk.ts");

/** The key set id the keyring is unlocked with, or null (read afresh: not narrowed by earlier asserts). */
function unlockedWith(): string | null {
  const state = keyring.peek();
  return state.status === "unlocked" ? state.accountKeyId : null;
}

const account = {
  id: "usr_keyring",
  email: "k@example.com",
  created_at: "",
  password_set: false,
  password_login_enabled: false,
  recovery_codes_remaining: 10,
};

type Json = Record<string, unknown>;

/**
 * A server holding one account key set and this device's bundle, answering the two requests an
 * unlock makes. `tamper` changes what it says about the key set (a malicious or broken server).
 */
async function server(tamper: (accountKey: Json) => Json = (key) => key) {
  const keys = await generateDeviceKeys();
  const record: DeviceRecord = { userId: account.id, deviceId: "dev_keyring", ...keys };
  const set = await createAccountKeySet({ userId: account.id, deviceId: "dev_keyring", wrapping: keys.wrapping });
  const publicKey = fromBase64Url(set.body.public_key) as Uint8Array;
  const honest = { id: set.body.id, public_key: set.body.public_key, fingerprint: accountKeyFingerprint(publicKey) };
  const routes: Record<string, () => Json> = {
    "GET /v1/me/account-key": () => ({ account_key: tamper({ ...honest, created_at: "", has_recovery: true }) }),
    "GET /v1/me/devices/current/bundle": () => ({
      bundle: set.body.bundle,
      account_key: tamper({ ...honest, encrypted_private_key: set.body.encrypted_private_key }),
    }),
  };
  serve(routes);
  return { record, set, publicKey };
}

function serve(routes: Record<string, () => Json>): void {
  globalThis.fetch = (async (path: string, init: RequestInit) => {
    const route = routes[`${init.method} ${path}`];
    if (route === undefined) throw new Error(`no route ${init.method} ${path}`);
    return new Response(JSON.stringify(route()), { status: 200, headers: { "content-type": "application/json" } });
  }) as typeof fetch;
}

/**
 * A server that has held two key sets of the account, the first retired by a reset: this device
 * made a bundle for each. `active` is the one it serves, with the bundle `bundleOf` names.
 */
async function twoKeySets() {
  const keys = await generateDeviceKeys();
  const record: DeviceRecord = { userId: account.id, deviceId: "dev_keyring", ...keys };
  const make = () => createAccountKeySet({ userId: account.id, deviceId: "dev_keyring", wrapping: keys.wrapping });
  const sets = { old: await make(), current: await make() };
  const serving = {
    active: "old" as keyof typeof sets,
    bundleOf: "old" as keyof typeof sets,
    labelAs: null as string | null,
  };
  const view = (name: keyof typeof sets) => ({
    id: sets[name].body.id,
    public_key: sets[name].body.public_key,
    fingerprint: "",
  });
  serve({
    "GET /v1/me/account-key": () => ({ account_key: { ...view(serving.active), created_at: "", has_recovery: true } }),
    "GET /v1/me/devices/current/bundle": () => ({
      bundle: sets[serving.bundleOf].body.bundle,
      account_key: {
        ...view(serving.bundleOf),
        ...(serving.labelAs === null ? {} : { id: serving.labelAs }),
        encrypted_private_key: sets[serving.bundleOf].body.encrypted_private_key,
      },
    }),
  });
  return { record, sets, serving, memory: memoryKeyIds() };
}

describe("unlocking this device from its bundle", () => {
  beforeEach(() => setKeyring({ status: "off" }));

  it("unlocks with the public key and fingerprint derived here from the opened private key", async () => {
    const { record, set, publicKey } = await server();
    const memory = memoryKeyIds();
    await refreshKeyring(account, record, memory);
    const state = keyring.value;
    assert.equal(state.status, "unlocked");
    assert.ok(state.status === "unlocked");
    assert.equal(state.accountKeyId, set.body.id);
    assert.equal(state.publicKey, toBase64Url(publicKey));
    assert.equal(state.fingerprint, accountKeyFingerprint(publicKey));
    assert.notEqual(accountPrivateKey(set.body.id), null);
    assert.deepEqual(await memory.seen(account.id, "dev_keyring"), [set.body.id], "remembered as the newest");
  });

  it("refuses to unlock, keeping no key, when the server swaps in a public key of its own", async () => {
    const attacker = generateAccountKeyPair().publicKey;
    const { record, set } = await server((key) => ({
      ...key,
      public_key: toBase64Url(attacker),
      fingerprint: accountKeyFingerprint(attacker),
    }));
    await refreshKeyring(account, record, memoryKeyIds());
    assert.deepEqual(keyring.value, { status: "refused", deviceId: "dev_keyring", reason: "public-key-mismatch" });
    assert.equal(accountPrivateKey(set.body.id), null, "the opened private key is not kept");
    assert.ok(!JSON.stringify(keyring.value).includes(accountKeyFingerprint(attacker)));
  });

  it("refuses a public key that is not base64url of 32 bytes", async () => {
    const { record, set } = await server((key) => ({ ...key, public_key: "%%%" }));
    await refreshKeyring(account, record, memoryKeyIds());
    assert.equal(keyring.value.status, "refused");
    assert.equal(accountPrivateKey(set.body.id), null);
  });

  it("shows the fingerprint computed here, not a swapped one the server reports", async () => {
    const fake = accountKeyFingerprint(generateAccountKeyPair().publicKey);
    const { record, publicKey } = await server((key) => ({ ...key, fingerprint: fake }));
    await refreshKeyring(account, record, memoryKeyIds());
    const state = keyring.value;
    assert.ok(state.status === "unlocked");
    assert.equal(state.fingerprint, accountKeyFingerprint(publicKey));
    assert.notEqual(state.fingerprint, fake);
  });

  it("holds no fingerprint while locked: nothing here can vouch for the server's", async () => {
    const { record } = await server();
    // Another device's keys: the bundle does not open.
    const other = { ...record, ...(await generateDeviceKeys()) };
    await refreshKeyring(account, other, memoryKeyIds());
    assert.equal(keyring.value.status, "locked");
    assert.ok(!("fingerprint" in keyring.value));
  });

  it("moves to a new key set the server names as active whose bundle opens under its id", async () => {
    const { record, sets, serving, memory } = await twoKeySets();
    await refreshKeyring(account, record, memory);
    assert.equal(unlockedWith(), sets.old.body.id);
    serving.active = "current";
    serving.bundleOf = "current";
    await refreshKeyring(account, record, memory);
    assert.equal(unlockedWith(), sets.current.body.id);
    assert.deepEqual(await memory.seen(account.id, "dev_keyring"), [sets.old.body.id, sets.current.body.id]);
  });

  it("refuses a retired key set served again, as the active one or as the bundle's", async () => {
    const { record, sets, serving, memory } = await twoKeySets();
    await refreshKeyring(account, record, memory);
    serving.active = "current";
    serving.bundleOf = "current";
    await refreshKeyring(account, record, memory);
    // Rolled back: the server calls the old key set active again and serves its (genuine) bundle.
    serving.active = "old";
    serving.bundleOf = "old";
    await refreshKeyring(account, record, memory);
    assert.deepEqual(keyring.value, { status: "refused", deviceId: "dev_keyring", reason: "key-rollback" });
    assert.equal(accountPrivateKey(sets.old.body.id), null);
    assert.equal(accountPrivateKey(sets.current.body.id), null);
    // Only the bundle rolled back, under the current key set's name as active.
    serving.active = "current";
    await refreshKeyring(account, record, memory);
    assert.deepEqual(keyring.value, { status: "refused", deviceId: "dev_keyring", reason: "key-rollback" });
    // The newest stays the newest: the current key set unlocks again.
    serving.bundleOf = "current";
    await refreshKeyring(account, record, memory);
    assert.equal(unlockedWith(), sets.current.body.id);
  });

  it("opens nothing when the server relabels an old bundle as a new key set, or serves another set's bundle", async () => {
    const { record, sets, serving, memory } = await twoKeySets();
    // A bundle made for the old key set, served under the id of the current one: its AAD says no.
    serving.active = "current";
    serving.labelAs = sets.current.body.id;
    await refreshKeyring(account, record, memory);
    assert.equal(keyring.value.status, "locked");
    assert.equal(accountPrivateKey(sets.old.body.id), null);
    // The bundle of a key set the server does not call active.
    serving.labelAs = null;
    await refreshKeyring(account, record, memory);
    assert.equal(keyring.value.status, "locked");
    assert.deepEqual(await memory.seen(account.id, "dev_keyring"), [], "nothing unlocked, nothing remembered");
  });

  it("hands a paired device only the AUK of the key set this device unlocked with", async () => {
    const { record, sets, serving, memory } = await twoKeySets();
    serving.active = "current";
    serving.bundleOf = "current";
    await refreshKeyring(account, record, memory);
    assert.equal((await readAuk(account, record)).accountKeyId, sets.current.body.id);
    // The server now serves the retired key set's bundle to be sent on.
    serving.bundleOf = "old";
    await assert.rejects(readAuk(account, record), (error) => isCountersignError(error, "account_key_changed"));
    setKeyring({ status: "locked", deviceId: "dev_keyring", accountKeyId: sets.current.body.id, needsPasskey: false });
    serving.bundleOf = "current";
    await assert.rejects(readAuk(account, record), (error) => isCountersignError(error, "account_key_changed"));
  });
});
