import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { utf8 } from "../encoding/bytes.ts";
import { toHex } from "../encoding/hex.ts";
import { isCountersignError } from "../errors/countersign-error.ts";
import { canonicalize } from "./canonicalize.ts";
import { type DisplayPayload, displayPayloadHash } from "./display-payload-hash.ts";

const PAYLOAD: DisplayPayload = {
  agent_id: "agt_01J9Z3",
  agent_name: "Release bot",
  agent_verified: true,
  action_type: "deploy.production",
  title: "Deploy v2.3.1 to production",
  body: "Rolls out the build from main.\nCanary first.",
  context: { service: "api", replicas: 3, regions: ["eu-west-1", "us-east-1"], cost_usd: 1.5 },
  binding_message: "Blue Falcon",
  created_at: "2025-06-15T12:00:00.000Z",
  expires_at: "2025-06-15T12:05:00.000Z",
};

describe("displayPayloadHash (DESIGN §4.5)", () => {
  it("is sha256: and the hex SHA-256 of the payload's canonical JSON", async () => {
    const expected = toHex(
      new Uint8Array(await crypto.subtle.digest("SHA-256", utf8(canonicalize(PAYLOAD)) as Uint8Array<ArrayBuffer>)),
    );
    assert.equal(await displayPayloadHash(PAYLOAD), `sha256:${expected}`);
    assert.match(await displayPayloadHash(PAYLOAD), /^sha256:[0-9a-f]{64}$/);
  });

  it("has a fixed canonical form and hash for a known payload", async () => {
    assert.equal(
      canonicalize(PAYLOAD),
      '{"action_type":"deploy.production","agent_id":"agt_01J9Z3","agent_name":"Release bot","agent_verified":true,"binding_message":"Blue Falcon","body":"Rolls out the build from main.\\nCanary first.","context":{"cost_usd":1.5,"regions":["eu-west-1","us-east-1"],"replicas":3,"service":"api"},"created_at":"2025-06-15T12:00:00.000Z","expires_at":"2025-06-15T12:05:00.000Z","title":"Deploy v2.3.1 to production"}',
    );
    // Computed independently with node:crypto over the canonical text above.
    assert.equal(
      await displayPayloadHash(PAYLOAD),
      "sha256:439ca30e85f8b46190e6ee3a24c81bfcc46f7875c6c3aa5937b745f1e80325ae",
    );
  });

  it("does not depend on property order", async () => {
    const reversed = Object.fromEntries(Object.entries(PAYLOAD).reverse()) as unknown as DisplayPayload;
    const context = { cost_usd: 1.5, regions: ["eu-west-1", "us-east-1"], replicas: 3, service: "api" };
    assert.equal(await displayPayloadHash({ ...reversed, context }), await displayPayloadHash(PAYLOAD));
  });

  it("changes when any displayed field changes", async () => {
    const base = await displayPayloadHash(PAYLOAD);
    const changes: Partial<DisplayPayload>[] = [
      { agent_id: "agt_01J9Z4" },
      { agent_name: "Release bot " },
      { agent_verified: false },
      { action_type: "deploy.staging" },
      { title: "Deploy v2.3.2 to production" },
      { body: "Rolls out the build from main.\nCanary first!" },
      { context: { ...PAYLOAD.context, replicas: 4 } },
      { binding_message: null },
      { created_at: "2025-06-15T12:00:00.001Z" },
      { expires_at: "2025-06-15T12:05:01.000Z" },
    ];
    for (const change of changes) {
      assert.notEqual(await displayPayloadHash({ ...PAYLOAD, ...change }), base, JSON.stringify(change));
    }
  });

  it("ignores fields that are not displayed", async () => {
    const row = { ...PAYLOAD, user_id: "usr_1", number_match: "123456" };
    assert.equal(await displayPayloadHash(row), await displayPayloadHash(PAYLOAD));
  });

  it("refuses a payload with a missing field or non-JSON context", async () => {
    const { title: _title, ...missing } = PAYLOAD;
    await assert.rejects(displayPayloadHash(missing as DisplayPayload), (e) =>
      isCountersignError(e, "validation_failed"),
    );
    await assert.rejects(displayPayloadHash({ ...PAYLOAD, context: { when: new Date(0) } }), (e) =>
      isCountersignError(e, "validation_failed"),
    );
  });
});
