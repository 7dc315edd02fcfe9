import assert from "node:assert/strict";
import { beforeEach, describe, it } from "node:test";
import {
  type DisplayPayload,
  displayPayloadHash,
  generateAccountKeyPair,
  isCountersignError,
  sealContext,
  toBase64Url,
} from "@countersign/protocol";
import type { Approval } from "../api/types.ts";
import { setKeyring, setUnlocked } from "./keyring.ts";
import { bindingOf, openApprovalContext } from "./open-approval-context.ts";

const KID = "ak_0123456789abcdefghijAB";
const shown: Omit<DisplayPayload, "context"> = {
  agent_id: "agt_0123456789abcdefghijAB",
  agent_name: "Deploy bot",
  agent_verified: true,
  action_type: "deploy.prod",
  title: "Deploy v2",
  body: "",
  binding_message: null,
  created_at: "2026-11-21T10:00:00.000Z",
  expires_at: "2026-11-21T10:05:00.000Z",
};
const context = { commit: "abc123", secret_marker: "only the app sees this" };

async function e2eApproval(publicKey: Uint8Array, kid = KID): Promise<Approval> {
  const sealed = await sealContext({ publicKey, kid, context, binding: bindingOf(shown) });
  return {
    id: "apr_0123456789abcdefghijAB",
    status: "pending",
    reason: null,
    agent_id: shown.agent_id,
    auth_mode: "signed",
    action_type: shown.action_type,
    display_payload: { ...shown, context: null } as unknown as DisplayPayload,
    display_payload_hash: null,
    e2e: true,
    context_e2e: sealed,
    number_attempts_remaining: 3,
    created_at: shown.created_at,
    expires_at: shown.expires_at,
    delivered_at: null,
    decided_at: null,
    receipt: null,
    has_evidence: false,
  };
}

const unlock = (privateKey: Uint8Array, publicKey: Uint8Array, kid = KID) =>
  setUnlocked(
    { deviceId: "dev_1", accountKeyId: kid, fingerprint: "X", publicKey: toBase64Url(publicKey) },
    privateKey.slice(),
  );

describe("opening an end-to-end request on the app", () => {
  beforeEach(() => setKeyring({ status: "off" }));

  it("opens the context with the unlocked key and hashes the payload the agent hashes", async () => {
    const pair = generateAccountKeyPair();
    const approval = await e2eApproval(pair.publicKey);
    unlock(pair.privateKey, pair.publicKey);
    const opened = await openApprovalContext(approval);
    assert.deepEqual(opened.context, { kind: "opened" });
    assert.deepEqual(opened.payload?.context, context);
    // The agent's side: the nine fields it was answered, plus its plaintext context.
    assert.equal(
      await displayPayloadHash(opened.payload as DisplayPayload),
      await displayPayloadHash({ ...shown, context }),
    );
  });

  it("says locked, keeping the served null context, when this device holds no key", async () => {
    const pair = generateAccountKeyPair();
    const approval = await e2eApproval(pair.publicKey);
    const opened = await openApprovalContext(approval);
    assert.deepEqual(opened.context, { kind: "locked" });
    assert.equal(opened.payload?.context, null, "no made-up context");
    // The hash a rejection without reading carries: the payload exactly as served, context null,
    // which the server can compute too.
    assert.equal(
      await displayPayloadHash(opened.payload as DisplayPayload),
      await displayPayloadHash(approval.display_payload as DisplayPayload),
    );
    assert.equal(
      await displayPayloadHash(opened.payload as DisplayPayload),
      await displayPayloadHash({ ...shown, context: null } as unknown as DisplayPayload),
    );
  });

  it("says unreadable when the request was sealed to another key set or another request", async () => {
    const pair = generateAccountKeyPair();
    unlock(pair.privateKey, pair.publicKey);
    const other = await openApprovalContext(await e2eApproval(pair.publicKey, "ak_zzzzzzzzzzzzzzzzzzzzzz"));
    assert.equal(other.context.kind, "unreadable");

    const moved = await e2eApproval(pair.publicKey);
    moved.display_payload = { ...(moved.display_payload as DisplayPayload), title: "Deploy v3" };
    const opened = await openApprovalContext(moved);
    assert.equal(opened.context.kind, "unreadable");
    assert.equal(opened.payload?.context, null);
    assert.equal(other.payload?.context, null);
    assert.ok(opened.context.kind === "unreadable" && isCountersignError(opened.context.error, "e2e_decrypt_failed"));
  });

  it("leaves a plaintext request as the server showed it", async () => {
    const approval = await e2eApproval(generateAccountKeyPair().publicKey);
    const plain = { ...approval, e2e: false, context_e2e: null, display_payload: { ...shown, context } };
    const opened = await openApprovalContext(plain);
    assert.deepEqual(opened.context, { kind: "plain" });
    assert.equal(opened.payload, plain.display_payload);
  });
});
