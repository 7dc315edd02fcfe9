import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { before, it } from "node:test";
import { toBase64Url } from "@countersign/protocol";
import { recordingTransaction } from "../../test-support/recording-database.ts";
import { describeEachDatabase } from "../../test-support/test-database.ts";
import { endApproval, endApprovalInTurn, insertApprovalInTurn, type NewApproval } from "./approval-store.ts";
import { type ApprovalTestKit, ASK, createApprovalTestKit, type TestPerson } from "./test-support/approval-test-kit.ts";

describeEachDatabase("the approval store", (ctx) => {
  let kit: ApprovalTestKit;
  let alice: TestPerson;

  before(async () => {
    kit = await createApprovalTestKit(ctx.db);
    alice = await kit.newPerson();
  });

  async function newRequest(): Promise<{ id: string; expiresAt: Date }> {
    const res = await kit.ask(await kit.newAgent(alice));
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return { id: res.body.id as string, expiresAt: new Date(res.body.expires_at as string) };
  }

  it("ends the requests of one turn with one statement, each with the outcome it would have had alone", async () => {
    const [first, second, canceled, late] = [
      await newRequest(),
      await newRequest(),
      await newRequest(),
      await newRequest(),
    ];
    const decidedAt = new Date(kit.clock.now());
    await ctx.db.transaction((tx) => endApproval(tx, canceled.id, { status: "canceled", reason: null, decidedAt }));

    const statements: string[] = [];
    const outcomes = await ctx.db.transaction((raw) => {
      const tx = recordingTransaction(raw, (sql) => statements.push(sql));
      const reject = { status: "rejected" as const, reason: null, decidedAt, unexpiredAt: decidedAt };
      return Promise.all([
        endApprovalInTurn(tx, first.id, reject),
        endApprovalInTurn(tx, first.id, { ...reject, status: "canceled" }), // the same request again: already ended
        endApprovalInTurn(tx, second.id, { ...reject, reason: "not_requested" }),
        endApprovalInTurn(tx, canceled.id, reject), // ended before the turn
        endApprovalInTurn(tx, late.id, { ...reject, unexpiredAt: new Date(late.expiresAt.getTime() + 1) }), // too late
      ]);
    });
    assert.deepEqual(
      outcomes.map((row) => (row === null ? null : [row.id, row.status, row.reason])),
      [[first.id, "rejected", null], null, [second.id, "rejected", "not_requested"], null, null],
    );
    // One UPDATE for the turn; the repeated request follows on its own.
    assert.equal(statements.length, 2, statements.join("\n"));

    const { rows } = await ctx.db.query<{ id: string; status: string }>(
      "SELECT id, status FROM approval_requests WHERE id = ANY($1::text[])",
      [[first.id, second.id, canceled.id, late.id]],
    );
    assert.deepEqual(Object.fromEntries(rows.map((row) => [row.id, row.status])), {
      [first.id]: "rejected",
      [second.id]: "rejected",
      [canceled.id]: "canceled",
      [late.id]: "pending",
    });
  });

  it("inserts the requests of one turn with one statement; a second for an open (user, agent, action) gets null", async () => {
    const [agent, other] = [await kit.newAgent(alice), await kit.newAgent(alice)];
    const open = await kit.ask(agent, { ...ASK, action_type: "deploy.open" });
    assert.equal(open.status, 201, JSON.stringify(open.body));
    const now = new Date(kit.clock.now());
    const approval = (agentId: string, actionType: string): NewApproval => ({
      id: `apr_${toBase64Url(randomBytes(16))}`,
      userId: alice.userId,
      agentId,
      agentCredentialsVersion: 1,
      authMode: "signed",
      actionType,
      sealed: "v1.test",
      displayPayloadHash: `sha256:${"0".repeat(64)}`,
      e2eAccountKeyId: null,
      ttlSeconds: 300,
      callbackUrl: null,
      createdAt: now,
      expiresAt: new Date(now.getTime() + 300_000),
    });
    const asked = [
      approval(other.id, "deploy.b"),
      approval(agent.id, "deploy.a"),
      approval(agent.id, "deploy.a"), // the same (user, agent, action) in the same turn: the first wins
      approval(agent.id, "deploy.open"), // one is already open
    ];
    const statements: string[] = [];
    const rows = await ctx.db.transaction((raw) => {
      const tx = recordingTransaction(raw, (sql) => statements.push(sql));
      return Promise.all(asked.map((a) => insertApprovalInTurn(tx, a)));
    });
    assert.deepEqual(
      rows.map((row) => row?.id ?? null),
      [asked[0]?.id, asked[1]?.id, null, null],
    );
    assert.equal(rows[1]?.status, "pending");
    assert.equal(statements.length, 1, statements.join("\n"));
    const { rows: stored } = await ctx.db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM approval_requests WHERE id = ANY($1::text[])",
      [asked.map((a) => a.id)],
    );
    assert.equal(stored[0]?.n, 2);
  });
});
