import assert from "node:assert/strict";
import { it } from "node:test";
import { createTestConfig } from "../../test-support/test-app.ts";
import { describeEachDatabase } from "../../test-support/test-database.ts";
import { buildApp } from "./build-app.ts";

describeEachDatabase("request logging", (ctx) => {
  it("writes JSON lines with the request id and never a secret header, cookie or credential field", async () => {
    const lines: string[] = [];
    const app = await buildApp({
      config: createTestConfig(),
      db: ctx.db,
      logLevel: "trace",
      logStream: { write: (line) => lines.push(line) },
    });
    app.post("/test/login", { config: { surface: "app" } }, async (request) => {
      request.log.info({ attempt: request.body }, "login attempt");
      return { ok: true };
    });
    const res = await app.inject({
      method: "POST",
      url: "/test/login",
      headers: {
        host: "localhost:8787",
        origin: "http://localhost:8787",
        authorization: "Bearer cs_agt_SECRET-TOKEN",
        cookie: "__Host-cs_session=SECRET-SESSION",
        signature: "cs=:SECRET-SIG:",
        "idempotency-key": "SECRET-IDEMPOTENCY",
      },
      payload: { email: "a@example.com", password: "SECRET-PASSWORD", code: "SECRET-CODE", token: "SECRET-T" },
    });
    assert.equal(res.statusCode, 200);
    await app.close();

    const records = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    const mine = records.filter((r) => r.reqId === res.headers["x-request-id"]);
    assert.ok(
      mine.some((r) => r.msg === "login attempt"),
      "the handler's line carries the request id",
    );
    const all = lines.join("\n");
    assert.doesNotMatch(all, /SECRET/);
    assert.match(all, /\[redacted\]/);
  });

  it("logs a request's path without its query string, where a pasted link's secret could sit", async () => {
    const lines: string[] = [];
    const app = await buildApp({
      config: createTestConfig(),
      db: ctx.db,
      logStream: { write: (line) => lines.push(line) },
    });
    const res = await app.inject({
      method: "GET",
      url: "/devices?pair=SECRETCD&x=1",
      headers: { host: "localhost:8787" },
    });
    await app.close();
    const incoming = lines
      .map((line) => JSON.parse(line) as { msg?: string; req?: { url?: string; method?: string } })
      .find((record) => record.msg === "incoming request");
    assert.ok(incoming, `the request was logged (${res.statusCode})`);
    assert.equal(incoming.req?.method, "GET");
    assert.equal(incoming.req?.url, "/devices?[redacted]");
    assert.doesNotMatch(lines.join("\n"), /SECRETCD/);
  });
});
