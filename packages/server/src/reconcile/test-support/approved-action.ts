import assert from "node:assert/strict";
import { decodeJwt } from "jose";
import {
  type ApprovalTestKit,
  ASK,
  type TestAgent,
  type TestPerson,
} from "../../approvals/test-support/approval-test-kit.ts";

/** A request the kit's person approved with the software passkey, and its receipt. */
export interface ApprovedAction {
  readonly id: string;
  readonly actionType: string;
  readonly receipt: string;
  readonly displayPayloadHash: string;
  /** The receipt's `iat` and `exp`, in milliseconds. */
  readonly issuedAt: number;
  readonly expiresAt: number;
  /** What the agent was answered at creation (`created_at`, `expires_at`, …). */
  readonly created: Record<string, unknown>;
}

/** Asks for `actionType` as `agent` and has `person` approve it: the real ceremony, end to end. */
export async function approveAction(
  kit: ApprovalTestKit,
  person: TestPerson,
  agent: TestAgent,
  actionType: string,
  body: Record<string, unknown> = {},
): Promise<ApprovedAction> {
  const asked = await kit.ask(agent, { ...ASK, ...body, action_type: actionType });
  assert.equal(asked.status, 201, JSON.stringify(asked.body));
  const { res } = await kit.decide(person, asked.body.id);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  const receipt = res.body.receipt as string;
  assert.ok(receipt, "an approval comes with a receipt");
  const { iat, exp } = decodeJwt(receipt);
  return {
    id: asked.body.id,
    actionType,
    receipt,
    displayPayloadHash: asked.body.display_payload_hash,
    issuedAt: (iat as number) * 1000,
    expiresAt: (exp as number) * 1000,
    created: asked.body,
  };
}

/** Asks for `actionType` and has `person` reject it. */
export async function rejectAction(
  kit: ApprovalTestKit,
  person: TestPerson,
  agent: TestAgent,
  actionType: string,
): Promise<string> {
  const asked = await kit.ask(agent, { ...ASK, action_type: actionType });
  assert.equal(asked.status, 201, JSON.stringify(asked.body));
  const { res } = await kit.decide(person, asked.body.id, { decision: "reject" });
  assert.equal(res.body.status, "rejected", JSON.stringify(res.body));
  return asked.body.id;
}

/** Asks for `actionType` with the shortest lifetime and lets it expire on the kit's clock. */
export async function expireAction(kit: ApprovalTestKit, agent: TestAgent, actionType: string): Promise<string> {
  const asked = await kit.ask(agent, { ...ASK, action_type: actionType, ttl_seconds: 30 });
  assert.equal(asked.status, 201, JSON.stringify(asked.body));
  kit.clock.advance(31_000);
  const polled = await kit.agentCall(agent, "GET", `/v1/approvals/${asked.body.id}`);
  assert.equal(polled.body.status, "expired", JSON.stringify(polled.body));
  return asked.body.id;
}
