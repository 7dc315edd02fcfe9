import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type WebhookApproval, webhookBody, webhookEventType } from "./webhook-payload.ts";

const approved: WebhookApproval = {
  approvalId: "apr_AAAAAAAAAAAAAAAAAAAAAA",
  userId: "usr_BBBBBBBBBBBBBBBBBBBBBB",
  agentId: "agt_CCCCCCCCCCCCCCCCCCCCCC",
  status: "approved",
  reason: null,
  actionType: "deploy.production",
  displayPayloadHash: `sha256:${"ab".repeat(32)}`,
  decidedAt: new Date(Date.UTC(2026, 10, 21, 12, 0, 0, 250)),
  receipt: "eyJhbGciOiJFZERTQSJ9.e30.c2ln",
  callbackUrl: "https://hooks.example.com/h",
};

describe("webhookBody", () => {
  it("serializes the documented fields in order, with the receipt when approved", () => {
    assert.equal(
      webhookBody(approved, "whd_DDDDDDDDDDDDDDDDDDDDDD"),
      '{"type":"approval.approved","approval_id":"apr_AAAAAAAAAAAAAAAAAAAAAA","status":"approved","reason":null,' +
        `"action_type":"deploy.production","display_payload_hash":"sha256:${"ab".repeat(32)}",` +
        '"decided_at":"2026-11-21T12:00:00.250Z","receipt":"eyJhbGciOiJFZERTQSJ9.e30.c2ln",' +
        '"delivery_id":"whd_DDDDDDDDDDDDDDDDDDDDDD"}',
    );
  });

  it("leaves the receipt out of every other outcome and keeps the reason", () => {
    const body = JSON.parse(
      webhookBody({ ...approved, status: "rejected", reason: "not_requested", receipt: null }, "whd_x"),
    );
    assert.equal(body.type, "approval.rejected");
    assert.equal(body.reason, "not_requested");
    assert.equal("receipt" in body, false);
  });

  it("refuses states that are not terminal and receipts that do not match the state", () => {
    assert.throws(() => webhookBody({ ...approved, status: "pending" }, "whd_x"), TypeError);
    assert.throws(() => webhookBody({ ...approved, receipt: null }, "whd_x"), TypeError);
    assert.throws(() => webhookBody({ ...approved, status: "expired" }, "whd_x"), TypeError);
    assert.throws(() => webhookBody({ ...approved, decidedAt: new Date(Number.NaN) }, "whd_x"), TypeError);
  });
});

describe("webhookEventType", () => {
  it("names the four terminal states", () => {
    assert.deepEqual(["approved", "rejected", "expired", "canceled"].map(webhookEventType), [
      "approval.approved",
      "approval.rejected",
      "approval.expired",
      "approval.canceled",
    ]);
    assert.throws(() => webhookEventType("delivered"), TypeError);
  });
});
