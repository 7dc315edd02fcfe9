import assert from "node:assert/strict";
import { before, beforeEach, it } from "node:test";
import { createContentDigest, utf8 } from "@countersign/protocol";
import type { FastifyInstance } from "fastify";
import { Type } from "typebox";
import { describeEachDatabase } from "../../test-support/test-database.ts";
import type { AgentAuditEvent } from "../agent-auth/agent-audit-sink.ts";
import { agentAuthMetrics } from "../agent-auth/agent-auth-metrics.ts";
import type { Database } from "../db/database.ts";
import type { MetricsRegistry } from "../metrics/metrics-registry.ts";
import { enforceAllowedAction } from "./enforce-allowed-action.ts";
import { type AgentKey, type AgentTestKit, createAgentTestKit, HOST } from "./test-support/agent-test-kit.ts";

/** A test-only agent POST route that asks for an action type, as approvals will. */
function actRoute(app: FastifyInstance, deps: { db: Database; metrics: MetricsRegistry; audit: AgentAuditEvent[] }) {
  const auditSink = { append: async (_tx: unknown, event: AgentAuditEvent) => void deps.audit.push(event) };
  app.post(
    "/test/agent/act",
    {
      config: { surface: "api", agentAuth: true },
      schema: { body: Type.Object({ action_type: Type.String() }, { additionalProperties: true }) },
    },
    async (request) => {
      const { action_type } = request.body as { action_type: string };
      await enforceAllowedAction(request, action_type, {
        db: deps.db,
        auditSink,
        metrics: agentAuthMetrics(deps.metrics),
      });
      return { agent_id: request.agentAuth?.agent.id, action_type };
    },
  );
}

