import assert from "node:assert/strict";
import { before, it } from "node:test";
import { decisionChallenge, RECEIPT_TYPE, toBase64Url } from "@countersign/protocol";
import { createLocalJWKSet, jwtVerify } from "jose";
import { describeEachDatabase } from "../../test-support/test-database.ts";
import {
  type ApprovalTestKit,
  ASK,
  createApprovalTestKit,
  type TestAgent,
  type TestPerson,
} from "./test-support/approval-test-kit.ts";

// Issue 6 "Done when": an agent asks, a software authenticator approves with the right number,
// the agent receives the receipt and jose verifies it with the JWKS; three wrong numbers reject;
// a changed display hash is refused; a replayed decision fails.
describeEachDatabase("the approval ceremony", (ctx) => {
  let kit: ApprovalTestKit;
  let alice: TestPerson;

  before(async () => {
    kit = await createApprovalTestKit(ctx.db);
    alice = await kit.newPerson("alice@example.com");
  });

  async function askFresh(agent: TestAgent, actionType = "deploy.production") {
    const res = await kit.ask(agent, { ...ASK, action_type: actionType });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body as { id: string; number_match: string; display_payload_hash: string; interval: number };
  }

  it("approves with the right number and a passkey; the agent gets a receipt jose verifies with the JWKS", async () => {
    const agent = await kit.newAgent(alice);
    const asked = await askFresh(agent);
    assert.match(asked.number_match, /^[0-9]{6}$/);
    assert.match(asked.display_payload_hash, /^sha256:[0-9a-f]{64}$/);

    const { res } = await kit.decide(alice, asked.id);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.status, "approved");

    kit.clock.advance(10_000);
    const polled = await kit.agentCall(agent, "GET", `/v1/approvals/${asked.id}`);
    assert.equal(polled.status, 200, JSON.stringify(polled.body));
    assert.equal(polled.body.status, "approved");
    assert.equal(polled.body.number_match, null, "the number is not repeated once decided");
    const receipt = polled.body.receipt as string;

    const jwks = await kit.send({
      method: "GET",
      url: "/.well-known/jwks.json",
      headers: { host: kit.config.apiHost },
    });
    assert.equal(jwks.status, 200);
    assert.equal(jwks.body.keys[0].d, undefined, "no private part is published");
    const { payload, protectedHeader } = await jwtVerify(receipt, createLocalJWKSet(jwks.body), {
      issuer: kit.config.publicUrl,
      audience: agent.id,
      typ: RECEIPT_TYPE,
      algorithms: ["EdDSA"],
      currentDate: new Date(kit.clock.now()),
    });
    assert.equal(protectedHeader.alg, "EdDSA");
    assert.equal(payload.sub, alice.userId);
    assert.equal(payload.jti, asked.id);
    assert.equal(payload.act, "deploy.production");
    assert.equal(payload.dph, asked.display_payload_hash);
    assert.deepEqual(payload.amr, ["hwk", "user"]);
    assert.equal((payload.exp as number) - (payload.iat as number), kit.config.approvals.receiptTtlSeconds);

    // The evidence re-verifies: the challenge it names is what the passkey signed.
    const evidence = await kit.personCall(alice, "GET", `/v1/me/approvals/${asked.id}/evidence`);
    assert.equal(evidence.status, 200);
    const clientData = JSON.parse(Buffer.from(evidence.body.assertion.client_data_json, "base64url").toString());
    assert.equal(clientData.challenge, evidence.body.challenge);
    assert.equal(clientData.type, "webauthn.get");
    const agentEvidence = await kit.agentCall(agent, "GET", `/v1/approvals/${asked.id}/evidence`);
    assert.deepEqual(agentEvidence.body, evidence.body);
  });

  it("rejects the request after three wrong numbers, with number_mismatch", async () => {
    const agent = await kit.newAgent(alice);
    const asked = await askFresh(agent);
    const wrong = asked.number_match === "000000" ? "000001" : "000000";
    for (const remaining of [2, 1, 0]) {
      const { res } = await kit.decide(alice, asked.id, { number: wrong });
      assert.equal(res.status, 400);
      assert.equal(res.code, "number_mismatch");
      assert.equal(res.body.error.details.attempts_remaining, remaining);
    }
    const shown = await kit.personCall(alice, "GET", `/v1/me/approvals/${asked.id}`);
    assert.equal(shown.body.approval.status, "rejected");
    assert.equal(shown.body.approval.reason, "number_mismatch");
    assert.equal(shown.body.decision, null, "a decided request hands out no nonce");
    // Even the right number cannot approve it now.
    const late = await kit.personCall(alice, "POST", `/v1/me/approvals/${asked.id}/decision`, {});
    assert.equal(late.status, 400, "an empty body fails validation first");
  });

  it("refuses a changed display hash, and a hash signed for another display", async () => {
    const agent = await kit.newAgent(alice);
    const asked = await askFresh(agent);
    const other = `sha256:${"0".repeat(64)}`;
    const signedOther = await kit.decide(alice, asked.id, { displayPayloadHash: other });
    assert.equal(signedOther.res.code, "display_hash_mismatch");
    // The right hash in the body, but the passkey signed a challenge over another one.
    const swapped = await kit.decide(alice, asked.id, {
      displayPayloadHash: other,
      tamper: (body) => {
        body.display_payload_hash = asked.display_payload_hash;
      },
    });
    assert.equal(swapped.res.code, "passkey_verification_failed");
    const still = await kit.personCall(alice, "GET", `/v1/me/approvals/${asked.id}`);
    assert.equal(still.body.approval.status, "pending", "refusals change nothing");
  });

  it("refuses a replayed decision, a reused nonce and a decision turned into the other one", async () => {
    const agent = await kit.newAgent(alice);
    const asked = await askFresh(agent);

    // The passkey signed "reject"; sending it as "approve" fails the assertion.
    const flipped = await kit.decide(alice, asked.id, {
      decision: "reject",
      tamper: (body) => {
        body.decision = "approve";
        body.number = asked.number_match;
      },
    });
    assert.equal(flipped.res.code, "passkey_verification_failed");

    const { res, body } = await kit.decide(alice, asked.id);
    assert.equal(res.status, 200);
    const replay = await kit.personCall(alice, "POST", `/v1/me/approvals/${asked.id}/decision`, body);
    assert.equal(replay.status, 409);
    assert.equal(replay.code, "approval_not_pending");

    // A nonce is single use even on an open request.
    const second = await askFresh(agent, "db.migrate");
    const first = await kit.decide(alice, second.id, {
      number: second.number_match === "111111" ? "222222" : "111111",
    });
    assert.equal(first.res.code, "number_mismatch");
    const reused = await kit.personCall(alice, "POST", `/v1/me/approvals/${second.id}/decision`, {
      ...first.body,
      number: second.number_match,
    });
    assert.equal(reused.code, "decision_nonce_invalid");
  });

  it("judges a cloned passkey at step 6 only: a spent nonce is refused as such and flags nothing; then the clone is refused and flagged", async () => {
    const carol = await kit.newPerson();
    const agent = await kit.newAgent(carol);
    // Two copies of the key at the same counter; the original then moves the stored one past it.
    const late = carol.authenticator.clone();
    const later = carol.authenticator.clone();
    const first = await askFresh(agent, "deploy.first");
    assert.equal((await kit.decide(carol, first.id)).res.status, 200);

    // A wrong number spends the nonce; the clone then signs, genuinely, over that nonce.
    const asked = await askFresh(agent, "deploy.second");
    const wrong = asked.number_match === "111111" ? "222222" : "111111";
    const { res: mismatch, body } = await kit.decide(carol, asked.id, { number: wrong });
    assert.equal(mismatch.code, "number_mismatch");
    const challenge = toBase64Url(
      await decisionChallenge({
        requestId: asked.id,
        decision: "approve",
        displayPayloadHash: body.display_payload_hash as string,
        nonce: body.nonce as string,
      }),
    );
    const credential = late.authenticate({
      challenge,
      rpId: kit.config.webauthn.rpId,
      allowCredentials: [],
      userVerification: "required",
    });
    const spent = await kit.personCall(carol, "POST", `/v1/me/approvals/${asked.id}/decision`, {
      ...body,
      number: asked.number_match,
      credential,
    });
    assert.equal(spent.code, "decision_nonce_invalid");
    const flagged = async () => {
      const list = await kit.personCall(carol, "GET", "/v1/passkeys");
      assert.equal(list.status, 200, JSON.stringify(list.body));
      return list.body.passkeys[0].counter_regressed_at as string | null;
    };
    assert.equal(await flagged(), null, "a refusal before step 6 does not judge the passkey");

    const cloned = await kit.decide(carol, asked.id, { authenticator: later });
    assert.equal(cloned.res.code, "passkey_verification_failed");
    assert.ok(await flagged(), "the passkey is flagged");
    const still = await kit.personCall(carol, "GET", `/v1/me/approvals/${asked.id}`);
    assert.equal(still.body.approval.status, "pending", "nothing was decided");
  });

  it("lets exactly one of two concurrent decisions end a request; the other gets approval_not_pending", async () => {
    const agent = await kit.newAgent(alice);
    const asked = await askFresh(agent, "db.migrate");
    const [approved, rejected] = await Promise.all([
      kit.decide(alice, asked.id),
      kit.decide(alice, asked.id, { decision: "reject" }),
    ]);
    const statuses = [approved.res.status, rejected.res.status].sort();
    assert.deepEqual(statuses, [200, 409], JSON.stringify([approved.res.body, rejected.res.body]));
    const loser = approved.res.status === 409 ? approved : rejected;
    const winner = approved.res.status === 200 ? approved : rejected;
    assert.equal(loser.res.code, "approval_not_pending");
    const now = await kit.personCall(alice, "GET", `/v1/me/approvals/${asked.id}`);
    assert.equal(now.body.approval.status, winner.res.body.status);
  });

  it("refuses another person's passkey and keeps other people's requests out of sight", async () => {
    const agent = await kit.newAgent(alice);
    const asked = await askFresh(agent);
    const mallory = await kit.newPerson();
    const seen = await kit.personCall(mallory, "GET", `/v1/me/approvals/${asked.id}`);
    assert.equal(seen.code, "approval_not_found");
    const { res, body } = await kit.decide(alice, asked.id, { authenticator: mallory.authenticator });
    assert.equal(res.code, "passkey_verification_failed");
    // Mallory posting a decision (with alice's nonce, even) on alice's request: not found.
    const posted = await kit.personCall(mallory, "POST", `/v1/me/approvals/${asked.id}/decision`, body);
    assert.equal(posted.code, "approval_not_found");
  });

  it("'I didn't ask for this' rejects, suspends the agent, cancels its other requests and mails the person", async () => {
    const agent = await kit.newAgent(alice, { name: "Sneaky bot" });
    const asked = await askFresh(agent);
    const other = await askFresh(agent, "db.migrate");
    const { res } = await kit.decide(alice, asked.id, { decision: "reject", notRequested: true });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.status, "rejected");
    assert.equal(res.body.reason, "not_requested");

    const agents = await kit.personCall(alice, "GET", `/v1/agents/${agent.id}`);
    assert.equal(agents.body.agent.status, "suspended");
    const canceled = await kit.personCall(alice, "GET", `/v1/me/approvals/${other.id}`);
    assert.equal(canceled.body.approval.status, "canceled");
    assert.equal(canceled.body.approval.reason, "agent_suspended");
    const refused = await kit.ask(agent, { ...ASK, action_type: "deploy.staging" });
    assert.equal(refused.code, "agent_suspended");
    await waitFor(() => kit.mailer.sent.some((mail) => mail.subject.includes("Sneaky bot")));
  });

  it("refuses a decision once the agent rotated its credentials (the request was canceled)", async () => {
    const agent = await kit.newAgent(alice);
    const asked = await askFresh(agent);
    await kit.accounts.stepUp(alice.cookie, alice.authenticator);
    const rotated = await kit.personCall(alice, "POST", `/v1/agents/${agent.id}/rotate`, {});
    assert.equal(rotated.status, 200, JSON.stringify(rotated.body));
    const shown = await kit.personCall(alice, "GET", `/v1/me/approvals/${asked.id}`);
    assert.equal(shown.body.approval.status, "canceled");
    assert.equal(shown.body.approval.reason, "credentials_rotated");
  });
});

async function waitFor(condition: () => boolean, ms = 2_000): Promise<void> {
  const until = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > until) assert.fail("the condition did not become true in time");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
