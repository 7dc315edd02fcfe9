import assert from "node:assert/strict";
import { generateKeyPairSync, sign } from "node:crypto";
import { before, describe, it } from "node:test";
import {
  createContentDigest,
  fromBase64Url,
  generateEd25519KeyPair,
  importEd25519PublicKey,
  randomBytes,
  signRequest,
  toBase64Url,
  utf8,
} from "@countersign/protocol";
import type { FastifyInstance, FastifyRequest, InjectOptions } from "fastify";
import { httpbis } from "http-message-signatures";
import { createManualClock } from "../../test-support/manual-clock.ts";
import { createTestApp } from "../../test-support/test-app.ts";
import { describeEachDatabase } from "../../test-support/test-database.ts";
import type { AgentRequestDeps, AuthenticatedAgent, ResolvedAgentKey } from "./agent-request.ts";
import { AGENT_REQUEST_CHECKS, runAgentRequestPipeline } from "./agent-request-pipeline.ts";
import { checkHost } from "./checks/check-host.ts";
import { checkTimeWindow } from "./checks/check-time-window.ts";
import { consumeNonce, sweepExpiredNonces } from "./nonce-store.ts";

const HOST = "localhost:8787";
const KEY_ID = "agt_test_key";

interface SignOptions {
  method?: string;
  url?: string;
  body?: unknown;
  headers?: Record<string, string>;
  created?: number;
  nonce?: string;
  privateKey?: CryptoKey;
  keyId?: string;
}

/** An active signed agent with no allowlist, as the agents domain would resolve it. */
function fakeAgent(id: string): AuthenticatedAgent {
  return {
    id,
    userId: "usr_test",
    name: id,
    authMode: "signed",
    status: "active",
    credentialsVersion: 1,
    allowedActions: ["deploy.*"],
    ipAllowlist: [],
    defaultTtlSeconds: 300,
    lastUsedAt: null,
    e2eAccountKeyId: null,
  };
}

function withoutHeader(headers: Record<string, string>, name: string): Record<string, string> {
  const { [name]: _removed, ...rest } = headers;
  return rest;
}

