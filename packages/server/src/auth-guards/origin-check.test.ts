import assert from "node:assert/strict";
import { before, it } from "node:test";
import type { FastifyInstance } from "fastify";
import { createTestApp } from "../../test-support/test-app.ts";
import { describeEachDatabase } from "../../test-support/test-database.ts";

const HOST = "localhost:8787";
const ORIGIN = "http://localhost:8787";

describeEachDatabase("the Origin check (CSRF)", (ctx) => {
  let app: FastifyInstance;
  let handled = 0;

  before(async () => {
    app = await createTestApp(ctx.db);
    const count = async () => {
      handled += 1;
      return { ok: true };
    };
    app.route({
      method: ["GET", "POST", "PUT", "PATCH", "DELETE"],
      url: "/test/app",
      config: { surface: "app" },
      handler: count,
    });
    app.post("/test/api", { config: { surface: "api" } }, count);
    await app.ready();
  });

  function send(method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE", url: string, origin?: string) {
    return app.inject({
      method,
      url,
      headers: { host: HOST, "content-type": "application/json", ...(origin === undefined ? {} : { origin }) },
      ...(method === "GET" ? {} : { payload: "{}" }),
    });
  }

  it("lets a state-changing app request through with exactly the app's origin", async () => {
    for (const method of ["POST", "PUT", "PATCH", "DELETE"] as const) {
      const res = await send(method, "/test/app", ORIGIN);
      assert.equal(res.statusCode, 200, method);
    }
  });

  it("refuses it with 403 origin_mismatch, before the handler, for any other or missing Origin", async () => {
    const before = handled;
    const origins = [
      undefined,
      "",
      "null",
      "https://evil.example",
      "http://localhost:8787/",
      "HTTP://LOCALHOST:8787",
      "http://localhost:8788",
      "https://localhost:8787",
      "http://localhost",
      "http://localhost:8787.evil.example",
      `${ORIGIN}, ${ORIGIN}`,
    ];
    for (const method of ["POST", "PUT", "PATCH", "DELETE"] as const) {
      for (const origin of origins) {
        const res = await send(method, "/test/app", origin);
        assert.equal(res.statusCode, 403, `${method} with Origin ${JSON.stringify(origin)}`);
        assert.equal(res.json().error.code, "origin_mismatch");
      }
    }
    assert.equal(handled, before, "no handler ran");
  });

  it("does not check reads, or the agent API (which is signed, not cookie-authenticated)", async () => {
    assert.equal((await send("GET", "/test/app", "https://evil.example")).statusCode, 200);
    assert.equal((await send("GET", "/test/app")).statusCode, 200);
    assert.equal((await send("POST", "/test/api", "https://evil.example")).statusCode, 200);
  });
});
