import assert from "node:assert/strict";
import { beforeEach, describe, it } from "node:test";
import { accountKeyFingerprint, fromBase64Url, generateAccountKeyPair, toBase64Url } from "@countersign/protocol";
import type { DeviceRecord } from "./device-db.ts";

// The app's modules set the document's language when loaded.
Object.assign(globalThis, { document: { documentElement: {} } });
const { createAccountKeySet } = await import("./create-account-key-set.ts");
const { generateDeviceKeys } = await import("./device-keys.ts");
const { accountPrivateKey, keyring, setKeyring } = await import("./keyring.ts");
const { refreshKeyring } = await import("./refresh-keyring.ts");

const account = { id: "usr_keyring", email: "k@example.com", created_at: "", recovery_codes_remaining: 10 };

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
  globalThis.fetch = (async (path: string, init: RequestInit) => {
    const route = routes[`${init.method} ${path}`];
    if (route === undefined) throw new Error(`no route ${init.method} ${path}`);
    return new Response(JSON.stringify(route()), { status: 200, headers: { "content-type": "application/json" } });
  }) as typeof fetch;
  return { record, set, publicKey };
}

describe("unlocking this device from its bundle", () => {
  beforeEach(() => setKeyring({ status: "off" }));

  it("unlocks with the public key and fingerprint derived here from the opened private key", async () => {
    const { record, set, publicKey } = await server();
    await refreshKeyring(account, record);
    const state = keyring.value;
    assert.equal(state.status, "unlocked");
    assert.ok(state.status === "unlocked");
    assert.equal(state.accountKeyId, set.body.id);
    assert.equal(state.publicKey, toBase64Url(publicKey));
    assert.equal(state.fingerprint, accountKeyFingerprint(publicKey));
    assert.notEqual(accountPrivateKey(set.body.id), null);
  });

  it("refuses to unlock, keeping no key, when the server swaps in a public key of its own", async () => {
    const attacker = generateAccountKeyPair().publicKey;
    const { record, set } = await server((key) => ({
      ...key,
      public_key: toBase64Url(attacker),
      fingerprint: accountKeyFingerprint(attacker),
    }));
    await refreshKeyring(account, record);
    assert.deepEqual(keyring.value, { status: "refused", deviceId: "dev_keyring", reason: "public-key-mismatch" });
    assert.equal(accountPrivateKey(set.body.id), null, "the opened private key is not kept");
    assert.ok(!JSON.stringify(keyring.value).includes(accountKeyFingerprint(attacker)));
  });

  it("refuses a public key that is not base64url of 32 bytes", async () => {
    const { record, set } = await server((key) => ({ ...key, public_key: "%%%" }));
    await refreshKeyring(account, record);
    assert.equal(keyring.value.status, "refused");
    assert.equal(accountPrivateKey(set.body.id), null);
  });

  it("shows the fingerprint computed here, not a swapped one the server reports", async () => {
    const fake = accountKeyFingerprint(generateAccountKeyPair().publicKey);
    const { record, publicKey } = await server((key) => ({ ...key, fingerprint: fake }));
    await refreshKeyring(account, record);
    const state = keyring.value;
    assert.ok(state.status === "unlocked");
    assert.equal(state.fingerprint, accountKeyFingerprint(publicKey));
    assert.notEqual(state.fingerprint, fake);
  });

  it("holds no fingerprint while locked: nothing here can vouch for the server's", async () => {
    const { record } = await server();
    // Another device's keys: the bundle does not open.
    const other = { ...record, ...(await generateDeviceKeys()) };
    await refreshKeyring(account, other);
    assert.equal(keyring.value.status, "locked");
    assert.ok(!("fingerprint" in keyring.value));
  });
});
