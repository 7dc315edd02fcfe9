import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { randomBytes } from "@countersign/protocol";
import { openSessionData, type SessionBinding, sealSessionData } from "./session-data-cipher.ts";

const id = randomBytes(32);
const binding: SessionBinding = {
  handle: "ses_AAAAAAAAAAAAAAAAAAAAAA",
  userId: "user-1",
  authMethod: "passkey",
  createdAt: new Date(Date.UTC(2026, 0, 1)),
  absoluteExpiresAt: new Date(Date.UTC(2026, 0, 1, 12)),
};
const data = { ip: "203.0.113.7", userAgent: "Mozilla/5.0 (iPhone) Safari" };

describe("session data at rest", () => {
  it("opens with the same id and binding, and shows no plaintext", () => {
    const sealed = sealSessionData(id, binding, data);
    assert.deepEqual(openSessionData(id, binding, sealed), data);
    const asText = Buffer.from(sealed).toString("latin1");
    assert.doesNotMatch(asText, /203\.0\.113|Mozilla|iPhone/);
  });

  it("uses a fresh nonce each time", () => {
    assert.notDeepEqual(sealSessionData(id, binding, data), sealSessionData(id, binding, data));
  });

  it("does not open under another id", () => {
    const sealed = sealSessionData(id, binding, data);
    assert.equal(openSessionData(randomBytes(32), binding, sealed), null);
  });

  it("does not open once a bound column changed: another user, method, or a later expiry", () => {
    const sealed = sealSessionData(id, binding, data);
    const changes: Partial<SessionBinding>[] = [
      { userId: "user-2" },
      { handle: "ses_BAAAAAAAAAAAAAAAAAAAAA" },
      { authMethod: "recovery" },
      { createdAt: new Date(binding.createdAt.getTime() + 1) },
      { absoluteExpiresAt: new Date(binding.absoluteExpiresAt.getTime() + 3_600_000) },
    ];
    for (const change of changes) {
      assert.equal(openSessionData(id, { ...binding, ...change }, sealed), null, JSON.stringify(change));
    }
  });

  it("does not open when any byte was changed or cut", () => {
    const sealed = sealSessionData(id, binding, data);
    for (let i = 0; i < sealed.length; i += 7) {
      const bad = Uint8Array.from(sealed);
      bad[i] = (bad[i] as number) ^ 0x80;
      assert.equal(openSessionData(id, binding, bad), null, `byte ${i}`);
    }
    assert.equal(openSessionData(id, binding, sealed.subarray(0, 27)), null);
  });
});
