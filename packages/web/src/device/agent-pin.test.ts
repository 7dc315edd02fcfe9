import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { accountKeyFingerprint, generateAccountKeyPair, toBase64Url } from "@countersign/protocol";
import { checkAgentPin } from "./agent-pin.ts";
import type { Keyring } from "./keyring.ts";

const KID = "ak_0123456789abcdefghijAB";
const mine = generateAccountKeyPair().publicKey;
const theirs = generateAccountKeyPair().publicKey;
const unlocked: Keyring = {
  status: "unlocked",
  deviceId: "dev_1",
  accountKeyId: KID,
  fingerprint: accountKeyFingerprint(mine),
  publicKey: toBase64Url(mine),
};

describe("checking the key an agent is pinned to", () => {
  it("shows the fingerprint computed here when the pin is this device's key", () => {
    const pin = { account_key_id: KID, public_key: toBase64Url(mine), fingerprint: accountKeyFingerprint(mine) };
    assert.deepEqual(checkAgentPin(pin, unlocked), { kind: "verified", fingerprint: accountKeyFingerprint(mine) });
  });

  it("never shows the server's fingerprint: a swapped one is replaced by the local one", () => {
    const pin = { account_key_id: KID, public_key: toBase64Url(mine), fingerprint: accountKeyFingerprint(theirs) };
    assert.deepEqual(checkAgentPin(pin, unlocked), { kind: "verified", fingerprint: accountKeyFingerprint(mine) });
  });

  it("warns when the server pinned the agent to another public key, whatever fingerprint it reports", () => {
    // The attack: the server's own key under the account's key id, with a matching fingerprint…
    const own = { account_key_id: KID, public_key: toBase64Url(theirs), fingerprint: accountKeyFingerprint(theirs) };
    assert.deepEqual(checkAgentPin(own, unlocked), { kind: "mismatch" });
    // …or with this device's fingerprint copied beside it.
    const copied = { ...own, fingerprint: accountKeyFingerprint(mine) };
    assert.deepEqual(checkAgentPin(copied, unlocked), { kind: "mismatch" });
    // Not base64url at all.
    assert.deepEqual(checkAgentPin({ ...own, public_key: "not base64url!" }, unlocked), { kind: "mismatch" });
  });

  it("warns when the pin names another key set, even with this device's public key", () => {
    const pin = {
      account_key_id: "ak_zzzzzzzzzzzzzzzzzzzzzz",
      public_key: toBase64Url(mine),
      fingerprint: accountKeyFingerprint(mine),
    };
    assert.deepEqual(checkAgentPin(pin, unlocked), { kind: "mismatch" });
  });

  it("asks to unlock to verify when this device holds no opened key", () => {
    const pin = { account_key_id: KID, public_key: toBase64Url(mine), fingerprint: accountKeyFingerprint(mine) };
    const states: Keyring[] = [
      { status: "off" },
      { status: "unregistered" },
      { status: "locked", deviceId: "dev_1", accountKeyId: KID, needsPasskey: false },
      { status: "refused", deviceId: "dev_1", reason: "public-key-mismatch" },
      { status: "no-account-key", deviceId: "dev_1" },
    ];
    for (const state of states) assert.deepEqual(checkAgentPin(pin, state), { kind: "unverified" }, state.status);
  });
});
