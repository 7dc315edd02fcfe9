import assert from "node:assert/strict";
import { before, it } from "node:test";
import type { FastifyInstance } from "fastify";
import { createTestApp, createTestConfig } from "../../test-support/test-app.ts";
import { describeEachDatabase } from "../../test-support/test-database.ts";
import type { Config } from "../config/config.ts";
import { createMemoryMailer } from "../mail/memory-mailer.ts";
import { createAccountServices } from "./account-services.ts";

// Real time on purpose: what an observer measures is the point. The configured minimum
// response time is the default, 400 ms.
const RUNS = 30;
const MAX_MEDIAN_GAP_MS = 15;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length / 2;
  return sorted.length % 2 === 0 ? ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2 : (sorted[Math.floor(mid)] ?? 0);
}

describeEachDatabase("response times do not tell registered addresses apart", (ctx) => {
  let config: Config;
  let app: FastifyInstance;
  const known: string[] = [];
  let ip = 0;

  before(async () => {
    config = createTestConfig({ COUNTERSIGN_PASSWORD_LOGIN: "true" });
    assert.equal(config.auth.minDurationMs, 400);
    app = await createTestApp(ctx.db, { config, services: { mailer: createMemoryMailer() } });
    // Thirty real accounts with a password, made directly (sign-up itself is tested elsewhere),
    // so that each timed request meets a fresh account and no attempt limit.
    const accounts = createAccountServices({ config, clock: { now: () => Date.now() } });
    const hash = await accounts.hasher.hash("the right password, never sent here");
    for (let i = 0; i < RUNS; i += 1) {
      const email = `known.${i}@example.com`;
      await ctx.db.transaction(async (tx) => {
        const id = accounts.users.newUserId();
        const sealed = await accounts.users.sealEmail(tx, id, email);
        assert.ok(await accounts.users.insert(tx, { id, email: sealed, emailIndex: accounts.users.emailIndex(email) }));
        await accounts.users.setPasswordHash(tx, id, hash);
      });
      known.push(email);
    }
  });

  /** Times one request over HTTP (app.inject: the full Fastify pipeline, hooks and floor included). */
  async function timed(url: string, payload: object): Promise<{ ms: number; status: number; body: string }> {
    ip += 1;
    const start = performance.now();
    const res = await app.inject({
      method: "POST",
      url,
      headers: { host: config.appHost, origin: config.webauthn.origin },
      remoteAddress: `10.${ip >> 16}.${(ip >> 8) & 0xff}.${ip & 0xff}`,
      payload,
    });
    return {
      ms: performance.now() - start,
      status: res.statusCode,
      body: res.body.replace(/"request_id":"[^"]+"/, ""),
    };
  }

  async function compare(url: string, knownBody: (i: number) => object, unknownBody: (i: number) => object) {
    // Warm up both paths (JIT, the lazily made dummy hash) before measuring.
    await timed(url, unknownBody(1000));
    const knownMs: number[] = [];
    const unknownMs: number[] = [];
    for (let i = 0; i < RUNS; i += 1) {
      // Alternate which path goes first, so drift in the machine's load hits both alike.
      const pair =
        i % 2 === 0
          ? [await timed(url, knownBody(i)), await timed(url, unknownBody(i))]
          : [await timed(url, unknownBody(i)), await timed(url, knownBody(i))].reverse();
      const [k, u] = pair as [Awaited<ReturnType<typeof timed>>, Awaited<ReturnType<typeof timed>>];
      assert.equal(k.status, u.status, `same status (${k.body} / ${u.body})`);
      assert.equal(k.body, u.body, "same body");
      knownMs.push(k.ms);
      unknownMs.push(u.ms);
    }
    const [k, u] = [median(knownMs), median(unknownMs)];
    console.log(`${url}: median ${k.toFixed(1)} ms for registered addresses, ${u.toFixed(1)} ms for unknown ones`);
    assert.ok(k >= config.auth.minDurationMs && u >= config.auth.minDurationMs, "the minimum response time holds");
    assert.ok(Math.abs(k - u) < MAX_MEDIAN_GAP_MS, `medians ${k.toFixed(1)} and ${u.toFixed(1)} ms`);
  }

  it("sign-up start: a registered address (notice mail) and a new one (code mail)", async () => {
    await compare(
      "/v1/auth/signup/start",
      (i) => ({ email: known[i] }),
      (i) => ({ email: `unknown.${i}@example.com` }),
    );
  });

  it("password sign-in: a wrong password for a registered address and any password for an unknown one", async () => {
    await compare(
      "/v1/auth/password",
      (i) => ({ email: known[i], password: "a wrong password" }),
      (i) => ({ email: `nobody.${i}@example.com`, password: "a wrong password" }),
    );
  });
});
