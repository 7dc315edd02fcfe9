import assert from "node:assert/strict";
import { before, it, type TestContext } from "node:test";
import type { InjectOptions } from "fastify";
import { createTestApp } from "../../test-support/test-app.ts";
import { describeEachDatabase } from "../../test-support/test-database.ts";
import { ensureTestUser, testUserId } from "../../test-support/test-users.ts";
import type { AuthenticatedAgent } from "../agent-auth/agent-request.ts";
import type { Database } from "../db/database.ts";
import { openPgDatabase } from "../db/pg-database.ts";
import { type AgentRowCache, createAgentRowCache, LOST_NOTIFICATION_GRACE_MS } from "./agent-row-cache.ts";
import { type AgentTestKit, createAgentTestKit } from "./test-support/agent-test-kit.ts";

/** The database, but its LISTEN never hears anything: a listener connection that is down. */
function deaf(db: Database): Database {
  return { ...db, listen: async () => async () => {} };
}

/** The database, counting statements that read agent rows. */
function counting(db: Database): { db: Database; agentReads: () => number } {
  let reads = 0;
  return {
    db: {
      ...db,
      query(sql, params) {
        if (/FROM agents\b/.test(sql)) reads++;
        return db.query(sql, params);
      },
    },
    agentReads: () => reads,
  };
}

const seqOf = async (db: Database) =>
  (await db.query<{ seq: number }>("SELECT seq FROM agent_change_counter")).rows[0]?.seq ?? -1;

/** Waits (bounded) until `check` holds; the cache subscribes and reads the counter in the background. */
async function eventually(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  assert.fail(`never: ${what}`);
}

/** Whether the cache answers for `agent` as of `asOf` from memory (synchronously). */
const servesFromMemory = (cache: AgentRowCache, agent: AuthenticatedAgent, asOf: number) =>
  !("then" in cache.current(agent, asOf));

describeEachDatabase("the agent row cache", (ctx) => {
  let n = 0;
  /** A signed agent row of its own. */
  async function newAgent(): Promise<string> {
    n++;
    const userId = testUserId(`row-cache-${n}-${ctx.kind}`);
    const agentId = `agt_rowcache${String(n).padStart(14, "0")}`;
    await ensureTestUser(ctx.db, userId);
    await ctx.db.query(
      `INSERT INTO agents (id, user_id, name, auth_mode, allowed_actions, default_ttl_seconds, created_at)
       VALUES ($1, $2, 'Cached bot', 'signed', '{deploy.*}', 60, now())`,
      [agentId, userId],
    );
    return agentId;
  }

  it("serves a held row while the counter proves it current, and drops it when its change is heard", async (t) => {
    const id = await newAgent();
    const heard: (string | null)[] = [];
    const cache = createAgentRowCache({ db: ctx.db, onInvalidate: (agentId) => heard.push(agentId) });
    t.after(() => cache.close());
    const agent = await cache.get(id);
    assert.equal(agent?.status, "active");
    const asOf = await seqOf(ctx.db);
    // Subscribing and reading the counter happen in the background after the first get.
    await eventually(async () => {
      await cache.get(id);
      return servesFromMemory(cache, agent as AuthenticatedAgent, asOf);
    }, "the cache serves from memory");

    await ctx.db.query("UPDATE agents SET status = 'suspended', status_changed_at = now() WHERE id = $1", [id]);
    await eventually(() => heard.includes(id), "the change is heard (Database.listen)");
    const current = await cache.current(agent as AuthenticatedAgent, asOf);
    assert.equal(current?.status, "suspended", "a heard change drops the row even for an older counter");
  });

  it("does not notify for a last-used write alone", async () => {
    const id = await newAgent();
    const before = await seqOf(ctx.db);
    await ctx.db.query("UPDATE agents SET last_used_at = now() WHERE id = $1", [id]);
    assert.equal(await seqOf(ctx.db), before);
    await ctx.db.query("UPDATE agents SET name = 'Renamed' WHERE id = $1", [id]);
    assert.equal(await seqOf(ctx.db), before + 1);
  });

  it("reads again when the counter is ahead of what was heard (a LISTEN connection that is down)", async (t) => {
    const id = await newAgent();
    let clock = 0;
    const cache = createAgentRowCache({ db: deaf(ctx.db), now: () => clock });
    t.after(() => cache.close());
    const agent = (await cache.get(id)) as AuthenticatedAgent;
    const asOf = await seqOf(ctx.db);
    await eventually(async () => {
      await cache.get(id);
      return servesFromMemory(cache, agent, asOf);
    }, "the cache serves from memory");

    await ctx.db.query("UPDATE agents SET status = 'revoked', status_changed_at = now() WHERE id = $1", [id]);
    const later = await seqOf(ctx.db);
    assert.ok(later > asOf);
    // The notification never comes; the counter the nonce's statement saw is enough.
    const answer = cache.current(agent, later);
    assert.ok("then" in answer, "not from memory");
    assert.equal((await answer)?.status, "revoked");
    assert.equal((await cache.current(agent, later))?.status, "revoked", "still read while the change is unheard");

    // Unheard past the grace: lost. Everything is dropped and the cache starts over from the counter.
    clock += LOST_NOTIFICATION_GRACE_MS + 1;
    const fresh = (await cache.current(agent, later)) as AuthenticatedAgent;
    assert.equal(fresh.status, "revoked");
    const reloaded = (await cache.get(id)) as AuthenticatedAgent;
    assert.ok(servesFromMemory(cache, reloaded, later), "trusted again once resynchronized");
    assert.equal((cache.current(reloaded, later) as AuthenticatedAgent).status, "revoked");
  });

  it("never answers from memory without the counter", async (t) => {
    const id = await newAgent();
    const cache = createAgentRowCache({ db: ctx.db });
    t.after(() => cache.close());
    const agent = (await cache.get(id)) as AuthenticatedAgent;
    const asOf = await seqOf(ctx.db);
    await eventually(async () => {
      await cache.get(id);
      return servesFromMemory(cache, agent, asOf);
    }, "the cache serves from memory");
    const answer = cache.current(agent, null);
    assert.ok("then" in answer, "read, not from memory");
    assert.equal((await answer)?.id, id);
  });
});

