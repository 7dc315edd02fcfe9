import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { test } from "node:test";
import { decisionChallenge } from "./decision-challenge.ts";

const input = {
  requestId: "apr_AAAAAAAAAAAAAAAAAAAAAA",
  decision: "approve" as const,
  displayPayloadHash: `sha256:${"ab".repeat(32)}`,
  nonce: "n0nce-value",
};

test("the decision challenge is SHA-256 over the JCS form of the five members (DESIGN §4.6)", async () => {
  // Written out by hand in RFC 8785 order (members sorted by code unit), independently of canonicalize().
  const json = `{"decision":"approve","display_payload_hash":"sha256:${"ab".repeat(32)}","nonce":"n0nce-value","request_id":"apr_AAAAAAAAAAAAAAAAAAAAAA","v":1}`;
  const expected = new Uint8Array(createHash("sha256").update(json).digest());
  assert.deepEqual(await decisionChallenge(input), expected);
});

test("every member changes the challenge", async () => {
  const base = await decisionChallenge(input);
  for (const changed of [
    { ...input, requestId: "apr_BAAAAAAAAAAAAAAAAAAAAA" },
    { ...input, decision: "reject" as const },
    { ...input, displayPayloadHash: `sha256:${"ac".repeat(32)}` },
    { ...input, nonce: "n0nce-valuf" },
  ]) {
    assert.notDeepEqual(await decisionChallenge(changed), base);
  }
});
