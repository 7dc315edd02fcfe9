import assert from "node:assert/strict";
import { before, it } from "node:test";
import { createTestApp, createTestConfig } from "../../test-support/test-app.ts";
import { describeEachDatabase } from "../../test-support/test-database.ts";
import { ConfigError } from "../config/config-error.ts";
import { loadConfig } from "../config/load-config.ts";
import { createMetricsRegistry } from "./metrics-registry.ts";

const HOST = "localhost:8787";

describeEachDatabase("GET /metrics", (ctx) => {
  const metrics = createMetricsRegistry();
  let app: Awaited<ReturnType<typeof createTestApp>>;
  let proxied: Awaited<ReturnType<typeof createTestApp>>;

  before(async () => {
    metrics.counter("countersign_test_total", "A test counter.", ["kind"]).inc({ kind: "x" });
    app = await createTestApp(ctx.db, {
      config: createTestConfig({ COUNTERSIGN_METRICS_ALLOW: "10.20.0.0/16,2001:db8::/32" }),
      services: { metrics },
    });
    proxied = await createTestApp(ctx.db, {
      config: createTestConfig({ COUNTERSIGN_TRUST_PROXY: "127.0.0.1" }),
      services: { metrics },
    });
  });

  const scrape = (target: typeof app, remoteAddress: string, headers: Record<string, string> = {}) =>
    target.inject({ method: "GET", url: "/metrics", headers: { host: HOST, ...headers }, remoteAddress });

  it("answers loopback and the configured ranges in the Prometheus text format", async () => {
    for (const address of ["127.0.0.1", "::1", "10.20.3.4", "2001:db8::9"]) {
      const res = await scrape(app, address);
      assert.equal(res.statusCode, 200, address);
      assert.equal(res.headers["content-type"], "text/plain; version=0.0.4; charset=utf-8");
      assert.match(res.body, /^countersign_test_total\{kind="x"\} 1$/m);
    }
  });

  it("answers anyone else 404, as if there were no such route", async () => {
    for (const address of ["10.21.0.1", "192.0.2.1", "2001:db9::1"]) {
      const res = await scrape(app, address);
      assert.deepEqual([res.statusCode, res.json().error.code], [404, "not_found"], address);
    }
  });

  it("ignores X-Forwarded-For except from a trusted proxy", async () => {
    assert.equal((await scrape(app, "192.0.2.1", { "x-forwarded-for": "127.0.0.1" })).statusCode, 404);
    assert.equal((await scrape(proxied, "127.0.0.1", { "x-forwarded-for": "192.0.2.1" })).statusCode, 404);
    assert.equal((await scrape(proxied, "127.0.0.1", { "x-forwarded-for": "127.0.0.1" })).statusCode, 200);
  });

  it("refuses a request forwarded by a local proxy that is not configured as trusted", async () => {
    // A reverse proxy on the same host connects from loopback for every client on the internet.
    assert.equal((await scrape(app, "127.0.0.1", { "x-forwarded-for": "198.51.100.7" })).statusCode, 404);
    assert.equal((await scrape(app, "127.0.0.1", { forwarded: "for=198.51.100.7" })).statusCode, 404);
    assert.equal((await scrape(app, "127.0.0.1")).statusCode, 200, "a local scraper without a proxy still works");
  });

  it("refuses a COUNTERSIGN_METRICS_ALLOW that is not addresses or ranges", () => {
    assert.throws(() => loadConfig({ COUNTERSIGN_ENV: "test", COUNTERSIGN_METRICS_ALLOW: "everyone" }), ConfigError);
    assert.throws(() => loadConfig({ COUNTERSIGN_ENV: "test", COUNTERSIGN_BEARER_ONLY_ALLOWED: "maybe" }), ConfigError);
    const config = createTestConfig();
    assert.equal(config.agents.bearerOnlyAllowed, false);
    assert.deepEqual(config.metrics.allow, []);
  });
});
