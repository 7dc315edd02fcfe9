import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type ContextKind, decisionBody } from "./decision-body.ts";

const base = {
  digits: "123456",
  displayPayloadHash: "sha256:00",
  nonce: "n",
  credential: { id: "c" },
  notRequested: false,
};

describe("the decision the app sends", () => {
  it("says context_unread on a rejection of an end-to-end request this device could not open", () => {
    for (const context of ["locked", "unreadable"] as const) {
      assert.deepEqual(decisionBody({ ...base, decision: "reject", context }), {
        decision: "reject",
        display_payload_hash: "sha256:00",
        nonce: "n",
        credential: { id: "c" },
        context_unread: true,
      });
    }
    const reported = decisionBody({ ...base, decision: "reject", context: "locked", notRequested: true });
    assert.equal(reported.context_unread, true);
    assert.equal(reported.not_requested, true);
  });

  it("never says it on an approval, a plaintext request or an opened one", () => {
    const cases: ["approve" | "reject", ContextKind][] = [
      ["approve", "plain"],
      ["approve", "opened"],
      ["approve", "locked"],
      ["reject", "plain"],
      ["reject", "opened"],
    ];
    for (const [decision, context] of cases) {
      assert.equal("context_unread" in decisionBody({ ...base, decision, context }), false, `${decision} ${context}`);
    }
    assert.deepEqual(decisionBody({ ...base, decision: "approve", context: "opened" }), {
      decision: "approve",
      number: "123456",
      display_payload_hash: "sha256:00",
      nonce: "n",
      credential: { id: "c" },
    });
  });
});