describeEachDatabase("the agent request pipeline", (ctx) => {
  const clock = createManualClock();
  let app: FastifyInstance;
  let agentKeys: CryptoKeyPair;
  const resolved = new Map<string, ResolvedAgentKey>();
  /** What `afterAgentAuth` saw on each call, and how many times the handler behind it ran. */
  const early: { agent: string | undefined; keyHeld: boolean }[] = [];
  let handled = 0;

  before(async () => {
    agentKeys = await generateEd25519KeyPair();
    resolved.set(KEY_ID, { publicKey: agentKeys.publicKey, credentialsVersion: 1, agent: fakeAgent("agt_1") });
    app = await createTestApp(ctx.db, { clock, resolveAgentKey: async (keyId) => resolved.get(keyId) ?? null });
    const handler = async (request: FastifyRequest) => ({
      agent: request.agentAuth?.agent.id,
      nonce: request.agentAuth?.nonce,
    });
    app.post("/test/signed", { config: { surface: "api", agentAuth: true } }, handler);
    app.get("/test/signed", { config: { surface: "api", agentAuth: true } }, handler);
    const afterAuth = (request: FastifyRequest) => {
      early.push({ agent: request.agentAuth?.agent.id, keyHeld: request.idempotency !== undefined });
    };
    app.post("/test/early", { config: { surface: "api", agentAuth: true, afterAgentAuth: afterAuth } }, async () => {
      handled += 1;
      return { handled };
    });
    await app.ready();
  });

  const nowSeconds = () => Math.floor(clock.now() / 1000);

  /** Signs a request the way an agent would and returns inject options for it. */
  async function signed(options: SignOptions = {}): Promise<InjectOptions & { headers: Record<string, string> }> {
    const method = options.method ?? "POST";
    const url = options.url ?? "/test/signed?dry_run=1";
    const body = options.body === undefined ? undefined : utf8(JSON.stringify(options.body));
    const q = url.indexOf("?");
    const headers: Record<string, string> = {
      ...(body ? { "content-type": "application/json" } : {}),
      // Agent POSTs need an Idempotency-Key (T-8); a fresh one unless the test names one.
      ...(method === "POST" ? { "idempotency-key": toBase64Url(randomBytes(12)) } : {}),
      ...options.headers,
    };
    const added = await signRequest(
      {
        method,
        authority: HOST,
        path: q === -1 ? url : url.slice(0, q),
        query: q === -1 ? "" : url.slice(q),
        headers,
        ...(body ? { body } : {}),
      },
      { keyId: options.keyId ?? KEY_ID, privateKey: options.privateKey ?? agentKeys.privateKey },
      { created: options.created ?? nowSeconds(), ...(options.nonce ? { nonce: options.nonce } : {}) },
    );
    return {
      method: method as InjectOptions["method"],
      url,
      headers: { host: HOST, ...headers, ...added },
      ...(body ? { payload: Buffer.from(body) } : {}),
    };
  }

  async function send(request: InjectOptions) {
    const res = await app.inject(request);
    return {
      status: res.statusCode,
      code: res.statusCode >= 400 ? res.json().error.code : undefined,
      body: res.json(),
    };
  }

  it("accepts a signed POST with a body and a signed GET, and names the agent", async () => {
    const post = await send(await signed({ body: { action_type: "deploy" }, headers: { "idempotency-key": "k-1" } }));
    assert.equal(post.status, 200);
    assert.equal(post.body.agent, "agt_1");
    const get = await send(await signed({ method: "GET", url: "/test/signed?x=1&y=%2F" }));
    assert.equal(get.status, 200);
  });

  it("refuses an unsigned request with signature_missing", async () => {
    const res = await send({ method: "GET", url: "/test/signed", headers: { host: HOST } });
    assert.deepEqual([res.status, res.code], [401, "signature_missing"]);
  });

  it("refuses a replay of a captured request with nonce_replay", async () => {
    const request = await signed({ body: { n: 1 } });
    assert.equal((await send(request)).status, 200);
    assert.deepEqual((await send(request)).code, "nonce_replay");
  });

  it("lets exactly one of many concurrent replays through", async () => {
    const request = await signed({ body: { n: 2 } });
    const results = await Promise.all(Array.from({ length: 20 }, () => send(request)));
    assert.equal(results.filter((r) => r.status === 200).length, 1);
    assert.ok(results.filter((r) => r.status !== 200).every((r) => r.code === "nonce_replay"));
  });

  it("refuses a signature created more than 300 s ago or ahead, and accepts one within", async () => {
    const now = nowSeconds();
    assert.equal((await send(await signed({ created: now - 301 }))).code, "signature_expired");
    assert.equal((await send(await signed({ created: now + 301 }))).code, "signature_expired");
    assert.equal((await send(await signed({ created: now - 299 }))).status, 200);
    assert.equal((await send(await signed({ created: now + 299 }))).status, 200);
  });

  it("refuses a request held back until its signature is stale", async () => {
    const request = await signed({ body: { n: 3 } });
    clock.advance(301_000);
    assert.equal((await send(request)).code, "signature_expired");
  });

  it("refuses a changed body with digest_mismatch, even with a matching new digest", async () => {
    const request = await signed({ body: { amount: 10 } });
    const tampered = { ...request, payload: Buffer.from(JSON.stringify({ amount: 99 })) };
    assert.deepEqual((await send(tampered)).code, "digest_mismatch");
    const redigested = {
      ...tampered,
      headers: {
        ...request.headers,
        "content-digest": await createContentDigest(utf8(JSON.stringify({ amount: 99 }))),
      },
    };
    assert.deepEqual((await send(redigested)).code, "invalid_signature");
  });

  it("refuses a body sent without a Content-Digest", async () => {
    const request = await signed({ method: "POST", url: "/test/signed" });
    const withBody = {
      ...request,
      headers: { ...request.headers, "content-type": "application/json" },
      payload: Buffer.from('{"sneaked":true}'),
    };
    assert.deepEqual((await send(withBody)).code, "digest_mismatch");
  });

  it("refuses a changed path, query, method or idempotency key with invalid_signature", async () => {
    const request = await signed({
      url: "/test/signed?dry_run=1",
      body: { n: 4 },
      headers: { "idempotency-key": "a" },
    });
    const variants: [InjectOptions, string][] = [
      [{ ...request, url: "/test/signed?dry_run=0" }, "invalid_signature"],
      [{ ...request, url: "/test/signed" }, "invalid_signature"],
      [{ ...request, url: "/test/signed?dry_run=1&extra=1" }, "invalid_signature"],
      // Without its body the signed digest no longer matches, which is checked first.
      [{ ...request, method: "GET", payload: undefined as never }, "digest_mismatch"],
      [{ ...request, headers: { ...request.headers, "idempotency-key": "b" } }, "invalid_signature"],
      [{ ...request, headers: withoutHeader(request.headers, "idempotency-key") }, "invalid_signature"],
    ];
    for (const [variant, code] of variants) {
      assert.equal((await send(variant)).code, code, `${variant.method} ${variant.url}`);
    }
    // The original still goes through: none of the refusals spent its nonce.
    assert.equal((await send(request)).status, 200);
  });

  it("refuses a request sent to another host", async () => {
    const request = await signed({ body: { n: 5 } });
    const res = await send({ ...request, headers: { ...request.headers, host: "api.elsewhere.example" } });
    assert.deepEqual([res.status, res.code], [421, "misdirected_request"]);
  });

  it("refuses an unknown key id and a signature by another key alike", async () => {
    const other = await generateEd25519KeyPair();
    assert.equal((await send(await signed({ keyId: "agt_unknown" }))).code, "invalid_signature");
    assert.equal((await send(await signed({ privateKey: other.privateKey }))).code, "invalid_signature");
  });

  it("refuses a request whose key was removed, at once", async () => {
    const request = await signed({ body: { n: 6 } });
    const saved = resolved.get(KEY_ID);
    resolved.delete(KEY_ID);
    try {
      assert.equal((await send(request)).code, "invalid_signature");
    } finally {
      if (saved) resolved.set(KEY_ID, saved);
    }
  });

  it("accepts a request signed by an independent RFC 9421 implementation, and refuses it after one changed byte", async () => {
    const { privateKey, publicKey } = generateKeyPairSync("ed25519");
    const raw = fromBase64Url(String(publicKey.export({ format: "jwk" }).x));
    const imported = raw && (await importEd25519PublicKey(raw));
    assert.ok(imported);
    resolved.set("agt_interop", { publicKey: imported, credentialsVersion: 1, agent: fakeAgent("agt_interop_agent") });
    const body = utf8(JSON.stringify({ action_type: "deploy.production", title: "Ship it" }));
    const message = await httpbis.signMessage(
      {
        key: { id: "agt_interop", alg: "ed25519", sign: async (data: Buffer) => sign(null, data, privateKey) },
        name: "cs",
        fields: ["@method", "@authority", "@path", "@query", "content-digest", "idempotency-key"],
        params: ["created", "nonce", "keyid", "alg", "tag"],
        paramValues: { created: new Date(clock.now()), nonce: toBase64Url(randomBytes(16)), tag: "countersign" },
      },
      {
        method: "POST",
        url: `http://${HOST}/test/signed?dry_run=1`,
        headers: {
          "content-type": "application/json",
          "content-digest": await createContentDigest(body),
          "idempotency-key": "interop-1",
        },
      },
    );
    const headers = { host: HOST, ...(message.headers as Record<string, string>) };
    const request = { method: "POST" as const, url: "/test/signed?dry_run=1", headers, payload: Buffer.from(body) };

    const changed = Buffer.from(body);
    changed.writeUInt8((changed.at(-3) ?? 0) ^ 0x01, changed.length - 3);
    assert.equal((await send({ ...request, payload: changed })).code, "digest_mismatch");
    const changedKey = { ...request, headers: { ...headers, "idempotency-key": "interop-2" } };
    assert.equal((await send(changedKey)).code, "invalid_signature");

    const accepted = await send(request);
    assert.equal(accepted.status, 200);
    assert.equal(accepted.body.agent, "agt_interop_agent");
  });

  it("runs the checks in the documented order", () => {
    assert.deepEqual(
      AGENT_REQUEST_CHECKS.map((check) => check.name),
      [
        "checkHost",
        "checkContentDigest",
        "checkSignature",
        "checkTimeWindow",
        "checkNonce",
        "checkAgentCurrent",
        "checkAgentState",
        "checkIpAllowlist",
      ],
    );
  });

  it("spends no nonce on a request that fails an earlier check", async () => {
    const nonce = toBase64Url(randomBytes(16));
    const stale = await signed({ created: nowSeconds() - 1_000, nonce });
    assert.equal((await send(stale)).code, "signature_expired");
    assert.equal((await send(await signed({ nonce }))).status, 200);
  });

  it("calls a route's afterAgentAuth once the agent is known and before its Idempotency-Key is claimed, never for a refusal", async () => {
    early.length = 0;
    const first = await signed({ url: "/test/early", body: { n: 1 }, headers: { "idempotency-key": "early-1" } });
    assert.equal((await send(first)).status, 200);
    assert.deepEqual(early, [{ agent: "agt_1", keyHeld: false }]);
    // The same request again (a new signature): the claim answers it from storage.
    const again = await signed({ url: "/test/early", body: { n: 1 }, headers: { "idempotency-key": "early-1" } });
    const replayed = await app.inject(again);
    assert.equal(replayed.headers["idempotency-replayed"], "true");
    assert.deepEqual(replayed.json(), { handled: 1 });
    assert.equal(early.length, 2, "called for the replay too: it may only start reads");
    // Refused by the pipeline: a captured request sent twice, and an unsigned one.
    assert.equal((await send(first)).code, "nonce_replay");
    assert.equal((await send({ method: "POST", url: "/test/early", headers: { host: HOST } })).status, 401);
    assert.equal(early.length, 2);
  });

  describe("the nonce store", () => {
    it("refuses a nonce while it is live and takes it back once expired", async () => {
      const input = { keyId: "k-store", nonce: "n-store", nowMs: clock.now(), ttlSeconds: 600 };
      assert.equal(await consumeNonce(ctx.db, input), true);
      assert.equal(await consumeNonce(ctx.db, { ...input, nowMs: input.nowMs + 599_000 }), false);
      assert.equal(await consumeNonce(ctx.db, { ...input, keyId: "k-other" }), true, "nonces are per key");
      assert.equal(await consumeNonce(ctx.db, { ...input, nowMs: input.nowMs + 600_000 }), true);
    });

    it("sweeps expired nonces only", async () => {
      const base = clock.now() + 10_000_000;
      await consumeNonce(ctx.db, { keyId: "k-sweep", nonce: "old", nowMs: base, ttlSeconds: 600 });
      await consumeNonce(ctx.db, { keyId: "k-sweep", nonce: "new", nowMs: base + 500_000, ttlSeconds: 600 });
      await sweepExpiredNonces(ctx.db, base + 700_000);
      const { rows } = await ctx.db.query<{ nonce: string }>(
        "SELECT nonce FROM agent_request_nonces WHERE key_id = 'k-sweep' ORDER BY nonce",
      );
      assert.deepEqual(
        rows.map((r) => r.nonce),
        ["new"],
      );
    });
  });
});

