import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CountersignError, exportEd25519PublicKey, generateEd25519KeyPair, verifyRequest } from "@countersign/protocol";
import { agentKeyId } from "./agent-key-id.ts";
import { createSignedTransport } from "./signed-transport.ts";

interface Sent {
  url: URL;
  method: string;
  headers: Record<string, string>;
  body: Uint8Array | undefined;
}

async function setup(answers: Array<() => Response | Promise<Response>>, retries = 3) {
  const keys = await generateEd25519KeyPair();
  const keyId = agentKeyId(await exportEd25519PublicKey(keys.publicKey));
  const sent: Sent[] = [];
  const fetch = (async (input: URL, init: RequestInit) => {
    sent.push({
      url: input,
      method: String(init.method),
      headers: init.headers as Record<string, string>,
      body: init.body as Uint8Array | undefined,
    });
    const answer = answers.shift();
    if (answer === undefined) throw new Error("no more answers");
    return answer();
  }) as typeof globalThis.fetch;
  const transport = createSignedTransport({
    server: new URL("https://api.countersign.example"),
    signer: { keyId, privateKey: keys.privateKey },
    fetch,
    now: () => 1_795_000_000_000,
    requestTimeoutMs: 1_000,
    retries,
  });
  const verify = (request: Sent) =>
    verifyRequest(
      {
        method: request.method,
        authority: request.url.host,
        path: request.url.pathname,
        query: request.url.search,
        headers: request.headers,
        ...(request.body ? { body: request.body } : {}),
      },
      { resolveKey: async (id) => (id === keyId ? keys.publicKey : null), now: 1_795_000_000 },
    );
  return { transport, sent, verify };
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });

describe("the signed transport", () => {
  it("retries network failures and 503s with the same body and Idempotency-Key, signed afresh each time", async () => {
    const { transport, sent, verify } = await setup([
      () => {
        throw new TypeError("fetch failed");
      },
      () => new Response("<html>bad gateway</html>", { status: 503 }),
      () => json(201, { ok: true }),
    ]);
    const answer = await transport.json("POST", "/v1/approvals", { json: { title: "x" }, idempotencyKey: "key-1" });
    assert.deepEqual(answer, { status: 201, body: { ok: true } });
    assert.equal(sent.length, 3);
    const nonces = new Set<string>();
    for (const request of sent) {
      assert.equal(request.headers["idempotency-key"], "key-1");
      assert.deepEqual(request.body, sent[0]?.body);
      const result = await verify(request);
      assert.ok(result.ok, JSON.stringify(result));
      nonces.add(result.nonce);
    }
    assert.equal(nonces.size, 3, "a new nonce for every attempt");
  });

  it("throws the server's coded error at once when retrying cannot help", async () => {
    const { transport, sent } = await setup([
      () =>
        json(403, { error: { code: "action_not_allowed", message: "No.", request_id: "req-9", details: { a: 1 } } }),
    ]);
    await assert.rejects(
      transport.json("GET", "/v1/agent/whoami"),
      (e: unknown) =>
        e instanceof CountersignError &&
        e.code === "action_not_allowed" &&
        e.message === "No." &&
        e.details?.a === 1 &&
        (e.cause as { requestId: string }).requestId === "req-9",
    );
    assert.equal(sent.length, 1);
  });

  it("waits out a short Retry-After, and hands back a long one", async () => {
    const short = await setup([
      () => json(409, { error: { code: "idempotency_key_in_progress" } }, { "retry-after": "0" }),
      () => json(200, {}),
    ]);
    assert.equal((await short.transport.json("POST", "/x", { json: {}, idempotencyKey: "k" })).status, 200);
    const long = await setup([() => json(429, { error: { code: "cooldown_active" } }, { "retry-after": "600" })]);
    await assert.rejects(
      long.transport.json("POST", "/x", { json: {}, idempotencyKey: "k" }),
      (e: unknown) => e instanceof CountersignError && e.code === "cooldown_active" && e.retryAfter === 600,
    );
    assert.equal(long.sent.length, 1);
  });

  it("gives up after its retries with service_unavailable, keeping the cause", async () => {
    const failure = () => {
      throw new TypeError("ECONNREFUSED");
    };
    const { transport, sent } = await setup([failure, failure, failure], 2);
    await assert.rejects(
      transport.json("GET", "/v1/agent/whoami"),
      (e: unknown) =>
        e instanceof CountersignError &&
        e.code === "service_unavailable" &&
        String((e.cause as Error).message) === "ECONNREFUSED",
    );
    assert.equal(sent.length, 3);
  });

  it("rejects with the caller's abort reason, not a CountersignError", async () => {
    const { transport } = await setup([() => json(200, {})]);
    const controller = new AbortController();
    controller.abort(new Error("stop"));
    await assert.rejects(transport.json("GET", "/x", { signal: controller.signal }), /stop/);
  });
});
