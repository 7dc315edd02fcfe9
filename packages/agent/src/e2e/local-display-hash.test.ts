import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { displayPayloadHash, isCountersignError } from "@countersign/protocol";
import { localDisplayHash } from "./local-display-hash.ts";

const shown = {
  agent_id: "agt_a",
  agent_name: "Bot",
  agent_verified: true,
  action_type: "deploy.x",
  title: "Deploy",
  body: "",
  binding_message: null,
  created_at: "2026-11-21T10:00:00.000Z",
  expires_at: "2026-11-21T10:05:00.000Z",
};
const sent = { agentId: "agt_a", actionType: "deploy.x", title: "Deploy" };
const mismatch = (error: unknown) => isCountersignError(error, "display_hash_mismatch");

describe("localDisplayHash", () => {
  it("is the display payload hash of the answer's fields with the agent's own context", async () => {
    const context = { commit: "a1b2c3" };
    assert.equal(await localDisplayHash(shown, context, sent, true), await displayPayloadHash({ ...shown, context }));
  });

  it("refuses a created request that does not show what was sent, or an answer without the payload", async () => {
    await assert.rejects(localDisplayHash({ ...shown, title: "Delete" }, {}, sent, true), mismatch);
    await assert.rejects(localDisplayHash({ ...shown, body: "more" }, {}, sent, true), mismatch);
    await assert.rejects(localDisplayHash(undefined, {}, sent, true), mismatch);
    await assert.rejects(localDisplayHash({ ...shown, agent_verified: "yes" }, {}, sent, true), mismatch);
  });

  it("hashes an earlier open request returned instead (suppression) as it is shown", async () => {
    const earlier = { ...shown, title: "Deploy v1" };
    assert.equal(
      await localDisplayHash(earlier, {}, sent, false),
      await displayPayloadHash({ ...earlier, context: {} }),
    );
  });
});