describe("the checks on their own", () => {
  const deps = (clockMs: number) =>
    ({
      apiHost: HOST,
      clock: { now: () => clockMs },
      maxSkewSeconds: 300,
      nonceTtlSeconds: 600,
    }) as unknown as AgentRequestDeps;
  const request = (authority: string) => ({
    parts: { method: "GET", authority, path: "/", query: "", headers: {} },
    body: undefined,
    clientIp: "127.0.0.1",
  });

  it("checkHost refuses any authority but the API host", () => {
    assert.doesNotThrow(() => checkHost(request(HOST), {}, deps(0)));
    assert.throws(() => checkHost(request("localhost:8788"), {}, deps(0)), { code: "misdirected_request" });
  });

  it("checkTimeWindow refuses when there is no verified signature yet", () => {
    assert.throws(() => checkTimeWindow(request(HOST), {}, deps(0)), { code: "invalid_signature" });
  });

  it("a pipeline stops at the first refusal", async () => {
    const seen: string[] = [];
    const pass = (name: string) => () => {
      seen.push(name);
    };
    await assert.rejects(runAgentRequestPipeline(request("elsewhere"), deps(0), [pass("a"), checkHost, pass("b")]), {
      code: "misdirected_request",
    });
    assert.deepEqual(seen, ["a"]);
  });
});
