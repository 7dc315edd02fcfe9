import assert from "node:assert/strict";
import { before, it } from "node:test";
import { describeEachDatabase } from "../../test-support/test-database.ts";
import { agentAuthMetrics } from "../agent-auth/agent-auth-metrics.ts";
import { type AgentTestKit, createAgentTestKit, HOST } from "./test-support/agent-test-kit.ts";

const DAY = 86_400_000;

describeEachDatabase("bearer-only agents", (ctx) => {
  let enabled: AgentTestKit;
  let disabled: AgentTestKit;
  let person: Awaited<ReturnType<AgentTestKit["newPerson"]>>;

  before(async () => {
    enabled = await createAgentTestKit(ctx.db, {
      env: { COUNTERSIGN_BEARER_ONLY_ALLOWED: "true" },
      extraRoutes(app) {
        app.post("/test/agent/echo", { config: { surface: "api", agentAuth: true } }, async (request) => ({
          body: request.body,
          auth_mode: request.agentAuth?.authMode,
        }));
      },
    });
    disabled = await createAgentTestKit(ctx.db);
    person = await enabled.newPerson();
  });

  const bearerBody = (extra: Record<string, unknown> = {}) => ({
    name: "CI demo",
    auth_mode: "bearer_only",
    allowed_actions: ["ci.*"],
    ip_allowlist: ["192.0.2.10"],
    ...extra,
  });
  const withToken = (kit: AgentTestKit, token: string, remoteAddress = "192.0.2.10", url = "/v1/agent/whoami") =>
    kit.send({ method: "GET", url, headers: { host: HOST, authorization: `Bearer ${token}` }, remoteAddress });

  it("is refused at creation while COUNTERSIGN_BEARER_ONLY_ALLOWED is off", async () => {
    const cookie = await disabled.stepUpCookie(person.userId);
    const res = await disabled.call("POST", "/v1/agents", { cookie, body: bearerBody() });
    assert.deepEqual([res.status, res.code], [403, "bearer_not_allowed"]);
  });

  it("issues a cs_agt_ token once, stores only its keyed digest, and shows the agent unverified", async () => {
    const cookie = await enabled.stepUpCookie(person.userId);
    const res = await enabled.call("POST", "/v1/agents", { cookie, body: bearerBody() });
    assert.equal(res.status, 201);
    assert.equal(res.headers["cache-control"], "no-store");
    const agent = res.body.agent as Record<string, unknown>;
    const credential = res.body.credential as { kind: string; token: string; expires_at: string };
    assert.equal(credential.kind, "bearer_token");
    assert.match(credential.token, /^cs_agt_[A-Za-z0-9_-]{43}$/);
    assert.equal(Date.parse(credential.expires_at), enabled.clock.now() + 30 * DAY);
    assert.equal(agent.verified, false);
    assert.equal(agent.auth_mode, "bearer_only");
    assert.equal(agent.enrolled, true);
    const { rows } = await ctx.db.query<{ bearer_token_digest: string }>(
      "SELECT bearer_token_digest FROM agents WHERE id = $1",
      [agent.id],
    );
    assert.match(rows[0]?.bearer_token_digest ?? "", /^[0-9a-f]{64}$/);
    const dump = JSON.stringify((await ctx.db.query("SELECT * FROM agents")).rows);
    assert.ok(!dump.includes(credential.token.slice(7)));
    const created = enabled.audit.find((e) => e.type === "agent.created" && e.subject?.id === agent.id);
    assert.equal(created?.context?.auth_mode, "bearer_only");
  });

  it("needs an allowlist of narrow ranges, and a lifetime of at most 90 days", async () => {
    const cookie = await enabled.stepUpCookie(person.userId);
    for (const body of [
      bearerBody({ ip_allowlist: [] }),
      bearerBody({ ip_allowlist: undefined }),
      bearerBody({ ip_allowlist: ["0.0.0.0/0"] }),
      bearerBody({ ip_allowlist: ["10.0.0.0/8"] }),
      bearerBody({ ip_allowlist: ["2001:db8::/32"] }),
      bearerBody({ bearer_token_ttl_days: 91 }),
      bearerBody({ bearer_token_ttl_days: 0 }),
    ]) {
      const res = await enabled.call("POST", "/v1/agents", { cookie, body });
      assert.equal(res.code, "validation_failed", JSON.stringify(body));
    }
    const ok = await enabled.call("POST", "/v1/agents", {
      cookie,
      body: bearerBody({ ip_allowlist: ["198.51.100.0/24", "2001:db8:1::/48"], bearer_token_ttl_days: 90 }),
    });
    assert.equal(ok.status, 201);
    assert.equal(Date.parse((ok.body.credential as { expires_at: string }).expires_at), enabled.clock.now() + 90 * DAY);
  });

  it("authenticates host → token → agent state → allowlist, and records the auth mode", async () => {
    const { id, token } = await enabled.createAgent(await enabled.stepUpCookie(person.userId), bearerBody());
    const requests = agentAuthMetrics(enabled.metrics).requests;
    const before = requests.get({ auth_mode: "bearer_only" });
    const res = await withToken(enabled, token);
    assert.equal(res.status, 200);
    assert.equal(res.body.agent_id, id);
    assert.equal(res.body.auth_mode, "bearer_only");
    assert.equal(res.body.verified, false);
    assert.equal(res.body.key_id, null);
    assert.equal(requests.get({ auth_mode: "bearer_only" }), before + 1);

    const altered = `${token.slice(0, -1)}${token.endsWith("A") ? "B" : "A"}`;
    assert.equal((await withToken(enabled, altered)).code, "unknown_agent");
    assert.equal((await withToken(enabled, "not-a-token")).code, "unknown_agent");
    const elsewhere = await withToken(enabled, token, "192.0.2.11");
    assert.deepEqual([elsewhere.status, elsewhere.code], [403, "ip_not_allowed"]);
    const refused = enabled.audit.find((e) => e.type === "agent.request_refused" && e.subject?.id === id);
    assert.equal(refused?.context?.auth_mode, "bearer_only");
    const misdirected = await enabled.send({
      method: "GET",
      url: "/v1/agent/whoami",
      headers: { host: "api.elsewhere.example", authorization: `Bearer ${token}` },
      remoteAddress: "192.0.2.10",
    });
    assert.equal(misdirected.code, "misdirected_request");
  });

  it("refuses a token next to a signature, and needs an Idempotency-Key on POST too", async () => {
    const { token } = await enabled.createAgent(await enabled.stepUpCookie(person.userId), bearerBody());
    const key = await enabled.newKey();
    const both = await enabled.signed(key, {
      headers: { authorization: `Bearer ${token}` },
      remoteAddress: "192.0.2.10",
    });
    assert.equal((await enabled.send(both)).code, "invalid_request");
    const post = (idempotencyKey?: string) =>
      enabled.send({
        method: "POST",
        url: "/test/agent/echo",
        headers: {
          host: HOST,
          authorization: `Bearer ${token}`,
          "content-type": "application/json",
          ...(idempotencyKey ? { "idempotency-key": idempotencyKey } : {}),
        },
        payload: { n: 1 },
        remoteAddress: "192.0.2.10",
      });
    assert.equal((await post()).code, "idempotency_key_required");
    const first = await post("bearer-1");
    assert.deepEqual(first.body, { body: { n: 1 }, auth_mode: "bearer_only" });
    assert.equal((await post("bearer-1")).headers["idempotency-replayed"], "true");
    const enroll = await enabled.send({
      method: "POST",
      url: "/v1/agents/enroll",
      headers: { host: HOST, authorization: `Bearer ${token}`, "content-type": "application/json" },
      payload: { code: "cs_enr_x", public_key: key.publicKey },
      remoteAddress: "192.0.2.10",
    });
    assert.equal(enroll.status, 400, "a token does not stand in for the enrolment signature");
  });

  it("expires the token, and rotation replaces it at once", async () => {
    const { id, token } = await enabled.createAgent(
      await enabled.stepUpCookie(person.userId),
      bearerBody({ bearer_token_ttl_days: 1 }),
    );
    const rotation = await enabled.call("POST", `/v1/agents/${id}/rotate`, {
      cookie: await enabled.stepUpCookie(person.userId),
    });
    const fresh = (rotation.body.credential as { token: string }).token;
    assert.equal((rotation.body.agent as { credentials_version: number }).credentials_version, 2);
    assert.equal((await withToken(enabled, token)).code, "unknown_agent", "the old token is dead at once");
    assert.equal((await withToken(enabled, fresh)).status, 200);
    enabled.clock.advance(30 * DAY);
    assert.equal((await withToken(enabled, fresh)).code, "unknown_agent", "expired after its 30 days");
  });

  it("refuses revoked and suspended bearer agents, and every bearer agent while the mode is off", async () => {
    const cookie = await enabled.stepUpCookie(person.userId);
    const live = await enabled.createAgent(cookie, bearerBody());
    assert.equal((await withToken(disabled, live.token)).code, "bearer_not_allowed");
    assert.equal((await withToken(enabled, live.token)).status, 200);

    const suspended = await enabled.createAgent(cookie, bearerBody());
    await enabled.call("POST", `/v1/agents/${suspended.id}/suspend`, { cookie });
    assert.equal((await withToken(enabled, suspended.token)).code, "agent_suspended");
    const revoked = await enabled.createAgent(cookie, bearerBody());
    await enabled.call("POST", `/v1/agents/${revoked.id}/revoke`, { cookie });
    assert.equal((await withToken(enabled, revoked.token)).code, "agent_revoked");

    const rotateWhileOff = await disabled.call("POST", `/v1/agents/${live.id}/rotate`, {
      cookie: await disabled.stepUpCookie(person.userId),
    });
    assert.equal(rotateWhileOff.code, "bearer_not_allowed");
  });
});
