import assert from "node:assert/strict";
import { before, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { CountersignError } from "@countersign/protocol";
import type { FastifyInstance, InjectOptions } from "fastify";
import { Type } from "typebox";
import { createTestApp, createTestConfig } from "../../test-support/test-app.ts";
import { describeEachDatabase } from "../../test-support/test-database.ts";

// Real time is the point here: the floor is what a client measures. Short enough to keep the
// suite quick, long enough to tell apart from a fast answer on a loaded machine.
const FLOOR_MS = 250;
const HOST = "localhost:8787";
const ORIGIN = "http://localhost:8787";

describeEachDatabase("the authentication time floor", (ctx) => {
  let app: FastifyInstance;

  before(async () => {
    app = await createTestApp(ctx.db, {
      config: createTestConfig({ COUNTERSIGN_AUTH_MIN_DURATION_MS: String(FLOOR_MS) }),
    });
    const floor = { surface: "app" as const, authFloor: true };
    app.post(
      "/test/sign-in",
      {
        config: floor,
        schema: { body: Type.Object({ email: Type.String({ format: "email" }) }, { additionalProperties: false }) },
      },
      async () => ({ ok: true }),
    );
    app.post("/test/refused", { config: floor }, async () => {
      throw new CountersignError("code_invalid");
    });
    app.post("/test/limited", { config: floor }, async () => {
      throw new CountersignError("too_many_attempts", { retryAfter: 7 });
    });
    app.post("/test/crash", { config: floor }, async () => {
      throw new Error("boom");
    });
    app.post("/test/slow", { config: floor }, async () => {
      await sleep(FLOOR_MS * 2);
      return { ok: true };
    });
    app.post("/test/no-floor", { config: { surface: "app" } }, async () => {
      throw new CountersignError("code_invalid");
    });
    await app.ready();
  });

  async function timed(options: InjectOptions) {
    const start = performance.now();
    const res = await app.inject(options);
    return { res, ms: performance.now() - start };
  }

  const post = (url: string, extra: Partial<InjectOptions> = {}): InjectOptions => ({
    method: "POST",
    url,
    headers: { host: HOST, origin: ORIGIN, "content-type": "application/json", ...(extra.headers ?? {}) },
    payload: extra.payload ?? { email: "ada@example.com" },
  });

  it("holds successes and every kind of fast error to the floor", async () => {
    const cases: [string, InjectOptions, number][] = [
      ["success", post("/test/sign-in"), 200],
      ["schema validation", post("/test/sign-in", { payload: { email: 5 } }), 400],
      ["malformed JSON", post("/test/sign-in", { payload: "{" }), 400],
      ["not JSON", post("/test/sign-in", { headers: { "content-type": "text/plain" }, payload: "x" }), 415],
      ["handler refusal", post("/test/refused"), 400],
      ["attempt limit", post("/test/limited"), 429],
      ["unexpected error", post("/test/crash"), 500],
      ["wrong Origin", post("/test/refused", { headers: { origin: "https://evil.example" } }), 403],
      ["wrong Host (refused before the floor's own hook)", post("/test/refused", { headers: { host: "evil" } }), 421],
    ];
    const results = await Promise.all(cases.map(([, options]) => timed(options)));
    results.forEach(({ res, ms }, i) => {
      const [name, , status] = cases[i] ?? ["?", {}, 0];
      assert.equal(res.statusCode, status, `${name}: ${res.body}`);
      assert.ok(ms >= FLOOR_MS, `${name} answered after ${ms.toFixed(1)} ms, before the ${FLOOR_MS} ms floor`);
    });
    const limited = results[5]?.res;
    assert.equal(limited?.headers["retry-after"], "7");
  });

  it("does not slow a response that already took longer than the floor", async () => {
    const { res, ms } = await timed(post("/test/slow"));
    assert.equal(res.statusCode, 200);
    assert.ok(ms >= FLOOR_MS * 2);
    assert.ok(ms < FLOOR_MS * 2 + FLOOR_MS * 0.8, `took ${ms.toFixed(1)} ms: the floor was added on top`);
  });

  it("leaves routes without the option alone", async () => {
    const { res, ms } = await timed(post("/test/no-floor"));
    assert.equal(res.statusCode, 400);
    assert.ok(ms < FLOOR_MS, `took ${ms.toFixed(1)} ms`);
  });
});
