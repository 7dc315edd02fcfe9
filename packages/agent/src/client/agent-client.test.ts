import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { CountersignError, type DisplayPayload, RECEIPT_TYPE } from "@countersign/protocol";
import { createRemoteJWKSet, jwtVerify } from "jose";
import { verifyReceipt } from "../receipts/verify-receipt.ts";
import { type AgentTestWorld, createAgentTestWorld } from "../test-support/agent-test-world.ts";
import { enrollAgent } from "./enroll-agent.ts";

const DEPLOY = {
  actionType: "deploy.production",
  title: "Deploy api v2.3.1",
  body: "Rolls out 3 services.",
  context: { commit: "a1b2c3", services: 3 },
};

describe("the agent client against the real server", () => {
  let world: AgentTestWorld;
  before(async () => {
    world = await createAgentTestWorld();
  });
  after(() => world.close());

  async function displayPayloadOf(id: string): Promise<DisplayPayload> {
    const shown = await world.kit.personCall(world.person, "GET", `/v1/me/approvals/${id}`);
    assert.equal(shown.status, 200);
    return shown.body.approval.display_payload as DisplayPayload;
  }

  it("asks, is approved while waiting, and gets a receipt that verifyReceipt and plain jose accept", async () => {
    const agent = await world.newAgent();
    const client = await world.clientFor(agent);
    const pending = await client.requestApproval(DEPLOY);
    assert.match(pending.numberMatch ?? "", /^[0-9]{6}$/);
    assert.match(pending.displayPayloadHash, /^sha256:[0-9a-f]{64}$/);
    assert.equal(pending.created, true);
    assert.equal(pending.approval.status, "pending");

    // In-flight suppression: the same action type again returns the open request and its number.
    const again = await client.requestApproval(DEPLOY);
    assert.equal(again.created, false);
    assert.equal(again.id, pending.id);
    assert.equal(again.numberMatch, pending.numberMatch);

    const waiting = pending.wait();
    await world.decide(pending.id, pending.numberMatch);
    const outcome = await waiting;
    assert.equal(outcome.status, "approved");
    assert.ok(outcome.status === "approved");
    assert.equal(outcome.id, pending.id);

    const jwksUrl = new URL("/.well-known/jwks.json", world.server);
    const currentDate = new Date(world.kit.clock.now());
    const displayPayload = await displayPayloadOf(pending.id);
    const verified = await verifyReceipt(outcome.receipt, {
      jwksUrl,
      issuer: world.kit.config.publicUrl,
      audience: agent.id,
      actionType: "deploy.production",
      displayPayload,
      currentDate,
    });
    assert.equal(verified.claims.jti, pending.id);
    assert.equal(verified.claims.sub, world.person.userId);
    assert.equal(verified.claims.dph, pending.displayPayloadHash);

    // Plain jose, no Countersign code: the receipt is a standard JWS.
    const { payload, protectedHeader } = await jwtVerify(outcome.receipt, createRemoteJWKSet(jwksUrl), {
      issuer: world.kit.config.publicUrl,
      audience: agent.id,
      typ: RECEIPT_TYPE,
      algorithms: ["EdDSA"],
      currentDate,
    });
    assert.equal(protectedHeader.alg, "EdDSA");
    assert.equal(payload.act, "deploy.production");

    const base = { jwksUrl, issuer: world.kit.config.publicUrl, currentDate, displayPayload };
    await assert.rejects(
      verifyReceipt(outcome.receipt, { ...base, actionType: "deploy.staging" }),
      (e: unknown) => e instanceof CountersignError && e.code === "action_not_allowed",
    );
    await assert.rejects(
      verifyReceipt(outcome.receipt, {
        ...base,
        actionType: "deploy.production",
        displayPayload: { ...displayPayload, title: "Deploy api v9" },
      }),
      (e: unknown) => e instanceof CountersignError && e.code === "display_hash_mismatch",
    );
    await assert.rejects(
      verifyReceipt(outcome.receipt, {
        ...base,
        actionType: "deploy.production",
        audience: "agt_AAAAAAAAAAAAAAAAAAAAAA",
      }),
      (e: unknown) => e instanceof CountersignError && e.code === "invalid_signature",
    );
    const [head, claims, signature] = outcome.receipt.split(".");
    const flipped = `${head}.${claims}.${signature?.startsWith("A") ? "B" : "A"}${signature?.slice(1)}`;
    await assert.rejects(
      verifyReceipt(flipped, { ...base, actionType: "deploy.production" }),
      (e: unknown) => e instanceof CountersignError && e.code === "invalid_signature",
    );
    await assert.rejects(
      verifyReceipt(outcome.receipt, {
        ...base,
        actionType: "deploy.production",
        currentDate: new Date(currentDate.getTime() + 86_400_000),
      }),
      (e: unknown) => e instanceof CountersignError && e.code === "signature_expired",
    );
  });

  it("reports a rejection as rejected", async () => {
    const client = await world.clientFor(await world.newAgent());
    const pending = await client.requestApproval(DEPLOY);
    const waiting = pending.wait();
    await world.decide(pending.id, null, "reject");
    const outcome = await waiting;
    assert.equal(outcome.status, "rejected");
    assert.equal(outcome.reason, null);
    assert.equal(outcome.approval.receipt, null);
  });

  it("reports an expiry as expired, never as a rejection", async () => {
    const client = await world.clientFor(await world.newAgent());
    const pending = await client.requestApproval({ ...DEPLOY, ttlSeconds: 30 });
    assert.equal(pending.expiresAt.getTime() - pending.approval.createdAt.getTime(), 30_000);
    world.kit.clock.advance(31_000);
    const outcome = await pending.wait();
    assert.equal(outcome.status, "expired");
    assert.equal(outcome.approval.receipt, null);
  });

  it("cancels: a waiting wait() resolves canceled, and cancelling again returns the same end", async () => {
    const client = await world.clientFor(await world.newAgent());
    const pending = await client.requestApproval(DEPLOY);
    const waiting = pending.wait();
    const canceled = await pending.cancel();
    assert.equal(canceled.status, "canceled");
    assert.equal(canceled.reason, "canceled_by_agent");
    const outcome = await waiting;
    assert.equal(outcome.status, "canceled");
    assert.equal(outcome.reason, "canceled_by_agent");
    assert.equal((await client.cancel(pending.id)).status, "canceled");
  });

  it("follows a request over SSE until it ends", async () => {
    const client = await world.clientFor(await world.newAgent());
    const pending = await client.requestApproval(DEPLOY);
    const seen: string[] = [];
    for await (const state of pending.events()) {
      seen.push(state.status);
      if (state.status === "pending") await world.decide(pending.id, pending.numberMatch);
      if (state.status === "approved") assert.ok(state.receipt);
    }
    assert.deepEqual(seen, ["pending", "approved"]);
  });

  it("stops waiting at once when the signal aborts, and the request stays open", async () => {
    const client = await world.clientFor(await world.newAgent());
    const pending = await client.requestApproval(DEPLOY);
    const controller = new AbortController();
    const started = performance.now();
    const waiting = pending.wait({ signal: controller.signal });
    setTimeout(() => controller.abort(new Error("operator gave up")), 150);
    await assert.rejects(waiting, /operator gave up/);
    assert.ok(performance.now() - started < 2_000, "the abort ended the long-poll");
    assert.equal((await client.get(pending.id)).status, "pending");
  });

  it("gives up with service_unavailable, not a decision, when the server stops answering past the expiry", async () => {
    const agent = await world.newAgent();
    const client = await world.clientFor(agent, { expiryGraceMs: 300, requestTimeoutMs: 1_000, retries: 0 });
    const pending = await client.requestApproval({ ...DEPLOY, ttlSeconds: 30 });
    world.kit.clock.advance(29_000);
    const state = await client.get(pending.id);
    assert.equal(state.expiresIn, 1);
    world.door.setMode("blackhole");
    const started = performance.now();
    try {
      await assert.rejects(
        client.wait(state),
        (e: unknown) => e instanceof CountersignError && e.code === "service_unavailable",
      );
    } finally {
      world.door.setMode("pass");
    }
    const took = performance.now() - started;
    assert.ok(took >= 1_000 && took < 5_000, `bounded by the expiry plus the grace (${took} ms)`);
  });

  it("retries a request whose answer was lost with the same Idempotency-Key, and the server runs it once", async () => {
    const agent = await world.newAgent();
    const client = await world.clientFor(agent);
    const isCreate = (r: { method: string; target: string }) => r.method === "POST" && r.target === "/v1/approvals";
    const before = world.door.seen.filter(isCreate).length;
    world.door.dropAnswerTo(isCreate);
    const pending = await client.requestApproval({ ...DEPLOY, actionType: "deploy.retry" });

    const sent = world.door.seen.filter(isCreate).slice(before);
    assert.equal(sent.length, 2, "sent, answer lost, sent again");
    const [first, second] = sent;
    assert.ok(first?.headers["idempotency-key"]);
    assert.equal(first.headers["idempotency-key"], second?.headers["idempotency-key"]);
    assert.equal(first.headers["content-digest"], second?.headers["content-digest"]);
    assert.notEqual(first.headers["signature-input"], second?.headers["signature-input"], "signed afresh");
    const created = world.kit.events.filter((e) => e.type === "approval.created" && e.agentId === agent.id);
    assert.deepEqual(
      created.map((e) => e.approvalId),
      [pending.id],
    );
    assert.equal(pending.created, true, "the stored 201 was replayed");
    assert.match(pending.numberMatch ?? "", /^[0-9]{6}$/);
  });

  it("throws CountersignErrors with the shared codes", async () => {
    const client = await world.clientFor(await world.newAgent());
    await assert.rejects(
      client.requestApproval({ ...DEPLOY, actionType: "payments.send" }),
      (e: unknown) => e instanceof CountersignError && e.code === "action_not_allowed" && e.status === 403,
    );
    const before = world.door.seen.length;
    await assert.rejects(
      client.requestApproval({ ...DEPLOY, title: "x".repeat(121) }),
      (e: unknown) => e instanceof CountersignError && e.code === "validation_failed" && /title/.test(e.message),
    );
    assert.equal(world.door.seen.length, before, "refused before sending");
    await assert.rejects(
      client.get("apr_AAAAAAAAAAAAAAAAAAAAAA"),
      (e: unknown) => e instanceof CountersignError && e.code === "approval_not_found",
    );
  });

  it("enrols a key made here with a one-time code, and signs with it", async () => {
    const code = await world.enrollmentCode();
    const enrolled = await enrollAgent({ server: world.server, code, now: () => world.kit.clock.now() });
    assert.match(enrolled.agentId, /^agt_/);
    assert.equal(enrolled.apiBaseUrl, world.server);
    assert.equal(enrolled.key.kid, enrolled.keyId);
    const { createAgentClient } = await import("./create-agent-client.ts");
    const client = await createAgentClient({
      privateKey: enrolled.key,
      server: enrolled.apiBaseUrl,
      now: () => world.kit.clock.now(),
    });
    const me = await client.whoami();
    assert.equal(me.agentId, enrolled.agentId);
    assert.equal(me.keyId, enrolled.keyId);
    assert.equal(me.verified, true);
    await assert.rejects(
      enrollAgent({ server: world.server, code, now: () => world.kit.clock.now() }),
      (e: unknown) => e instanceof CountersignError && e.code === "enrollment_code_invalid",
    );
  });
});
