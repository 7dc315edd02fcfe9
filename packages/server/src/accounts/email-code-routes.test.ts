import assert from "node:assert/strict";
import { before, it } from "node:test";
import type { FastifyInstance, LightMyRequestResponse } from "fastify";
import { createManualClock } from "../../test-support/manual-clock.ts";
import { createTestApp, createTestConfig } from "../../test-support/test-app.ts";
import { describeEachDatabase } from "../../test-support/test-database.ts";
import type { Config } from "../config/config.ts";
import { createMemoryMailer, type MemoryMailer } from "../mail/memory-mailer.ts";
import {
  type AccountTestClient,
  type CapturingAuditSink,
  createAccountTestClient,
  createCapturingAuditSink,
  type SignedUp,
} from "./testing/account-test-client.ts";

/** A response without what legitimately differs between two requests (the request id). */
function shape(res: LightMyRequestResponse) {
  const body = res.json();
  if (body?.error) delete body.error.request_id;
  return { status: res.statusCode, body, setsCookie: res.headers["set-cookie"] !== undefined };
}

const other = (code: string) => (code === "000000" ? "000001" : "000000");

describeEachDatabase("email codes and anti-enumeration over HTTP", (ctx) => {
  const clock = createManualClock();
  let config: Config;
  let app: FastifyInstance;
  let mailer: MemoryMailer;
  let audit: CapturingAuditSink;
  let client: AccountTestClient;
  let known: SignedUp;
  let ipCounter = 0;
  // Each test speaks from its own address so per-address limits do not leak between tests.
  const nextIp = () => `198.51.100.${++ipCounter}`;

  before(async () => {
    config = createTestConfig({ COUNTERSIGN_AUTH_MIN_DURATION_MS: "0" });
    mailer = createMemoryMailer();
    audit = createCapturingAuditSink();
    app = await createTestApp(ctx.db, { config, clock, services: { mailer, auditSink: audit } });
    client = createAccountTestClient(app, { mailer, webauthn: config.webauthn, host: config.appHost });
    known = await client.signUp("known@example.com", { ip: nextIp() });
  });

  it("accepts a code once, even from many concurrent requests", async () => {
    const ip = nextIp();
    await client.call("POST", "/v1/auth/signup/start", { email: "race@example.com" }, { ip });
    const code = client.lastCode("race@example.com");
    const results = await Promise.all(
      Array.from({ length: 6 }, () =>
        client.call("POST", "/v1/auth/signup/verify", { email: "race@example.com", code }, { ip }),
      ),
    );
    const statuses = results.map((r) => r.statusCode).sort();
    assert.deepEqual(statuses, [200, 400, 400, 400, 400, 400]);
    for (const res of results.filter((r) => r.statusCode === 400)) assert.equal(res.json().error.code, "code_invalid");
  });

  it("burns a code after five wrong entries", async () => {
    const ip = nextIp();
    await client.call("POST", "/v1/auth/signup/start", { email: "burn@example.com" }, { ip });
    const code = client.lastCode("burn@example.com");
    for (let i = 0; i < 5; i += 1) {
      const res = await client.call(
        "POST",
        "/v1/auth/signup/verify",
        { email: "burn@example.com", code: other(code) },
        { ip },
      );
      assert.equal(res.statusCode, 400);
    }
    // The per-account back-off starts after the fifth failure; wait it out to show the code is gone.
    clock.advance(60 * 60 * 1000);
    const late = await client.call("POST", "/v1/auth/signup/verify", { email: "burn@example.com", code }, { ip });
    assert.equal(late.statusCode, 400);
    assert.equal(late.json().error.code, "code_invalid");
  });

  it("refuses a code after ten minutes", async () => {
    const ip = nextIp();
    await client.call("POST", "/v1/auth/signup/start", { email: "late@example.com" }, { ip });
    const code = client.lastCode("late@example.com");
    clock.advance(10 * 60 * 1000);
    const res = await client.call("POST", "/v1/auth/signup/verify", { email: "late@example.com", code }, { ip });
    assert.equal(res.statusCode, 400);
  });

  it("never puts a code in a response", async () => {
    const ip = nextIp();
    const res = await client.call("POST", "/v1/auth/signup/start", { email: "quiet@example.com" }, { ip });
    assert.ok(!res.body.includes(client.lastCode("quiet@example.com")));
  });

  it("answers sign-up start alike for a registered and a new address, and mails a notice instead of a code", async () => {
    const before = mailer.sent.length;
    const registered = await client.call("POST", "/v1/auth/signup/start", { email: known.email }, { ip: nextIp() });
    const fresh = await client.call("POST", "/v1/auth/signup/start", { email: "fresh@example.com" }, { ip: nextIp() });
    assert.deepEqual(shape(registered), shape(fresh));
    assert.equal(registered.statusCode, 202);
    const [notice, codeMail] = mailer.sent.slice(before);
    assert.equal(notice?.to, known.email);
    assert.match(notice?.subject ?? "", /tried to sign up/);
    assert.doesNotMatch(notice?.text ?? "", /\b\d{6}\b/, "no code for an address that has an account");
    assert.match(codeMail?.text ?? "", /\b\d{6}\b/);
  });

  it("answers sign-up verify alike for a registered and a new address", async () => {
    await client.call("POST", "/v1/auth/signup/start", { email: "fresh2@example.com" }, { ip: nextIp() });
    const code = client.lastCode("fresh2@example.com");
    const a = await client.call(
      "POST",
      "/v1/auth/signup/verify",
      { email: known.email, code: other(code) },
      { ip: nextIp() },
    );
    const b = await client.call(
      "POST",
      "/v1/auth/signup/verify",
      { email: "fresh2@example.com", code: other(code) },
      {
        ip: nextIp(),
      },
    );
    const c = await client.call(
      "POST",
      "/v1/auth/signup/verify",
      { email: "nobody@example.com", code },
      { ip: nextIp() },
    );
    assert.deepEqual(shape(a), shape(b));
    assert.deepEqual(shape(a), shape(c));
  });

  it("answers recovery start and verify alike for a registered and an unknown address", async () => {
    const startKnown = await client.call("POST", "/v1/auth/recovery/start", { email: known.email }, { ip: nextIp() });
    const startUnknown = await client.call(
      "POST",
      "/v1/auth/recovery/start",
      { email: "ghost@example.com" },
      {
        ip: nextIp(),
      },
    );
    assert.deepEqual(shape(startKnown), shape(startUnknown));
    const code = client.lastCode(known.email);
    const wrong = { code: other(code), recovery_code: "AAAAA-AAAAA-AAAAA-AAAAA" };
    const verifyKnown = await client.call(
      "POST",
      "/v1/auth/recovery/verify",
      { email: known.email, ...wrong },
      {
        ip: nextIp(),
      },
    );
    const verifyUnknown = await client.call(
      "POST",
      "/v1/auth/recovery/verify",
      { email: "ghost@example.com", ...wrong },
      {
        ip: nextIp(),
      },
    );
    assert.deepEqual(shape(verifyKnown), shape(verifyUnknown));
    assert.equal(verifyKnown.json().error.code, "recovery_failed");
  });

  it("answers 429 with Retry-After once an address has failed too often, and audits the burst", async () => {
    const email = "target@example.com";
    await client.call("POST", "/v1/auth/signup/start", { email }, { ip: nextIp() });
    const code = client.lastCode(email);
    // Five free failures per account, from ever-changing addresses: the account key still counts.
    for (let i = 0; i < 6; i += 1) {
      const res = await client.call("POST", "/v1/auth/signup/verify", { email, code: other(code) }, { ip: nextIp() });
      assert.equal(res.statusCode, 400, `failure ${i + 1}`);
    }
    const blocked = await client.call("POST", "/v1/auth/signup/verify", { email, code }, { ip: nextIp() });
    assert.equal(blocked.statusCode, 429);
    assert.equal(blocked.json().error.code, "too_many_attempts");
    assert.ok(Number(blocked.headers["retry-after"]) >= 1);
    assert.ok(audit.events.some((e) => e.type === "auth.attempts_blocked" && e.subject?.id === "sign-up.code"));
  });
});
