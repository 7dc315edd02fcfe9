import assert from "node:assert/strict";
import { before, it } from "node:test";
import { describeEachDatabase } from "../../test-support/test-database.ts";
import { type AgentTestKit, createAgentTestKit } from "./test-support/agent-test-kit.ts";

const MINUTE = 60_000;

describeEachDatabase("agent management", (ctx) => {
  let kit: AgentTestKit;
  let alice: Awaited<ReturnType<AgentTestKit["newPerson"]>>;
  let bob: Awaited<ReturnType<AgentTestKit["newPerson"]>>;

  before(async () => {
    kit = await createAgentTestKit(ctx.db);
    alice = await kit.newPerson();
    bob = await kit.newPerson();
  });

  it("creates a signed agent with a one-time enrolment code, valid ten minutes, stored only as a digest", async () => {
    const res = await kit.call("POST", "/v1/agents", {
      cookie: alice.cookie,
      body: { name: "  Deploy bot ", allowed_actions: ["deploy.*", "db:migrate"], ip_allowlist: ["10.0.0.0/8"] },
    });
    assert.equal(res.status, 201);
    assert.equal(res.headers["cache-control"], "no-store");
    const agent = res.body.agent as Record<string, unknown>;
    const credential = res.body.credential as { kind: string; code: string; expires_at: string; api_base_url: string };
    assert.match(String(agent.id), /^agt_[A-Za-z0-9_-]{22}$/);
    assert.equal(agent.name, "Deploy bot");
    assert.equal(agent.auth_mode, "signed");
    assert.equal(agent.verified, true);
    assert.equal(agent.status, "active");
    assert.equal(agent.enrolled, false);
    assert.equal(agent.default_ttl_seconds, null, "no TTL given: the person's setting applies");
    assert.deepEqual(agent.ip_allowlist, ["10.0.0.0/8"]);
    assert.equal(credential.kind, "enrollment_code");
    assert.match(credential.code, /^cs_enr_[A-Za-z0-9_-]{32}$/);
    assert.equal(Date.parse(credential.expires_at), kit.clock.now() + 10 * MINUTE);
    assert.equal(credential.api_base_url, kit.config.apiBaseUrl, "where the agent enrols, for the app's command");

    const { rows } = await ctx.db.query<{ code_digest: string }>(
      "SELECT code_digest FROM agent_enrollment_codes WHERE agent_id = $1",
      [agent.id],
    );
    assert.equal(rows.length, 1);
    assert.match(rows[0]?.code_digest ?? "", /^[0-9a-f]{64}$/);
    const dump = JSON.stringify((await ctx.db.query("SELECT * FROM agent_enrollment_codes")).rows);
    assert.ok(!dump.includes(credential.code.slice(7)), "the code itself is nowhere in the table");

    const created = kit.audit.find((e) => e.type === "agent.created" && e.subject?.id === agent.id);
    assert.ok(created);
    assert.deepEqual(created.actor, { kind: "user", id: alice.userId });
    assert.equal(created.userId, alice.userId);
    assert.equal(created.context?.auth_mode, "signed");
  });

  it("needs a session, and a fresh passkey (step-up) to create, rotate and resume", async () => {
    const body = { name: "x", allowed_actions: ["a"] };
    assert.equal((await kit.call("POST", "/v1/agents", { body })).code, "unauthenticated");
    assert.equal((await kit.call("GET", "/v1/agents")).code, "unauthenticated");
    assert.equal((await kit.call("POST", "/v1/agents", { cookie: alice.plainCookie, body })).code, "step_up_required");

    const { id } = await kit.createAgent(alice.cookie, body);
    const plain = { cookie: alice.plainCookie };
    assert.equal((await kit.call("POST", `/v1/agents/${id}/rotate`, plain)).code, "step_up_required");
    assert.equal((await kit.call("POST", `/v1/agents/${id}/suspend`, plain)).status, 200);
    assert.equal((await kit.call("POST", `/v1/agents/${id}/resume`, plain)).code, "step_up_required");
    assert.equal((await kit.call("POST", `/v1/agents/${id}/resume`, { cookie: alice.cookie })).status, 200);
    assert.equal((await kit.call("GET", "/v1/agents", plain)).status, 200);
  });

  it("guards every management route with a session, and the powerful ones with step-up", async () => {
    const { id } = await kit.createAgent(alice.cookie, { name: "guarded", allowed_actions: ["a"] });
    const routes: ["GET" | "POST", string, "session" | "step-up"][] = [
      ["POST", "/v1/agents", "step-up"],
      ["GET", "/v1/agents", "session"],
      ["GET", `/v1/agents/${id}`, "session"],
      ["POST", `/v1/agents/${id}/rotate`, "step-up"],
      ["POST", `/v1/agents/${id}/resume`, "step-up"],
      ["POST", `/v1/agents/${id}/suspend`, "session"],
      ["POST", `/v1/agents/${id}/revoke`, "session"],
    ];
    for (const [method, url, auth] of routes) {
      assert.equal((await kit.call(method, url)).code, "unauthenticated", `${method} ${url}`);
      const plain = await kit.call(method, url, {
        cookie: alice.plainCookie,
        body: method === "POST" ? {} : undefined,
      });
      if (auth === "step-up") assert.equal(plain.code, "step_up_required", `${method} ${url}`);
      else assert.notEqual(plain.status, 401, `${method} ${url}`);
    }
  });

  it("refuses a state-changing call without the app's Origin", async () => {
    const res = await kit.send({
      method: "POST",
      url: "/v1/agents",
      headers: { host: "localhost:8787", cookie: alice.cookie },
      payload: { name: "x", allowed_actions: ["a"] },
    });
    assert.equal(res.code, "origin_mismatch");
  });

  it("refuses bad input with validation_failed and creates nothing", async () => {
    const before = (await ctx.db.query("SELECT count(*)::int AS n FROM agents")).rows[0];
    const bad: Record<string, unknown>[] = [
      { name: "", allowed_actions: ["a"] },
      { name: "x\u202eevil", allowed_actions: ["a"] },
      { name: "x", allowed_actions: [] },
      { name: "x", allowed_actions: ["Deploy"] },
      { name: "x", allowed_actions: ["deploy*"] },
      { name: "x", allowed_actions: ["*"] },
      { name: "x", allowed_actions: ["a"], ip_allowlist: ["example.com"] },
      { name: "x", allowed_actions: ["a"], ip_allowlist: ["10.0.0.0/33"] },
      { name: "x", allowed_actions: ["a"], ip_allowlist: ["2001:db8::/129"] },
      { name: "x", allowed_actions: ["a"], default_ttl_seconds: 29 },
      { name: "x", allowed_actions: ["a"], default_ttl_seconds: 1801 },
      { name: "x", allowed_actions: ["a"], auth_mode: "hmac" },
      { name: "x", allowed_actions: ["a"], bearer_token_ttl_days: 10 },
      { name: "x", allowed_actions: ["a"], user_id: bob.userId },
    ];
    for (const body of bad) {
      const res = await kit.call("POST", "/v1/agents", { cookie: alice.cookie, body });
      assert.equal(res.code, "validation_failed", JSON.stringify(body));
    }
    assert.deepEqual((await ctx.db.query("SELECT count(*)::int AS n FROM agents")).rows[0], before);
  });

  it("accepts IPv4 and IPv6 addresses and CIDR ranges, normalized", async () => {
    const res = await kit.call("POST", "/v1/agents", {
      cookie: alice.cookie,
      body: {
        name: "net",
        allowed_actions: ["a"],
        ip_allowlist: ["192.0.2.7", "2001:DB8::/32", "198.51.100.0/24", "::1"],
        default_ttl_seconds: 1800,
      },
    });
    assert.equal(res.status, 201);
    const agent = res.body.agent as { ip_allowlist: string[]; default_ttl_seconds: number };
    assert.deepEqual(agent.ip_allowlist, ["192.0.2.7", "2001:db8::/32", "198.51.100.0/24", "::1"]);
    assert.equal(agent.default_ttl_seconds, 1800);
  });

  it("lists and shows only the owner's agents", async () => {
    const mine = await kit.createAgent(bob.cookie, { name: "Bob's", allowed_actions: ["a"] });
    const list = await kit.call("GET", "/v1/agents", { cookie: bob.cookie });
    const agents = list.body.agents as { id: string; auth_mode: string; verified: boolean; status: string }[];
    assert.deepEqual(
      agents.map((a) => a.id),
      [mine.id],
    );
    assert.equal(agents[0]?.verified, true);
    const aliceList = (await kit.call("GET", "/v1/agents", { cookie: alice.cookie })).body.agents as { id: string }[];
    assert.ok(!aliceList.some((a) => a.id === mine.id));

    assert.equal((await kit.call("GET", `/v1/agents/${mine.id}`, { cookie: bob.cookie })).status, 200);
    for (const action of ["revoke", "rotate", "suspend", "resume"]) {
      const res = await kit.call("POST", `/v1/agents/${mine.id}/${action}`, { cookie: alice.cookie });
      assert.deepEqual([res.status, res.code], [404, "not_found"], action);
    }
    assert.equal((await kit.call("GET", `/v1/agents/${mine.id}`, { cookie: alice.cookie })).code, "not_found");
    assert.equal(
      (await kit.call("GET", `/v1/agents/${mine.id}`, { cookie: bob.cookie })).body.agent !== undefined,
      true,
    );
    const { rows } = await ctx.db.query<{ status: string }>("SELECT status FROM agents WHERE id = $1", [mine.id]);
    assert.equal(rows[0]?.status, "active", "another person's calls changed nothing");
  });

  it("revokes for good, deletes the open code, cancels in-flight requests and audits once", async () => {
    const { id } = await kit.createAgent(alice.cookie, { name: "r", allowed_actions: ["a"] });
    const res = await kit.call("POST", `/v1/agents/${id}/revoke`, { cookie: alice.cookie });
    assert.equal((res.body.agent as { status: string }).status, "revoked");
    assert.deepEqual(kit.canceled.at(-1), { agentId: id, reason: "agent_revoked" });
    const codes = await ctx.db.query("SELECT 1 FROM agent_enrollment_codes WHERE agent_id = $1", [id]);
    assert.equal(codes.rowCount, 0);

    const again = await kit.call("POST", `/v1/agents/${id}/revoke`, { cookie: alice.cookie });
    assert.equal(again.status, 200);
    assert.equal(kit.audit.filter((e) => e.type === "agent.revoked" && e.subject?.id === id).length, 1);
    for (const action of ["rotate", "suspend", "resume"]) {
      const refused = await kit.call("POST", `/v1/agents/${id}/${action}`, { cookie: alice.cookie });
      assert.equal(refused.code, "agent_revoked", action);
    }
    await assert.rejects(ctx.db.query("UPDATE agents SET status = 'active' WHERE id = $1", [id]), /stays revoked/);
  });

  it("rotates: new code, credentials version + 1, in-flight canceled, audited", async () => {
    const { id } = await kit.createAgent(alice.cookie, { name: "rot", allowed_actions: ["a"] });
    const res = await kit.call("POST", `/v1/agents/${id}/rotate`, { cookie: alice.cookie });
    assert.equal(res.status, 200);
    assert.equal(res.headers["cache-control"], "no-store");
    const agent = res.body.agent as { credentials_version: number; enrolled: boolean };
    assert.equal(agent.credentials_version, 2);
    assert.equal(agent.enrolled, false);
    assert.match((res.body.credential as { code: string }).code, /^cs_enr_/);
    assert.deepEqual(kit.canceled.at(-1), { agentId: id, reason: "credentials_rotated" });
    const event = kit.audit.find((e) => e.type === "agent.credentials_rotated" && e.subject?.id === id);
    assert.equal(event?.context?.previous_credentials_version, 1);
    assert.equal(event?.context?.credentials_version, 2);
  });

  it("suspends and resumes, idempotently, with audit events", async () => {
    const { id } = await kit.createAgent(alice.cookie, { name: "s", allowed_actions: ["a"] });
    const status = async (action: string) =>
      (
        (await kit.call("POST", `/v1/agents/${id}/${action}`, { cookie: alice.cookie })).body.agent as {
          status: string;
        }
      ).status;
    assert.equal(await status("suspend"), "suspended");
    assert.equal(await status("suspend"), "suspended");
    assert.deepEqual(kit.canceled.at(-1), { agentId: id, reason: "agent_suspended" });
    assert.equal(await status("resume"), "active");
    assert.equal(await status("resume"), "active");
    const types = kit.audit.filter((e) => e.subject?.id === id).map((e) => e.type);
    assert.deepEqual(types, ["agent.created", "agent.suspended", "agent.resumed"]);
  });

  it("never lets the database change an agent's auth mode", async () => {
    const { id } = await kit.createAgent(alice.cookie, { name: "m", allowed_actions: ["a"] });
    await assert.rejects(
      ctx.db.query("UPDATE agents SET auth_mode = 'bearer_only' WHERE id = $1", [id]),
      /auth_mode cannot change/,
    );
  });
});