describeEachDatabase("agent changes across server processes", (ctx) => {
  const onPostgres = { skip: ctx.kind !== "postgres" && "needs a second PostgreSQL connection" };
  let kit: AgentTestKit;

  before(async () => {
    kit = await createAgentTestKit(ctx.db);
  });

  /** A second "process": its own pool (and LISTEN connection) and app on the same database. */
  async function otherProcess(t: TestContext, options: { deaf?: boolean } = {}) {
    const pool = await openPgDatabase({ databaseUrl: ctx.url as string, poolSize: 4 });
    const { db, agentReads } = counting(options.deaf === true ? deaf(pool) : pool);
    const app = await createTestApp(db, { config: kit.config, clock: kit.clock });
    // Before the suite drops the database.
    t.after(async () => {
      await app.close();
      await pool.close();
    });
    const send = async (request: InjectOptions) => {
      const res = await app.inject(request);
      return { status: res.statusCode, code: res.statusCode >= 400 ? res.json().error?.code : undefined };
    };
    return { send, agentReads };
  }

  /** Sends signed requests until one is answered without reading the agent row (bounded). */
  async function warm(other: Awaited<ReturnType<typeof otherProcess>>, key: Parameters<AgentTestKit["signed"]>[0]) {
    for (let i = 0; i < 100; i++) {
      const reads = other.agentReads();
      assert.equal((await other.send(await kit.signed(key))).status, 200);
      if (other.agentReads() === reads) return;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    assert.fail("the other process never served the agent from its cache");
  }

  it("a revocation through one connection refuses the very next request through another", onPostgres, async (t) => {
    const other = await otherProcess(t);
    const person = await kit.newPerson();
    const bot = await kit.enrolledAgent(person.cookie);
    await warm(other, bot.key);
    const prepared = await kit.signed(bot.key);
    assert.equal((await kit.call("POST", `/v1/agents/${bot.id}/revoke`, { cookie: person.cookie })).status, 200);
    assert.deepEqual(await other.send(prepared), { status: 403, code: "agent_revoked" });
  });

  it("with its LISTEN connection down, the other process still refuses at once", onPostgres, async (t) => {
    const other = await otherProcess(t, { deaf: true });
    const person = await kit.newPerson();
    const bot = await kit.enrolledAgent(person.cookie);
    await warm(other, bot.key);

    await kit.call("POST", `/v1/agents/${bot.id}/suspend`, { cookie: person.cookie });
    assert.equal((await other.send(await kit.signed(bot.key))).code, "agent_suspended");
    const resumed = await kit.call("POST", `/v1/agents/${bot.id}/resume`, {
      cookie: await kit.stepUpCookie(person.userId),
    });
    assert.equal(resumed.status, 200, JSON.stringify(resumed.body));
    assert.equal((await other.send(await kit.signed(bot.key))).status, 200, "resumed at once too");

    const rotation = await kit.call("POST", `/v1/agents/${bot.id}/rotate`, {
      cookie: await kit.stepUpCookie(person.userId),
    });
    assert.equal(rotation.status, 200, JSON.stringify(rotation.body));
    assert.equal((await other.send(await kit.signed(bot.key))).code, "agent_credentials_rotated");
  });
});
