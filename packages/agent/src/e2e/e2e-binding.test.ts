import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { generateAccountKeyPair, isCountersignError, openContext, sealContext } from "@countersign/protocol";
import { e2eBindingOf } from "./e2e-binding.ts";

describe("e2eBindingOf", () => {
  it("leaves out an empty body and an absent binding message, as the app reads them from the display payload", () => {
    const minimal = e2eBindingOf({
      agentId: "agt_a",
      actionType: "deploy.x",
      title: "T",
      body: "",
      bindingMessage: null,
    });
    assert.deepEqual(minimal, { agent_id: "agt_a", action_type: "deploy.x", title: "T" });
    const full = e2eBindingOf({ agentId: "agt_a", actionType: "deploy.x", title: "T", body: "B", bindingMessage: "m" });
    assert.deepEqual(full, { agent_id: "agt_a", action_type: "deploy.x", title: "T", body: "B", binding_message: "m" });
  });

  it("opens on the app's side: sealed from the request as sent, opened from the display payload", async () => {
    const keys = generateAccountKeyPair();
    const sent = { agentId: "agt_a", actionType: "deploy.x", title: "T" };
    const sealed = await sealContext({
      publicKey: keys.publicKey,
      kid: "ak_1",
      context: { a: 1 },
      binding: e2eBindingOf(sent),
    });
    const shown = { agent_id: "agt_a", action_type: "deploy.x", title: "T", body: "", binding_message: null };
    const binding = e2eBindingOf({
      agentId: shown.agent_id,
      actionType: shown.action_type,
      title: shown.title,
      body: shown.body,
      bindingMessage: shown.binding_message,
    });
    assert.deepEqual(await openContext({ privateKey: keys.privateKey, sealed, binding }), { a: 1 });
    await assert.rejects(
      openContext({ privateKey: keys.privateKey, sealed, binding: { ...binding, title: "Other" } }),
      (error: unknown) => isCountersignError(error, "e2e_decrypt_failed"),
    );
  });
});
