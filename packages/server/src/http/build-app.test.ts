import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import SwaggerParser from "@apidevtools/swagger-parser";
import { CountersignError } from "@countersign/protocol";
import type { FastifyInstance } from "fastify";
import { Type } from "typebox";
import { createTestApp, createTestConfig } from "../../test-support/test-app.ts";
import { describeEachDatabase } from "../../test-support/test-database.ts";

const APP_HOST = "localhost:8787";
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describeEachDatabase("the HTTP skeleton", (ctx) => {
  let app: FastifyInstance;

  before(async () => {
    app = await createTestApp(ctx.db);
    app.post(
      "/test/echo",
      {
        config: { surface: "app" },
        schema: { body: Type.Object({ n: Type.Integer({ minimum: 0 }) }, { additionalProperties: false }) },
      },
      async (request) => request.body,
    );
    app.get("/test/boom", { config: { surface: "app" } }, async () => {
      throw new Error("database password is hunter2");
    });
    app.get("/test/cooldown", { config: { surface: "api" } }, async () => {
      throw new CountersignError("cooldown_active", { retryAfter: 42.2 });
    });
    await app.ready();
  });

  it("answers /healthz and /readyz with 200 and a request id", async () => {
    for (const url of ["/healthz", "/readyz"]) {
      const res = await app.inject({ method: "GET", url, headers: { host: APP_HOST } });
      assert.equal(res.statusCode, 200, url);
      assert.deepEqual(res.json(), { status: "ok" });
      assert.match(String(res.headers["x-request-id"]), UUID);
    }
  });

  it("never takes a request id from the client", async () => {
    const res = await app.inject({ method: "GET", url: "/healthz", headers: { host: APP_HOST, "request-id": "evil" } });
    assert.notEqual(res.headers["x-request-id"], "evil");
    assert.match(String(res.headers["x-request-id"]), UUID);
  });

  it("serves a valid OpenAPI 3.1 document", async () => {
    const res = await app.inject({ method: "GET", url: "/openapi.json", headers: { host: APP_HOST } });
    assert.equal(res.statusCode, 200);
    const document = res.json();
    assert.equal(document.openapi, "3.1.0");
    assert.ok(document.paths["/healthz"]);
    assert.ok(document.paths["/readyz"]);
    await SwaggerParser.validate(structuredClone(document));
  });

  it("answers 421 misdirected_request when Host is not the route's host", async () => {
    for (const host of ["evil.example", "LOCALHOST:8788", "127.0.0.1:8787"]) {
      const res = await app.inject({ method: "POST", url: "/test/echo", headers: { host }, payload: { n: 1 } });
      assert.equal(res.statusCode, 421, host);
      assert.equal(res.json().error.code, "misdirected_request");
    }
    const ok = await app.inject({
      method: "POST",
      url: "/test/echo",
      // A state-changing app route also needs the app's Origin (CSRF, src/auth-guards/origin-check.ts).
      headers: { host: "LocalHost:8787", origin: "http://localhost:8787" },
      payload: { n: 1 },
    });
    assert.equal(ok.statusCode, 200, "host comparison ignores case");
  });

  it("puts the request id in every error body", async () => {
    const res = await app.inject({ method: "GET", url: "/nowhere", headers: { host: APP_HOST } });
    assert.equal(res.statusCode, 404);
    assert.deepEqual(res.json(), {
      error: {
        code: "not_found",
        message: "Nothing was found at this address.",
        request_id: res.headers["x-request-id"],
      },
    });
  });

  it("refuses bodies that are not JSON, malformed JSON, prototype pollution and oversize bodies", async () => {
    const cases = [
      { headers: { "content-type": "text/plain" }, payload: '{"n":1}', status: 415, code: "unsupported_media_type" },
      {
        headers: { "content-type": "application/x-www-form-urlencoded" },
        payload: "n=1",
        status: 415,
        code: "unsupported_media_type",
      },
      { headers: { "content-type": "application/json" }, payload: '{"n":', status: 400, code: "invalid_json" },
      {
        headers: { "content-type": "application/json" },
        payload: Buffer.from([0x7b, 0xff, 0x7d]),
        status: 400,
        code: "invalid_json",
      },
      {
        headers: { "content-type": "application/json" },
        payload: '{"__proto__":{"x":1},"n":1}',
        status: 400,
        code: "invalid_json",
      },
      {
        headers: { "content-type": "application/json" },
        payload: `{"n":1,"pad":"${"x".repeat(70_000)}"}`,
        status: 413,
        code: "payload_too_large",
      },
    ];
    for (const c of cases) {
      const res = await app.inject({
        method: "POST",
        url: "/test/echo",
        headers: { host: APP_HOST, origin: "http://localhost:8787", ...c.headers },
        payload: c.payload,
      });
      assert.equal(res.statusCode, c.status, c.code);
      assert.equal(res.json().error.code, c.code);
    }
  });

  it("reports schema violations as validation_failed with public details", async () => {
    const res = await app.inject({
      method: "POST",
      url: "/test/echo",
      headers: { host: APP_HOST, origin: "http://localhost:8787" },
      payload: { n: -1 },
    });
    assert.equal(res.statusCode, 400);
    const body = res.json();
    assert.equal(body.error.code, "validation_failed");
    assert.equal(body.error.details.in, "body");
    assert.equal(body.error.details.issues[0].path, "/n");
  });

  it("turns unexpected errors into a detail-free 500 internal_error", async () => {
    const res = await app.inject({ method: "GET", url: "/test/boom", headers: { host: APP_HOST } });
    assert.equal(res.statusCode, 500);
    assert.equal(res.json().error.code, "internal_error");
    assert.doesNotMatch(res.body, /hunter2|Error|stack/);
  });

  it("sends Retry-After for coded errors that carry one", async () => {
    const res = await app.inject({ method: "GET", url: "/test/cooldown", headers: { host: APP_HOST } });
    assert.equal(res.statusCode, 429);
    assert.equal(res.headers["retry-after"], "43");
    assert.equal(res.json().error.code, "cooldown_active");
  });

  it("sets security headers and no-store on every response", async () => {
    const res = await app.inject({ method: "GET", url: "/healthz", headers: { host: APP_HOST } });
    assert.equal(res.headers["x-content-type-options"], "nosniff");
    assert.equal(res.headers["referrer-policy"], "no-referrer");
    assert.equal(res.headers["cache-control"], "no-store");
    assert.match(String(res.headers["content-security-policy"]), /default-src 'self'/);
    assert.match(String(res.headers["content-security-policy"]), /frame-ancestors 'none'/);
    assert.equal(res.headers["strict-transport-security"], undefined, "no HSTS over plain http");
  });

  it("gives API routes the short set for APIs: nothing may load, frame or sniff their answers", async () => {
    const api = await app.inject({ method: "GET", url: "/test/cooldown", headers: { host: APP_HOST } });
    assert.equal(api.statusCode, 429, "a refusal carries them too");
    assert.equal(api.headers["content-security-policy"], "default-src 'none';frame-ancestors 'none'");
    assert.equal(api.headers["x-content-type-options"], "nosniff");
    assert.equal(api.headers["x-frame-options"], "DENY");
    assert.equal(api.headers["referrer-policy"], "no-referrer");
    assert.equal(api.headers["cross-origin-resource-policy"], "same-origin");
    assert.equal(api.headers["cache-control"], "no-store");
    const pageOnly = [
      "cross-origin-opener-policy",
      "origin-agent-cluster",
      "x-dns-prefetch-control",
      "x-xss-protection",
    ];
    for (const name of pageOnly) assert.equal(api.headers[name], undefined, name);

    const page = await app.inject({ method: "GET", url: "/healthz", headers: { host: APP_HOST } });
    for (const name of pageOnly) assert.notEqual(page.headers[name], undefined, name);
    const unmatched = await app.inject({ method: "GET", url: "/no/such/route", headers: { host: APP_HOST } });
    assert.match(String(unmatched.headers["content-security-policy"]), /default-src 'self'/);
  });

  it("refuses at start-up a route that does not declare its host surface", async () => {
    const other = await createTestApp(ctx.db);
    assert.throws(() => other.get("/unguarded", async () => "x"), /must declare config.surface/);
    await other.close();
  });

  it("sends HSTS when the public URL is https", async () => {
    const https = await createTestApp(ctx.db, {
      config: createTestConfig({ COUNTERSIGN_PUBLIC_URL: "https://approve.example.com" }),
    });
    const res = await https.inject({ method: "GET", url: "/healthz", headers: { host: "approve.example.com" } });
    assert.match(String(res.headers["strict-transport-security"]), /max-age=31536000/);
    await https.close();
  });
});

describe("the API and app hosts", () => {
  it("route each surface to its own host only", async () => {
    const { createTestDatabase } = await import("../../test-support/test-database.ts");
    const { db, dispose } = await createTestDatabase("pglite");
    try {
      const app = await createTestApp(db, {
        config: createTestConfig({ COUNTERSIGN_APP_HOST: "app.example", COUNTERSIGN_API_HOST: "api.example" }),
      });
      app.get("/test/app", { config: { surface: "app" } }, async () => "app");
      app.get("/test/api", { config: { surface: "api" } }, async () => "api");
      const status = async (url: string, host: string) =>
        (await app.inject({ method: "GET", url, headers: { host } })).statusCode;
      assert.equal(await status("/test/app", "app.example"), 200);
      assert.equal(await status("/test/app", "api.example"), 421);
      assert.equal(await status("/test/api", "api.example"), 200);
      assert.equal(await status("/test/api", "app.example"), 421);
      assert.equal(await status("/healthz", "api.example"), 200);
      assert.equal(await status("/healthz", "app.example"), 200);
      assert.equal(await status("/healthz", "other.example"), 421);
      await app.close();
    } finally {
      await dispose();
    }
  });
});