describeEachDatabase("signed agent requests", (ctx) => {
  let kit: AgentTestKit;
  let proxied: AgentTestKit;
  let person: Awaited<ReturnType<AgentTestKit["newPerson"]>>;
  let agent: { id: string; key: AgentKey };

  before(async () => {
    kit = await createAgentTestKit(ctx.db, { extraRoutes: actRoute });
    proxied = await createAgentTestKit(ctx.db, { env: { COUNTERSIGN_TRUST_PROXY: "127.0.0.1" } });
    person = await kit.newPerson();
    agent = await kit.enrolledAgent(person.cookie, { allowed_actions: ["deploy.*", "db:migrate"] });
  });

  beforeEach(async () => {
    person.cookie = await kit.stepUpCookie(person.userId);
  });

  const nowSeconds = () => Math.floor(kit.clock.now() / 1000);
  const act = (key: AgentKey, actionType: string, extra: Record<string, unknown> = {}, headers = {}) =>
    kit.signed(key, {
      method: "POST",
      url: "/test/agent/act?dry_run=1",
      body: { action_type: actionType, ...extra },
      headers: { "idempotency-key": crypto.randomUUID(), ...headers },
    });

  it("answers whoami with the agent's row: id, name, auth mode, allowed actions, verified", async () => {
    const res = await kit.send(await kit.signed(agent.key));
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, {
      agent_id: agent.id,
      name: "Deploy bot",
      auth_mode: "signed",
      verified: true,
      allowed_actions: ["deploy.*", "db:migrate"],
      default_ttl_seconds: null,
      credentials_version: 1,
      key_id: agent.key.keyId,
      // A plaintext agent: no account key set pinned (DESIGN §4.11).
      e2e: null,
    });
  });

  it("refuses a captured request replayed as is, late, early, or with its body, path or host changed", async () => {
    const captured = await act(agent.key, "deploy.web", { amount: 10 });
    assert.equal((await kit.send(captured)).status, 200);

    const replays: [string, Parameters<AgentTestKit["send"]>[0], number, string][] = [
      ["same nonce", captured, 401, "nonce_replay"],
      [
        "changed body",
        { ...captured, payload: Buffer.from(JSON.stringify({ action_type: "deploy.web", amount: 99 })) },
        400,
        "digest_mismatch",
      ],
      [
        "changed body with a matching digest",
        {
          ...captured,
          headers: {
            ...captured.headers,
            "content-digest": await createContentDigest(utf8('{"action_type":"deploy.web","amount":99}')),
          },
          payload: Buffer.from('{"action_type":"deploy.web","amount":99}'),
        },
        401,
        "invalid_signature",
      ],
      ["changed path", { ...captured, url: "/test/agent/act?dry_run=0" }, 401, "invalid_signature"],
      [
        "changed host",
        { ...captured, headers: { ...captured.headers, host: "api.elsewhere.example" } },
        421,
        "misdirected_request",
      ],
    ];
    for (const [what, request, status, code] of replays) {
      const res = await kit.send(request);
      assert.deepEqual([res.status, res.code], [status, code], what);
    }

    const old = await act(agent.key, "deploy.web", {}, {});
    kit.clock.advance(301_000);
    assert.equal((await kit.send(old)).code, "signature_expired", "held back past the window");
    const future = await kit.signed(agent.key, { created: nowSeconds() + 301 });
    assert.equal((await kit.send(future)).code, "signature_expired", "created in the future");
    const past = await kit.signed(agent.key, { created: nowSeconds() - 301 });
    assert.equal((await kit.send(past)).code, "signature_expired", "created in the past");
  });

  it("takes the auth mode only from the agent row: every downgrade attempt is refused or ignored", async () => {
    const token = `cs_agt_${"A".repeat(43)}`;
    const unsigned = (url: string, headers: Record<string, string> = {}, body?: unknown) =>
      kit.send({
        method: body === undefined ? "GET" : "POST",
        url,
        headers: { host: HOST, ...(body === undefined ? {} : { "content-type": "application/json" }), ...headers },
        ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
      });

    // A bearer header instead of a signature: bearer mode is off here, and the agent has no token anyway.
    for (const authorization of [`Bearer ${token}`, `Bearer ${agent.key.keyId}`, `Bearer ${agent.id}`]) {
      const res = await unsigned("/v1/agent/whoami", { authorization });
      assert.equal(res.status >= 400, true, authorization);
      assert.ok(["bearer_not_allowed", "unknown_agent"].includes(String(res.code)), authorization);
    }
    // A bearer header next to a valid signature.
    const both = await kit.signed(agent.key, { headers: { authorization: `Bearer ${token}` } });
    assert.deepEqual([(await kit.send(both)).status, (await kit.send(both)).code], [400, "invalid_request"]);
    // auth_mode in the query, a header or the body, without a signature.
    assert.equal((await unsigned("/v1/agent/whoami?auth_mode=bearer_only")).code, "signature_missing");
    for (const name of ["x-auth-mode", "auth-mode", "x-countersign-auth-mode"]) {
      assert.equal((await unsigned("/v1/agent/whoami", { [name]: "bearer_only" })).code, "signature_missing", name);
    }
    const bodyOnly = await unsigned("/test/agent/act", {}, { action_type: "deploy.web", auth_mode: "bearer_only" });
    assert.ok(["digest_mismatch", "signature_missing"].includes(String(bodyOnly.code)));

    // With a valid signature the same parameters change nothing: the row says signed.
    const signedWithHints = await kit.send(
      await kit.signed(agent.key, {
        url: "/v1/agent/whoami?auth_mode=bearer_only",
        headers: { "x-auth-mode": "bearer_only" },
      }),
    );
    assert.equal(signedWithHints.status, 200);
    assert.equal(signedWithHints.body.auth_mode, "signed");
    assert.equal(signedWithHints.body.verified, true);
  });

  it("refuses a revoked agent on the very next request, and audits the refusal", async () => {
    const bot = await kit.enrolledAgent(person.cookie);
    assert.equal((await kit.send(await kit.signed(bot.key))).status, 200);
    const prepared = await kit.signed(bot.key);
    await kit.call("POST", `/v1/agents/${bot.id}/revoke`, { cookie: person.cookie });
    const res = await kit.send(prepared);
    assert.deepEqual([res.status, res.code], [403, "agent_revoked"]);
    const refused = kit.audit.find((e) => e.type === "agent.request_refused" && e.subject?.id === bot.id);
    assert.equal(refused?.context?.code, "agent_revoked");
    assert.equal(refused?.context?.auth_mode, "signed");
    assert.equal(refused?.context?.key_id, bot.key.keyId);
    assert.deepEqual(refused?.actor, { kind: "agent", id: bot.id });
  });

  it("refuses the old key at once after a rotation, and accepts the newly enrolled one", async () => {
    const bot = await kit.enrolledAgent(person.cookie);
    const prepared = await kit.signed(bot.key);
    const rotation = await kit.call("POST", `/v1/agents/${bot.id}/rotate`, { cookie: person.cookie });
    assert.equal((await kit.send(prepared)).code, "agent_credentials_rotated");
    const fresh = await kit.newKey();
    const code = (rotation.body.credential as { code: string }).code;
    assert.equal((await kit.enroll(fresh, code)).status, 200);
    const whoami = await kit.send(await kit.signed(fresh));
    assert.equal(whoami.body.credentials_version, 2);
    assert.equal((await kit.send(await kit.signed(bot.key))).code, "agent_credentials_rotated");
  });

  it("refuses a suspended agent until it is resumed", async () => {
    const bot = await kit.enrolledAgent(person.cookie);
    await kit.call("POST", `/v1/agents/${bot.id}/suspend`, { cookie: person.cookie });
    assert.equal((await kit.send(await kit.signed(bot.key))).code, "agent_suspended");
    await kit.call("POST", `/v1/agents/${bot.id}/resume`, { cookie: person.cookie });
    assert.equal((await kit.send(await kit.signed(bot.key))).status, 200);
  });

  it("enforces an IPv4 and IPv6 allowlist on the socket address", async () => {
    const bot = await kit.enrolledAgent(person.cookie, { ip_allowlist: ["10.0.0.0/8", "2001:db8::/32"] });
    for (const remoteAddress of ["10.1.2.3", "::ffff:10.1.2.3", "2001:db8::5"]) {
      assert.equal((await kit.send(await kit.signed(bot.key, { remoteAddress }))).status, 200, remoteAddress);
    }
    for (const remoteAddress of ["192.0.2.1", "2001:db9::1", "::1"]) {
      const res = await kit.send(await kit.signed(bot.key, { remoteAddress }));
      assert.deepEqual([res.status, res.code], [403, "ip_not_allowed"], remoteAddress);
    }
    // No trusted proxy is configured: X-Forwarded-For is nobody's word.
    const spoofed = await kit.signed(bot.key, {
      remoteAddress: "192.0.2.1",
      headers: { "x-forwarded-for": "10.1.2.3" },
    });
    assert.equal((await kit.send(spoofed)).code, "ip_not_allowed");
    // An unconfigured proxy on an allowed address forwards for anyone: refused, not waved through.
    const forwardedByUnknownProxy = await kit.signed(bot.key, {
      remoteAddress: "10.1.2.3",
      headers: { "x-forwarded-for": "198.51.100.7" },
    });
    assert.equal((await kit.send(forwardedByUnknownProxy)).code, "ip_not_allowed");
    const audited = kit.audit.filter((e) => e.type === "agent.request_refused" && e.subject?.id === bot.id);
    assert.ok(audited.length >= 5 && audited.every((e) => e.context?.code === "ip_not_allowed"));
  });

  it("reads X-Forwarded-For only from the configured proxy", async () => {
    const bot = await proxied.enrolledAgent(await proxied.newPerson().then((p) => p.cookie), {
      ip_allowlist: ["10.0.0.0/8"],
    });
    const viaProxy = await proxied.signed(bot.key, {
      remoteAddress: "127.0.0.1",
      headers: { "x-forwarded-for": "10.9.9.9" },
    });
    assert.equal((await proxied.send(viaProxy)).status, 200);
    const proxyItself = await proxied.signed(bot.key, { remoteAddress: "127.0.0.1" });
    assert.equal((await proxied.send(proxyItself)).code, "ip_not_allowed");
    const spoofed = await proxied.signed(bot.key, {
      remoteAddress: "192.0.2.9",
      headers: { "x-forwarded-for": "10.9.9.9" },
    });
    assert.equal(
      (await proxied.send(spoofed)).code,
      "ip_not_allowed",
      "an untrusted peer's X-Forwarded-For is ignored",
    );
  });

  it("refuses an action type outside the allowlist, and audits it", async () => {
    assert.equal((await kit.send(await act(agent.key, "deploy.web.eu"))).status, 200);
    assert.equal((await kit.send(await act(agent.key, "db:migrate"))).status, 200);
    for (const actionType of ["deploy", "deployment.web", "db:migrate.all", "payments.send"]) {
      const res = await kit.send(await act(agent.key, actionType));
      assert.deepEqual([res.status, res.code], [403, "action_not_allowed"], actionType);
    }
    const audited = kit.audit.filter(
      (e) => e.type === "agent.request_refused" && e.context?.code === "action_not_allowed",
    );
    assert.equal(audited.length, 4);
  });

  it("sends forged and malformed requests to metrics and logs, never to the audit log", async () => {
    const failures = agentAuthMetrics(kit.metrics).failures;
    const before = { audit: kit.audit.length, invalid: failures.get({ code: "invalid_signature" }) };
    const stranger = await kit.newKey();
    for (let i = 0; i < 5; i++) {
      assert.equal((await kit.send(await kit.signed(stranger, { keyId: agent.key.keyId }))).code, "invalid_signature");
    }
    assert.equal((await kit.send(await kit.signed(stranger))).code, "invalid_signature");
    assert.equal(failures.get({ code: "invalid_signature" }), before.invalid + 6);
    assert.equal(kit.audit.length, before.audit);
    const scrape = await kit.app.inject({ method: "GET", url: "/metrics", headers: { host: HOST } });
    assert.equal(scrape.statusCode, 200);
    assert.match(
      scrape.body,
      new RegExp(`countersign_agent_auth_failures_total\\{code="invalid_signature"\\} ${before.invalid + 6}\n`),
    );
  });

  it("updates last used at most once a minute", async () => {
    const bot = await kit.enrolledAgent(person.cookie);
    const lastUsed = async () =>
      (
        await ctx.db.query<{ last_used_at: Date | null }>("SELECT last_used_at FROM agents WHERE id = $1", [bot.id])
      ).rows[0]?.last_used_at?.getTime() ?? null;
    assert.equal(await lastUsed(), null);
    const first = kit.clock.now();
    await kit.send(await kit.signed(bot.key));
    assert.equal(await lastUsed(), first);
    kit.clock.advance(59_000);
    await kit.send(await kit.signed(bot.key));
    assert.equal(await lastUsed(), first, "not again within the minute");
    kit.clock.advance(2_000);
    await kit.send(await kit.signed(bot.key));
    assert.equal(await lastUsed(), kit.clock.now());
    const listed = await kit.call("GET", `/v1/agents/${bot.id}`, { cookie: person.cookie });
    assert.equal((listed.body.agent as { last_used_at: string }).last_used_at, new Date(kit.clock.now()).toISOString());
  });
});
