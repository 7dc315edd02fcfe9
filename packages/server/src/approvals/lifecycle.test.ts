import assert from "node:assert/strict";
import { before, it } from "node:test";
import { createManualClock } from "../../test-support/manual-clock.ts";
import { describeEachDatabase } from "../../test-support/test-database.ts";
import { createApprovalService } from "./approval-service.ts";
import {
  type ApprovalTestKit,
  ASK,
  createApprovalTestKit,
  type TestAgent,
  type TestPerson,
} from "./test-support/approval-test-kit.ts";
import { eventually } from "./test-support/eventually.ts";

// The lifecycle of DESIGN §4.4: pending → delivered → approved | rejected | expired | canceled,
// terminal states enforced by the database (migration 008's trigger), expiry on read and by
// the sweeper, the delivery acknowledgement, cancel by the agent, cancel on revoke.

describeEachDatabase("the approval lifecycle", (ctx) => {
  let kit: ApprovalTestKit;
  let alice: TestPerson;
  let agent: TestAgent;
  let types = 0;

  before(async () => {
    kit = await createApprovalTestKit(ctx.db);
    alice = await kit.newPerson();
    agent = await kit.newAgent(alice);
  });

  /** Asks for a new request under an action type no other test uses. */
  async function askNew(
    from = agent,
    extra: Record<string, unknown> = {},
  ): Promise<{ id: string; expires_at: string }> {
    types += 1;
    const res = await kit.ask(from, { ...ASK, action_type: `deploy.step${types}`, ...extra });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body;
  }

  async function approved(): Promise<string> {
    const { id } = await askNew();
    const { res } = await kit.decide(alice, id);
    assert.equal(res.body.status, "approved", JSON.stringify(res.body));
    return id;
  }

  async function statusOf(id: string): Promise<{ status: string; reason: string | null }> {
    const { rows } = await ctx.db.query<{ status: string; reason: string | null }>(
      "SELECT status, reason FROM approval_requests WHERE id = $1",
      [id],
    );
    assert.ok(rows[0], `no row ${id}`);
    return rows[0];
  }

  async function auditTypes(id: string): Promise<string[]> {
    const { rows } = await ctx.db.query<{ event_type: string }>(
      "SELECT event_type FROM audit_log WHERE subject_type = 'approval' AND subject_id = $1 ORDER BY seq",
      [id],
    );
    return rows.map((row) => row.event_type);
  }

  const update = (set: string, id: string) => ctx.db.query(`UPDATE approval_requests SET ${set} WHERE id = $1`, [id]);

  it("refuses, in the database, any change to a decided request except last_polled_at", async () => {
    const id = await approved();
    const changes = [
      "status = 'pending', decided_at = NULL, receipt = NULL",
      "status = 'rejected', receipt = NULL",
      "reason = 'not_requested'",
      "receipt = 'eyJ.eyJ.c2ln'",
      "evidence = '{}'::jsonb",
      "decided_at = decided_at + interval '1 second'",
      "number_attempts = 2",
      "delivered_at = now()",
      "callback_url = 'https://hooks.example.com/x'",
      `display_payload_hash = 'sha256:${"0".repeat(64)}'`,
      "sealed = 'v1.tampered'",
      "expires_at = expires_at + interval '1 hour'",
      "ttl_seconds = 1800",
      "agent_credentials_version = agent_credentials_version + 1",
    ];
    for (const set of changes) {
      await assert.rejects(update(set, id), /terminal states never change/, set);
    }
    assert.deepEqual(await statusOf(id), { status: "approved", reason: null });

    const polled = await update("last_polled_at = now()", id);
    assert.equal(polled.rowCount, 1, "the poll bookkeeping may still change");
  });

  it("refuses transitions the lifecycle does not have, and allows the ones it has", async () => {
    const pending = (await askNew()).id;
    assert.equal((await update("status = 'pending'", pending)).rowCount, 1, "pending → pending changes nothing");
    await assert.rejects(update("action_type = 'deploy.other'", pending), /what was asked never changes/);
    await assert.rejects(update("sealed = 'v1.swapped'", pending), /what was asked never changes/);

    const delivered = (await askNew()).id;
    assert.equal((await kit.personCall(alice, "POST", `/v1/me/approvals/${delivered}/delivered`)).status, 200);
    await assert.rejects(update("status = 'pending'", delivered), /delivered → pending is not a transition/);

    const expired = (await askNew()).id;
    await update("status = 'expired', reason = 'expired', decided_at = created_at", expired);
    await assert.rejects(
      update("status = 'approved', reason = NULL, receipt = 'eyJ.eyJ.c2ln', evidence = '{}'::jsonb", expired),
      /terminal states never change/,
    );

    const approvedId = await approved();
    await assert.rejects(
      update("status = 'pending', decided_at = NULL, receipt = NULL", approvedId),
      /terminal states never change/,
    );
  });

  it("expires a request on read once its time is up, for the agent and for the person, and audits it", async () => {
    const forAgent = await askNew(agent, { ttl_seconds: 30 });
    const forPerson = await askNew(agent, { ttl_seconds: 30 });
    kit.clock.advance(30_000);

    const polled = await kit.agentCall(agent, "GET", `/v1/approvals/${forAgent.id}`);
    assert.equal(polled.status, 200);
    assert.equal(polled.body.status, "expired");
    assert.equal(polled.body.reason, "expired");
    assert.equal(polled.body.expires_in, 0);
    assert.equal(polled.body.number_match, null);
    assert.equal(polled.body.decided_at, forAgent.expires_at, "it ended when its time was up");

    const shown = await kit.personCall(alice, "GET", `/v1/me/approvals/${forPerson.id}`);
    assert.equal(shown.body.approval.status, "expired");
    assert.equal(shown.body.decision, null, "no decision nonce for an expired request");

    for (const id of [forAgent.id, forPerson.id]) {
      assert.deepEqual(await auditTypes(id), ["approval.created", "approval.expired"]);
      assert.deepEqual(await statusOf(id), { status: "expired", reason: "expired" });
    }
  });

  it("does not return an expired request to in-flight suppression: a new ask creates a new one", async () => {
    const body = { ...ASK, action_type: "deploy.suppressed", ttl_seconds: 30 };
    const first = await kit.ask(agent, body);
    assert.equal(first.status, 201);
    kit.clock.advance(30_000);
    const second = await kit.ask(agent, body);
    assert.equal(second.status, 201, JSON.stringify(second.body));
    assert.notEqual(second.body.id, first.body.id);
    assert.equal(second.body.status, "pending");
    assert.deepEqual(await statusOf(first.body.id), { status: "expired", reason: "expired" });
  });

  it("acknowledges delivery once (pending → delivered), only for the owner, and never reopens a decided request", async () => {
    const { id } = await askNew();
    const acked = await kit.personCall(alice, "POST", `/v1/me/approvals/${id}/delivered`);
    assert.equal(acked.status, 200);
    assert.equal(acked.body.status, "delivered");
    assert.ok(acked.body.delivered_at);

    kit.clock.advance(1_000);
    const again = await kit.personCall(alice, "POST", `/v1/me/approvals/${id}/delivered`);
    assert.equal(again.status, 200);
    assert.equal(again.body.status, "delivered");
    assert.equal(again.body.delivered_at, acked.body.delivered_at, "the first acknowledgement stands");
    assert.deepEqual(await auditTypes(id), ["approval.created", "approval.delivered"]);

    const mallory = await kit.newPerson();
    const foreign = await kit.personCall(mallory, "POST", `/v1/me/approvals/${id}/delivered`);
    assert.equal(foreign.status, 404);
    assert.equal(foreign.code, "approval_not_found");

    // Delivered requests are decided like pending ones, and stay decided.
    const { res } = await kit.decide(alice, id);
    assert.equal(res.body.status, "approved");
    const late = await kit.personCall(alice, "POST", `/v1/me/approvals/${id}/delivered`);
    assert.equal(late.status, 200);
    assert.equal(late.body.status, "approved");
    assert.deepEqual(await statusOf(id), { status: "approved", reason: null });
  });

  it("lets the agent cancel its own open request once; another agent's request is not found", async () => {
    const { id } = await askNew();
    const other = await kit.newAgent(alice);
    const foreign = await kit.agentCall(other, "DELETE", `/v1/approvals/${id}`);
    assert.equal(foreign.status, 404);
    assert.equal(foreign.code, "approval_not_found");
    assert.deepEqual(await statusOf(id), { status: "pending", reason: null });

    const canceled = await kit.agentCall(agent, "DELETE", `/v1/approvals/${id}`);
    assert.equal(canceled.status, 200);
    assert.equal(canceled.body.status, "canceled");
    assert.equal(canceled.body.reason, "canceled_by_agent");

    const again = await kit.agentCall(agent, "DELETE", `/v1/approvals/${id}`);
    assert.equal(again.status, 409);
    assert.equal(again.code, "approval_not_pending");
    assert.deepEqual(await auditTypes(id), ["approval.created", "approval.canceled"]);
  });

  it("cancels the agent's open requests with agent_revoked when the person revokes it, atomically", async () => {
    const doomed = await kit.newAgent(alice);
    const open1 = await askNew(doomed);
    const open2 = await askNew(doomed);
    const decided = await askNew(doomed);
    await kit.decide(alice, decided.id, { decision: "reject" });

    // First, make the cancellation fail: the revocation must fail with it.
    await ctx.db.exec(`
      CREATE FUNCTION test_refuse_revoke_cancel() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.reason = 'agent_revoked' THEN RAISE EXCEPTION 'test: cancellation refused'; END IF;
        RETURN NEW;
      END;
      $$;
      CREATE TRIGGER test_refuse_revoke_cancel BEFORE UPDATE ON approval_requests
        FOR EACH ROW EXECUTE FUNCTION test_refuse_revoke_cancel();
    `);
    try {
      const failed = await kit.personCall(alice, "POST", `/v1/agents/${doomed.id}/revoke`, {});
      assert.equal(failed.status, 500);
      const shown = await kit.personCall(alice, "GET", `/v1/agents/${doomed.id}`);
      assert.equal(shown.body.agent.status, "active", "the revocation rolled back with the cancellation");
    } finally {
      await ctx.db.exec(
        "DROP TRIGGER test_refuse_revoke_cancel ON approval_requests; DROP FUNCTION test_refuse_revoke_cancel();",
      );
    }

    const revoked = await kit.personCall(alice, "POST", `/v1/agents/${doomed.id}/revoke`, {});
    assert.equal(revoked.status, 200, JSON.stringify(revoked.body));
    assert.equal(revoked.body.agent.status, "revoked");
    for (const { id } of [open1, open2]) {
      assert.deepEqual(await statusOf(id), { status: "canceled", reason: "agent_revoked" });
      const shown = await kit.personCall(alice, "GET", `/v1/me/approvals/${id}`);
      assert.equal(shown.body.approval.status, "canceled");
    }
    assert.deepEqual(await statusOf(decided.id), { status: "rejected", reason: null });
    const refused = await kit.ask(doomed, { ...ASK, action_type: "deploy.after-revoke" });
    assert.equal(refused.status, 403);
    assert.equal(refused.code, "agent_revoked");
  });
});

