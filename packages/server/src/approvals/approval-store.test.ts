import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { before, it } from "node:test";
import { toBase64Url } from "@countersign/protocol";
import { recordingTransaction } from "../../test-support/recording-database.ts";
import { describeEachDatabase } from "../../test-support/test-database.ts";
import { APPROVAL_COLUMNS, type ApprovalRow } from "./approval-row.ts";
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

  /** A request to insert straight into the store, as creation builds it. */
  function approval(
    userId: string,
    agentId: string,
    actionType: string,
    windowStart = new Date(kit.clock.now()),
  ): NewApproval {
    const now = new Date(kit.clock.now());
    return {
      id: `apr_${toBase64Url(randomBytes(16))}`,
      userId,
      agentId,
      agentCredentialsVersion: 1,
      authMode: "signed",
      actionType,
      sealed: `v1.test.${toBase64Url(randomBytes(8))}`,
      displayPayloadHash: `sha256:${"0".repeat(64)}`,
      e2eAccountKeyId: null,
      ttlSeconds: 300,
      callbackUrl: null,
      createdAt: now,
      expiresAt: new Date(now.getTime() + 300_000),
      windowStart,
    };
  }

  it("inserts the requests of one turn with one statement; a second for an open (user, agent, action) gets null", async () => {
    const [agent, other] = [await kit.newAgent(alice), await kit.newAgent(alice)];
    const open = await kit.ask(agent, { ...ASK, action_type: "deploy.open" });
    assert.equal(open.status, 201, JSON.stringify(open.body));
    const asked = [
      approval(alice.userId, other.id, "deploy.b"),
      approval(alice.userId, agent.id, "deploy.a"),
      approval(alice.userId, agent.id, "deploy.a"), // the same (user, agent, action) in the same turn: the first wins
      approval(alice.userId, agent.id, "deploy.open"), // one is already open
    ];
    const statements: string[] = [];
    const inserted = await ctx.db.transaction((raw) => {
      const tx = recordingTransaction(raw, (sql) => statements.push(sql));
      return Promise.all(asked.map((a) => insertApprovalInTurn(tx, a)));
    });
    assert.deepEqual(
      inserted.map((result) => result?.row.id ?? null),
      [asked[0]?.id, asked[1]?.id, null, null],
    );
    assert.equal(statements.length, 1, statements.join("\n"));
    // The rows handed back are the rows stored, `sealed` (not sent back) included.
    const { rows: stored } = await ctx.db.query<ApprovalRow>(
      `SELECT ${APPROVAL_COLUMNS} FROM approval_requests WHERE id = ANY($1::text[]) ORDER BY id`,
      [asked.map((a) => a.id)],
    );
    const handed = inserted.flatMap((result) => (result === null ? [] : [result.row]));
    assert.deepEqual(
      handed.sort((a, b) => (a.id < b.id ? -1 : 1)),
      stored,
    );
    assert.equal(handed[0]?.status, "pending");
  });

  it("counts each request it inserts in its person's and its agent's windows, each with the counts it would have read alone", async () => {
    const [bob, carol] = [await kit.newPerson(), await kit.newPerson()];
    const [one, two] = [await kit.newAgent(bob), await kit.newAgent(bob)];
    const [first, second] = one.id < two.id ? [one, two] : [two, one];
    const third = await kit.newAgent(carol);
    const windowStart = new Date(Date.UTC(2026, 0, 1, 12, 0));
    await ctx.db.query("INSERT INTO approval_throttle_windows (scope, window_start, count) VALUES ($1, $2, 4)", [
      `user:${bob.userId}`,
      windowStart,
    ]);
    const ask = (person: TestPerson, agentId: string, actionType: string) =>
      approval(person.userId, agentId, actionType, windowStart);
    // Asked out of order: the statement counts in (person, agent, action type) order.
    const asked = [
      ask(bob, second.id, "deploy.y"),
      ask(bob, first.id, "deploy.z"),
      ask(carol, third.id, "deploy.w"),
      ask(bob, first.id, "deploy.x"),
      ask(bob, first.id, "deploy.x"), // not inserted, so not counted
    ];
    const statements: string[] = [];
    const inserted = await ctx.db.transaction((raw) => {
      const tx = recordingTransaction(raw, (sql) => statements.push(sql));
      return Promise.all(asked.map((a) => insertApprovalInTurn(tx, a)));
    });
    assert.deepEqual(
      inserted.map((result) => result?.counts ?? null),
      [{ user: 7, agent: 1 }, { user: 6, agent: 2 }, { user: 1, agent: 1 }, { user: 5, agent: 1 }, null],
    );
    assert.equal(statements.length, 1, "one statement inserts and counts");
    const { rows } = await ctx.db.query<{ scope: string; count: number }>(
      "SELECT scope, count FROM approval_throttle_windows WHERE window_start = $1 ORDER BY scope",
      [windowStart],
    );
    assert.deepEqual(
      rows,
      [
        { scope: `agent:${first.id}`, count: 2 },
        { scope: `agent:${second.id}`, count: 1 },
        { scope: `agent:${third.id}`, count: 1 },
        { scope: `user:${bob.userId}`, count: 7 },
        { scope: `user:${carol.userId}`, count: 1 },
      ].sort((a, b) => (a.scope < b.scope ? -1 : 1)),
    );
  });
});
