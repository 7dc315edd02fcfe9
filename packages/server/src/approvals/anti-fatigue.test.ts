import assert from "node:assert/strict";
import { before, it } from "node:test";
import { describeEachDatabase, type TestDatabaseContext } from "../../test-support/test-database.ts";
import { createIdempotencyResponseCipher } from "../agent-auth/idempotency-response-cipher.ts";
import {
  type ApprovalTestKit,
  ASK,
  createApprovalTestKit,
  type Sent,
  type TestAgent,
  type TestPerson,
} from "./test-support/approval-test-kit.ts";
import { eventually } from "./test-support/eventually.ts";

// T-1, MFA bombing and approval fatigue (DESIGN §2, §4.4): in-flight suppression, idempotency,
// the cool-down after a rejection, the per-agent and per-user throttles, and the allowlist.

const MINUTE = 60_000;

async function countRows(ctx: TestDatabaseContext, agentId: string, actionType?: string): Promise<number> {
  const { rows } = await ctx.db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM approval_requests WHERE agent_id = $1 AND ($2::text IS NULL OR action_type = $2)`,
    [agentId, actionType ?? null],
  );
  return rows[0]?.n ?? -1;
}

function retryAfter(res: Sent): number {
  const value = res.headers["retry-after"];
  assert.equal(typeof value, "string", "a 429 carries Retry-After");
  return Number(value);
}

function created(res: Sent): { id: string; number_match: string } {
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body;
}

describeEachDatabase("in-flight suppression and idempotency (T-1)", (ctx) => {
  let kit: ApprovalTestKit;
  let alice: TestPerson;

  before(async () => {
    // Every one of the 100 requests below must reach the suppression logic, not a throttle.
    kit = await createApprovalTestKit(ctx.db, {
      env: {
        COUNTERSIGN_APPROVAL_THROTTLE_AGENT_PER_MINUTE: "1000",
        COUNTERSIGN_APPROVAL_THROTTLE_USER_PER_MINUTE: "1000",
      },
    });
    alice = await kit.newPerson();
  });

  it("answers 100 concurrent identical requests with one request, one number and one created event", async () => {
    const agent = await kit.newAgent(alice);
    const answers = await Promise.all(Array.from({ length: 100 }, () => kit.ask(agent)));

    for (const res of answers) assert.ok(res.status === 200 || res.status === 201, JSON.stringify(res.body));
    assert.equal(answers.filter((res) => res.status === 201).length, 1, "exactly one answer says 'created'");
    const ids = new Set(answers.map((res) => res.body.id));
    const numbers = new Set(answers.map((res) => res.body.number_match));
    assert.equal(ids.size, 1, "every answer names the same request");
    assert.equal(numbers.size, 1, "every answer shows the same number");
    const [id] = ids;
    assert.match(String([...numbers][0]), /^[0-9]{6}$/);
    assert.equal(await countRows(ctx, agent.id), 1);

    // Events for one user arrive in order: once a later request's creation is heard, every
    // event the 100 requests produced has been delivered too.
    const sentinel = created(await kit.ask(agent, { ...ASK, action_type: "db.migrate" }));
    await eventually(
      () => kit.events.some((e) => e.approvalId === sentinel.id && e.type === "approval.created"),
      "the sentinel's approval.created event",
    );
    const createdEvents = kit.events.filter((e) => e.approvalId === id && e.type === "approval.created");
    assert.equal(createdEvents.length, 1, "one approval.created, so one push");
    const audited = await ctx.db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM audit_log WHERE subject_id = $1 AND event_type = 'approval.created'",
      [id],
    );
    assert.equal(audited.rows[0]?.n, 1);
  });

  it("returns the open request as it is to a later identical ask, and a new one for another agent", async () => {
    const agent = await kit.newAgent(alice);
    const first = created(await kit.ask(agent));
    const again = await kit.ask(agent, { ...ASK, title: "A different title, same action type" });
    assert.equal(again.status, 200);
    assert.equal(again.body.id, first.id);
    assert.equal(again.body.number_match, first.number_match);
    const other = await kit.newAgent(alice);
    const separate = created(await kit.ask(other));
    assert.notEqual(separate.id, first.id);
  });

  it("answers each of a burst of different requests from its own state, though they are read together", async () => {
    const agent = await kit.newAgent(alice);
    const other = await kit.newAgent(alice);
    const open = created(await kit.ask(agent));
    // Arriving together, these are looked up by one statement (createBlockerReader).
    const [same, otherAction, otherAgent] = await Promise.all([
      kit.ask(agent),
      kit.ask(agent, { ...ASK, action_type: "deploy.staging" }),
      kit.ask(other),
    ]);
    assert.equal(same?.status, 200);
    assert.equal(same?.body.id, open.id, "the open request is returned for its own triple");
    for (const res of [otherAction, otherAgent]) {
      assert.equal(res?.status, 201, "another action type or agent gets a new request");
      assert.notEqual(res?.body.id, open.id);
    }
  });

  it("replays the original answer for the same Idempotency-Key and body, and refuses another body with 422", async () => {
    const agent = await kit.newAgent(alice);
    const key = crypto.randomUUID();
    const body = { ...ASK, action_type: "deploy.idempotent" };
    const first = await kit.ask(agent, body, key);
    assert.equal(first.status, 201);
    assert.equal(first.headers["idempotency-replayed"], undefined);

    const replay = await kit.ask(agent, body, key);
    assert.equal(replay.status, 201, "the stored status, not the 200 of suppression");
    assert.equal(replay.headers["idempotency-replayed"], "true");
    assert.deepEqual(replay.body, first.body);

    const reused = await kit.ask(agent, { ...body, title: "Something else" }, key);
    assert.equal(reused.status, 422);
    assert.equal(reused.code, "idempotency_key_reused");
    assert.equal(await countRows(ctx, agent.id), 1);
  });

  it("stores a new request's answer for its Idempotency-Key in the transaction that creates it", async () => {
    const agent = await kit.newAgent(alice);
    const key = crypto.randomUUID();
    const first = created(await kit.ask(agent, { ...ASK, action_type: "deploy.atomic" }, key));
    // Written by the same transaction: a crash can no longer fall between the request and its
    // answer, leaving the key held and the request made (a retry after the lease would run again).
    const { rows } = await ctx.db.query<{ same: boolean; state: string; status: number; body: string }>(
      `SELECT k.xmin::text = r.xmin::text AS same, k.state, k.response_status AS status, k.response_body AS body
         FROM agent_idempotency_keys k, approval_requests r
        WHERE k.agent_id = $1 AND k.idempotency_key = $2 AND r.id = $3`,
      [agent.id, key, first.id],
    );
    const [stored] = rows;
    assert.ok(stored !== undefined);
    assert.deepEqual([stored.same, stored.state, stored.status], [true, "completed", 201]);
    const cipher = createIdempotencyResponseCipher(kit.config.secrets.masterKey);
    assert.deepEqual(JSON.parse(cipher.open({ agentId: agent.id, key }, stored.body) ?? "null"), first);
  });

  it("creates nothing when a write that joins the creating transaction fails", async () => {
    const agent = await kit.newAgent(alice);
    const resolved = await kit.services.agents.resolveKey(agent.keyId);
    assert.ok(resolved?.agent != null);
    const input = { action_type: "deploy.joined", title: "Deploy", callbackUrl: null };
    const actor = { ip: "127.0.0.1", userAgent: null, requestId: "test" };
    let seen: string | undefined;
    await assert.rejects(
      kit.services.approvals.create(resolved.agent, input, actor, {
        alongside: async (_tx, made) => {
          seen = made.row.id;
          throw new Error("the joined write failed");
        },
      }),
      /the joined write failed/,
    );
    assert.ok(seen !== undefined, "the hook ran with the new request");
    assert.equal(await countRows(ctx, agent.id, "deploy.joined"), 0);
    const { rows } = await ctx.db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM audit_log WHERE subject_type = 'approval' AND subject_id = $1",
      [seen],
    );
    assert.equal(rows[0]?.n, 0, "no audit event either");
    // The slot for an open request of that action type is free: the next creation is new.
    const again = await kit.services.approvals.create(resolved.agent, input, actor);
    assert.equal(again.created, true);
  });
});

describeEachDatabase("the cool-down after a rejection (T-1)", (ctx) => {
  let kit: ApprovalTestKit;
  let alice: TestPerson;

  before(async () => {
    kit = await createApprovalTestKit(ctx.db);
    alice = await kit.newPerson();
  });

  async function askAndReject(agent: TestAgent, actionType: string): Promise<string> {
    const asked = created(await kit.ask(agent, { ...ASK, action_type: actionType }));
    const { res } = await kit.decide(alice, asked.id, { decision: "reject" });
    assert.equal(res.body.status, "rejected", JSON.stringify(res.body));
    return asked.id;
  }

  it("answers 429 cooldown_active with the rest of 600 s, for that action type only, and lifts it after", async () => {
    assert.equal(kit.config.approvals.cooldownSeconds, 600);
    const agent = await kit.newAgent(alice);
    await askAndReject(agent, "deploy.production");

    kit.clock.advance(100_000);
    const blocked = await kit.ask(agent, { ...ASK, action_type: "deploy.production" });
    assert.equal(blocked.status, 429);
    assert.equal(blocked.code, "cooldown_active");
    assert.equal(retryAfter(blocked), 500);
    assert.equal(await countRows(ctx, agent.id, "deploy.production"), 1, "the refusal wrote nothing");

    created(await kit.ask(agent, { ...ASK, action_type: "deploy.staging" }));

    kit.clock.advance(499_000);
    const stillBlocked = await kit.ask(agent, { ...ASK, action_type: "deploy.production" });
    assert.equal(stillBlocked.code, "cooldown_active");
    assert.equal(retryAfter(stillBlocked), 1);

    kit.clock.advance(1_000);
    created(await kit.ask(agent, { ...ASK, action_type: "deploy.production" }));
  });

  it("does not block another agent of the same person, nor another person", async () => {
    const agent = await kit.newAgent(alice);
    await askAndReject(agent, "db.migrate");
    const sibling = await kit.newAgent(alice);
    created(await kit.ask(sibling, { ...ASK, action_type: "db.migrate" }));
    const bob = await kit.newPerson();
    created(await kit.ask(await kit.newAgent(bob), { ...ASK, action_type: "db.migrate" }));
  });

  it("starts after three wrong numbers too (a rejection by the system)", async () => {
    const agent = await kit.newAgent(alice);
    const asked = created(await kit.ask(agent, { ...ASK, action_type: "deploy.canary" }));
    const wrong = asked.number_match === "000000" ? "000001" : "000000";
    for (let i = 0; i < 3; i++) await kit.decide(alice, asked.id, { number: wrong });
    kit.clock.advance(1_000);
    const blocked = await kit.ask(agent, { ...ASK, action_type: "deploy.canary" });
    assert.equal(blocked.code, "cooldown_active");
    assert.equal(retryAfter(blocked), 599);
  });

  it("lets a retry through once the cool-down ends, since the 429 did not use up its Idempotency-Key", async () => {
    const agent = await kit.newAgent(alice);
    await askAndReject(agent, "deploy.retry");
    const key = crypto.randomUUID();
    const body = { ...ASK, action_type: "deploy.retry" };
    assert.equal((await kit.ask(agent, body, key)).code, "cooldown_active");
    kit.clock.advance(600_000);
    created(await kit.ask(agent, body, key));
  });
});

describeEachDatabase("the cool-down, configured (COUNTERSIGN_APPROVAL_COOLDOWN_SECONDS)", (ctx) => {
  let kit: ApprovalTestKit;
  let alice: TestPerson;

  before(async () => {
    kit = await createApprovalTestKit(ctx.db, { env: { COUNTERSIGN_APPROVAL_COOLDOWN_SECONDS: "30" } });
    alice = await kit.newPerson();
  });

  it("blocks for the configured 30 s instead of 600 s", async () => {
    const agent = await kit.newAgent(alice);
    const asked = created(await kit.ask(agent));
    await kit.decide(alice, asked.id, { decision: "reject" });
    kit.clock.advance(10_000);
    const blocked = await kit.ask(agent);
    assert.equal(blocked.code, "cooldown_active");
    assert.equal(retryAfter(blocked), 20);
    kit.clock.advance(20_000);
    created(await kit.ask(agent));
  });
});

describeEachDatabase("the per-agent and per-user throttles (T-1)", (ctx) => {
  let kit: ApprovalTestKit;

  before(async () => {
    kit = await createApprovalTestKit(ctx.db, {
      env: {
        COUNTERSIGN_APPROVAL_THROTTLE_AGENT_PER_MINUTE: "2",
        COUNTERSIGN_APPROVAL_THROTTLE_USER_PER_MINUTE: "3",
      },
    });
  });

  /** Moves the clock to `seconds` into the next one-minute window. */
  function intoNextMinute(seconds: number): void {
    kit.clock.set((Math.floor(kit.clock.now() / MINUTE) + 1) * MINUTE + seconds * 1000);
  }

  const ask = (agent: TestAgent, actionType: string) => kit.ask(agent, { ...ASK, action_type: actionType });

  it("refuses an agent's third request in a minute with 429 throttled, writing nothing, until the next minute", async () => {
    const person = await kit.newPerson();
    const agent = await kit.newAgent(person);
    intoNextMinute(15);
    created(await ask(agent, "deploy.a"));
    created(await ask(agent, "deploy.b"));
    const throttled = await ask(agent, "deploy.c");
    assert.equal(throttled.status, 429);
    assert.equal(throttled.code, "throttled");
    assert.equal(retryAfter(throttled), 45, "until the window ends");
    assert.equal(await countRows(ctx, agent.id, "deploy.c"), 0, "the refused request left no row");
    assert.equal(await countRows(ctx, agent.id), 2);

    // An open request returned by suppression is not a new one and is not counted.
    assert.equal((await ask(agent, "deploy.a")).status, 200);

    intoNextMinute(0);
    created(await ask(agent, "deploy.c"));
  });

  it("counts every agent of a person against the person's limit, and nobody else's", async () => {
    const person = await kit.newPerson();
    const first = await kit.newAgent(person);
    const second = await kit.newAgent(person);
    intoNextMinute(50);
    created(await ask(first, "deploy.a"));
    created(await ask(first, "deploy.b"));
    assert.equal((await ask(first, "deploy.c")).code, "throttled");
    // The refusal above counted nothing: the person is at 2 of 3, so this one passes.
    created(await ask(second, "deploy.a"));
    const throttled = await ask(second, "deploy.b");
    assert.equal(throttled.status, 429);
    assert.equal(throttled.code, "throttled");
    assert.equal(retryAfter(throttled), 10);
    assert.equal(await countRows(ctx, second.id), 1);

    const other = await kit.newPerson();
    created(await ask(await kit.newAgent(other), "deploy.a"));

    intoNextMinute(0);
    created(await ask(second, "deploy.b"));
  });

  it("holds both limits in a concurrent burst counted together: three of five pass, at most two per agent", async () => {
    const person = await kit.newPerson();
    const [first, second] = [await kit.newAgent(person), await kit.newAgent(person)];
    intoNextMinute(5);
    const burst = await Promise.all([
      ask(first, "deploy.a"),
      ask(first, "deploy.b"),
      ask(first, "deploy.c"),
      ask(second, "deploy.a"),
      ask(second, "deploy.b"),
    ]);
    const statuses = burst.map((res) => res.status);
    assert.equal(statuses.filter((status) => status === 201).length, 3, JSON.stringify(statuses));
    assert.ok(burst.every((res) => res.status === 201 || res.code === "throttled"));
    assert.ok((await countRows(ctx, first.id)) <= 2);
    assert.equal((await countRows(ctx, first.id)) + (await countRows(ctx, second.id)), 3);
  });
});

describeEachDatabase("the allowlist", (ctx) => {
  it("refuses an action type outside the agent's allowlist with 403 action_not_allowed, writing nothing", async () => {
    const kit = await createApprovalTestKit(ctx.db);
    const person = await kit.newPerson();
    const agent = await kit.newAgent(person, { allowed_actions: ["deploy.*"] });
    for (const actionType of ["payments.send", "deploy", "deployment.web", "db.migrate"]) {
      const res = await kit.ask(agent, { ...ASK, action_type: actionType });
      assert.equal(res.status, 403, actionType);
      assert.equal(res.code, "action_not_allowed", actionType);
    }
    assert.equal(await countRows(ctx, agent.id), 0);
    created(await kit.ask(agent, { ...ASK, action_type: "deploy.web.eu" }));
  });
});