describeEachDatabase("the expiry sweeper", (ctx) => {
  it("expires the due requests, reports how many, and leaves the others open", async () => {
    // A database of its own, so every open request is one of the three below.
    const kit = await createApprovalTestKit(ctx.db);
    const person = await kit.newPerson();
    const agent = await kit.newAgent(person);
    const ask = async (actionType: string, ttlSeconds: number) => {
      const res = await kit.ask(agent, { ...ASK, action_type: actionType, ttl_seconds: ttlSeconds });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      return res.body.id as string;
    };
    const short = await ask("deploy.short", 30);
    const medium = await ask("deploy.medium", 60);
    const long = await ask("deploy.long", 1800);

    // The app's own sweeper runs every second on the kit's clock, which stays put; a service
    // over the same dependencies with a clock of its own sweeps without racing it.
    const later = createManualClock(kit.clock.now() + 60_000);
    const sweeper = createApprovalService({ ...kit.services.approvals.deps, clock: later });
    assert.equal(await sweeper.expireDue(), 2);
    assert.equal(await sweeper.expireDue(), 0, "nothing is left to expire");

    const { rows } = await ctx.db.query<{ id: string; status: string; reason: string | null; ended: boolean }>(
      "SELECT id, status, reason, decided_at = expires_at AS ended FROM approval_requests",
    );
    const byId = new Map(rows.map((row) => [row.id, row]));
    assert.deepEqual(byId.get(short), { id: short, status: "expired", reason: "expired", ended: true });
    assert.deepEqual(byId.get(medium), { id: medium, status: "expired", reason: "expired", ended: true });
    assert.deepEqual(byId.get(long), { id: long, status: "pending", reason: null, ended: null });
    const audited = await ctx.db.query<{ subject_id: string }>(
      "SELECT subject_id FROM audit_log WHERE event_type = 'approval.expired' ORDER BY subject_id",
    );
    assert.deepEqual(audited.rows.map((row) => row.subject_id).sort(), [short, medium].sort());
    await eventually(
      () => kit.events.some((e) => e.approvalId === short && e.status === "expired"),
      "the expiry's event on the bus",
    );
  });
});
