import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { gunzipSync } from "node:zlib";
import Fastify, { type FastifyInstance } from "fastify";
import { createTestApp } from "../../test-support/test-app.ts";
import { createTestDatabase, type TestDatabase } from "../../test-support/test-database.ts";
import { registerErrorHandler } from "../http/error-handler.ts";
import { registerHostConstraint } from "../http/host-constraint.ts";
import "../http/surface.ts";
import { loadWebAppFiles } from "./web-app-files.ts";
import { APP_CSP, registerWebApp } from "./web-app-routes.ts";

const HOST = "localhost:8787";
const INDEX = `<!doctype html><html><head><script type="module" src="/assets/index-abc123.js"></script></head><body>${"x".repeat(400)}</body></html>`;

describe("the web app's files", () => {
  let app: FastifyInstance;
  let dir: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "cs-web-"));
    mkdirSync(join(dir, "assets"));
    mkdirSync(join(dir, "icons"));
    writeFileSync(join(dir, "index.html"), INDEX);
    writeFileSync(join(dir, "assets", "index-abc123.js"), `console.log(${JSON.stringify("y".repeat(500))});`);
    writeFileSync(join(dir, "assets", "index-abc123.css"), "body{}");
    writeFileSync(join(dir, "icons", "icon-192.png"), Buffer.from([0x89, 0x50, 0x4e, 0x47]));
    writeFileSync(join(dir, "sw.js"), "self.addEventListener('fetch', () => {});");
    writeFileSync(join(dir, "manifest.webmanifest"), "{}");
    writeFileSync(join(dir, "secrets.env"), "NOT=served");
    app = Fastify({ logger: false });
    registerErrorHandler(app);
    registerHostConstraint(app, { appHost: HOST, apiHost: "api.example" });
    registerWebApp(app, undefined, loadWebAppFiles(dir));
    await app.ready();
  });
  after(async () => {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const get = (url: string, headers: Record<string, string> = {}) =>
    app.inject({ method: "GET", url, headers: { host: HOST, ...headers } });

  it("answers every screen with index.html, no-store and the app's CSP", async () => {
    for (const url of ["/", "/signin", "/signup", "/history", "/agents", "/devices", "/settings", "/requests/apr_x"]) {
      const res = await get(url);
      assert.equal(res.statusCode, 200, url);
      assert.equal(res.headers["content-type"], "text/html; charset=utf-8");
      assert.equal(res.headers["cache-control"], "no-store");
      assert.equal(res.headers["content-security-policy"], APP_CSP);
      assert.equal(res.body, INDEX);
    }
    assert.doesNotMatch(APP_CSP, /unsafe-inline|unsafe-eval/);
  });

  it("caches hashed assets for good, with their content types, gzipped when asked", async () => {
    const js = await get("/assets/index-abc123.js", { "accept-encoding": "gzip, br" });
    assert.equal(js.statusCode, 200);
    assert.equal(js.headers["content-type"], "text/javascript; charset=utf-8");
    assert.equal(js.headers["cache-control"], "public, max-age=31536000, immutable");
    assert.equal(js.headers["content-encoding"], "gzip");
    assert.match(gunzipSync(js.rawPayload).toString(), /^console\.log/);
    const css = await get("/assets/index-abc123.css");
    assert.equal(css.headers["content-type"], "text/css; charset=utf-8");
    assert.equal(css.headers["content-encoding"], undefined);
    const png = await get("/icons/icon-192.png");
    assert.equal(png.headers["content-type"], "image/png");
    const manifest = await get("/manifest.webmanifest");
    assert.equal(manifest.headers["content-type"], "application/manifest+json; charset=utf-8");
    const sw = await get("/sw.js");
    assert.equal(sw.headers["content-type"], "text/javascript; charset=utf-8");
    assert.equal(sw.headers["cache-control"], "no-cache");
  });

  it("serves nothing it was not built with, and no path outside the build", async () => {
    for (const url of [
      "/assets/missing.js",
      "/assets/../index.html",
      "/assets/%2e%2e/secrets.env",
      "/secrets.env",
      "/icons/../../etc/passwd",
      "/v1/anything",
      "/.well-known/anything",
      "/requests",
    ]) {
      const res = await get(url);
      assert.equal(res.statusCode, 404, url);
      assert.notEqual(res.body, INDEX, url);
    }
  });

  it("answers only on the app host (T-11)", async () => {
    const res = await app.inject({ method: "GET", url: "/", headers: { host: "api.example" } });
    assert.equal(res.statusCode, 421);
  });
});

describe("the web app inside the whole server", () => {
  let database: TestDatabase;
  let app: FastifyInstance;

  before(async () => {
    database = await createTestDatabase("pglite");
    app = await createTestApp(database.db);
    await app.ready();
  });
  after(async () => {
    await app.close();
    await database.dispose();
  });

  it("never answers API, well-known or health paths with the app", async () => {
    const cases: [string, number][] = [
      ["/v1/nowhere", 404],
      ["/v1/me/approvals", 401],
      ["/.well-known/jwks.json", 200],
      ["/.well-known/nowhere", 404],
      ["/healthz", 200],
    ];
    for (const [url, status] of cases) {
      const res = await app.inject({ method: "GET", url, headers: { host: HOST } });
      assert.equal(res.statusCode, status, url);
      assert.match(String(res.headers["content-type"]), /^application\/json/, url);
    }
  });

  it("leaves the app's routes out of the OpenAPI document", async () => {
    const res = await app.inject({ method: "GET", url: "/openapi.json", headers: { host: HOST } });
    const paths = Object.keys(res.json().paths);
    assert.ok(!paths.includes("/"));
    assert.ok(!paths.some((path) => path.startsWith("/assets")));
  });
});
