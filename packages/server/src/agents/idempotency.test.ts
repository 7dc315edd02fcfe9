import assert from "node:assert/strict";
import { before, it } from "node:test";
import { CountersignError } from "@countersign/protocol";
import { Type } from "typebox";
import { describeEachDatabase } from "../../test-support/test-database.ts";
import { idempotencyRequestHash } from "../agent-auth/idempotency.ts";
import { sweepExpiredIdempotencyKeys } from "../agent-auth/idempotency-store.ts";
import { type AgentKey, type AgentTestKit, createAgentTestKit } from "./test-support/agent-test-kit.ts";

describeEachDatabase("Idempotency-Key on agent POSTs", (ctx) => {
  let kit: AgentTestKit;
  let agent: { id: string; key: AgentKey };
  let other: { id: string; key: AgentKey };
  let executions = 0;
  let gate: Promise<void> | undefined;

  before(async () => {
    kit = await createAgentTestKit(ctx.db, {
      extraRoutes(app) {
        // A test-only agent POST that does something observable: it counts its executions.
        app.post(
          "/test/agent/echo",
          {
            config: { surface: "api", agentAuth: true },
            schema: { body: Type.Object({ n: Type.Integer() }, { additionalProperties: false }) },
          },
          async (request, reply) => {
            executions++;
            await gate;
            const { n } = request.body as { n: number };
            if (n < 0) throw new CountersignError("validation_failed", { message: "n must not be negative" });
            if (n === 500) throw new Error("database went away");
            return reply.code(201).send({ n, execution: executions, agent: request.agentAuth?.agent.id });
          },
        );
      },
    });
    const person = await kit.newPerson();
    agent = await kit.enrolledAgent(person.cookie);
    other = await kit.enrolledAgent(person.cookie);
  });

  const echo = (key: AgentKey, n: number, idempotencyKey?: string, url = "/test/agent/echo") =>
    kit.signed(key, {
      method: "POST",
      url,
      body: { n },
      ...(idempotencyKey === undefined ? {} : { headers: { "idempotency-key": idempotencyKey } }),
    });

  it("requires an Idempotency-Key on agent POSTs", async () => {
    const before = executions;
    const res = await kit.send(await echo(agent.key, 1));
    assert.deepEqual([res.status, res.code], [400, "idempotency_key_required"]);
    assert.equal(executions, before);
    assert.equal((await kit.send(await echo(agent.key, 1, "x".repeat(256)))).code, "validation_failed");
  });

  it("replays the original response for the same request, without running it again", async () => {
    const first = await kit.send(await echo(agent.key, 7, "k-replay"));
    assert.equal(first.status, 201);
    const count = executions;
    // A retry is a new signature (new nonce) over the same method, path, query and body.
    const again = await kit.send(await echo(agent.key, 7, "k-replay"));
    assert.equal(again.status, 201);
    assert.deepEqual(again.body, first.body);
    assert.equal(again.headers["idempotency-replayed"], "true");
    assert.equal(executions, count);
  });

  it("refuses the key with a different body, path or query with 422", async () => {
    assert.equal((await kit.send(await echo(agent.key, 1, "k-other"))).status, 201);
    const variants = [await echo(agent.key, 2, "k-other"), await echo(agent.key, 1, "k-other", "/test/agent/echo?x=1")];
    for (const variant of variants) {
      const res = await kit.send(variant);
      assert.deepEqual([res.status, res.code], [422, "idempotency_key_reused"], String(variant.url));
    }
  });

  it("scopes keys per agent", async () => {
    const mine = await kit.send(await echo(agent.key, 3, "k-shared"));
    const theirs = await kit.send(await echo(other.key, 4, "k-shared"));
    assert.equal(mine.status, 201);
    assert.equal(theirs.status, 201);
    assert.equal(theirs.body.n, 4);
  });

  it("runs one of concurrent duplicates; the others get 409 with Retry-After, then the stored answer", async () => {
    let open: () => void = () => {};
    gate = new Promise((resolve) => {
      open = resolve;
    });
    const count = executions;
    const requests = await Promise.all(Array.from({ length: 6 }, () => echo(agent.key, 9, "k-race")));
    let settled = 0;
    const pending = requests.map((request) =>
      kit.send(request).finally(() => {
        settled++;
      }),
    );
    // The holder waits at the gate; every duplicate is answered before it is let through.
    for (let waited = 0; settled < 5 && waited < 20_000; waited += 20) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    open();
    const results = await Promise.all(pending);
    gate = undefined;
    assert.equal(executions, count + 1);
    assert.equal(results.filter((r) => r.status === 201).length, 1);
    const refused = results.filter((r) => r.status !== 201);
    assert.equal(refused.length, 5);
    for (const r of refused) {
      assert.deepEqual([r.status, r.code], [409, "idempotency_key_in_progress"]);
      assert.equal(r.headers["retry-after"], "1");
    }
    const retry = await kit.send(await echo(agent.key, 9, "k-race"));
    assert.equal(retry.status, 201);
    assert.equal(retry.headers["idempotency-replayed"], "true");
  });

  it("stores a 4xx answer like a success, and releases the key after a 5xx so a retry runs", async () => {
    const refused = await kit.send(await echo(agent.key, -1, "k-4xx"));
    assert.equal(refused.code, "validation_failed");
    const count = executions;
    assert.equal((await kit.send(await echo(agent.key, -1, "k-4xx"))).code, "validation_failed");
    assert.equal(executions, count, "the stored 4xx was replayed");

    assert.equal((await kit.send(await echo(agent.key, 500, "k-5xx"))).status, 500);
    const before = executions;
    assert.equal((await kit.send(await echo(agent.key, 500, "k-5xx"))).status, 500);
    assert.equal(executions, before + 1, "the failed request ran again");
  });

  it("keeps a key for 24 hours, then lets it be used again", async () => {
    assert.equal((await kit.send(await echo(agent.key, 5, "k-day"))).status, 201);
    kit.clock.advance(23 * 3_600_000);
    assert.equal((await kit.send(await echo(agent.key, 6, "k-day"))).code, "idempotency_key_reused");
    kit.clock.advance(3_600_000);
    const reused = await kit.send(await echo(agent.key, 6, "k-day"));
    assert.equal(reused.status, 201);
    assert.equal(reused.body.n, 6);
    kit.clock.advance(24 * 3_600_000);
    assert.ok((await sweepExpiredIdempotencyKeys(ctx.db, kit.clock.now())) >= 1);
    const left = await ctx.db.query("SELECT 1 FROM agent_idempotency_keys WHERE expires_at <= $1", [
      new Date(kit.clock.now()),
    ]);
    assert.equal(left.rowCount, 0);
  });

  it("takes over a key whose holder died, once its lease is over", async () => {
    await ctx.db.query(
      `INSERT INTO agent_idempotency_keys (agent_id, idempotency_key, request_hash, state, started_at, expires_at)
       VALUES ($1, 'k-dead', 'x', 'in_progress', $2, $3)`,
      [agent.id, new Date(kit.clock.now()), new Date(kit.clock.now() + 86_400_000)],
    );
    // Another request under the same key: a different hash, so it is a mismatch, not a takeover.
    assert.equal((await kit.send(await echo(agent.key, 1, "k-dead"))).code, "idempotency_key_reused");
    await ctx.db.query("UPDATE agent_idempotency_keys SET request_hash = $1 WHERE idempotency_key = 'k-dead'", [
      idempotencyRequestHash({
        parts: { method: "POST", authority: "", path: "/test/agent/echo", query: "", headers: {} },
        body: new TextEncoder().encode(JSON.stringify({ n: 1 })),
        clientIp: "",
      }),
    ]);
    assert.equal((await kit.send(await echo(agent.key, 1, "k-dead"))).code, "idempotency_key_in_progress");
    kit.clock.advance(61_000);
    assert.equal((await kit.send(await echo(agent.key, 1, "k-dead"))).status, 201);
  });
});
