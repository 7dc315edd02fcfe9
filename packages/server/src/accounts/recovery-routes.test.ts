import assert from "node:assert/strict";
import { before, it } from "node:test";
import type { FastifyInstance } from "fastify";
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
  sessionCookieOf,
} from "./testing/account-test-client.ts";

describeEachDatabase("account recovery", (ctx) => {
  const clock = createManualClock();
  let config: Config;
  let app: FastifyInstance;
  let mailer: MemoryMailer;
  let audit: CapturingAuditSink;
  let client: AccountTestClient;
  let dora: SignedUp;

  before(async () => {
    config = createTestConfig({ COUNTERSIGN_AUTH_MIN_DURATION_MS: "0" });
    mailer = createMemoryMailer();
    audit = createCapturingAuditSink();
    app = await createTestApp(ctx.db, { config, clock, services: { mailer, auditSink: audit } });
    client = createAccountTestClient(app, { mailer, webauthn: config.webauthn, host: config.appHost });
    dora = await client.signUp("dora@example.com");
  });

  async function emailCode(email: string): Promise<string> {
    const res = await client.call("POST", "/v1/auth/recovery/start", { email });
    assert.equal(res.statusCode, 202);
    return client.lastCode(email);
  }

  it("needs both the emailed code and a recovery code in one attempt", async () => {
    const code = await emailCode(dora.email);
    const wrongRecovery = await client.call("POST", "/v1/auth/recovery/verify", {
      email: dora.email,
      code,
      recovery_code: "ZZZZZ-ZZZZZ-ZZZZZ-ZZZZZ",
    });
    assert.equal(wrongRecovery.statusCode, 400);
    assert.equal(wrongRecovery.json().error.code, "recovery_failed");
    const wrongEmailCode = await client.call("POST", "/v1/auth/recovery/verify", {
      email: dora.email,
      code: code === "000000" ? "000001" : "000000",
      recovery_code: dora.recoveryCodes[0],
    });
    assert.equal(wrongEmailCode.statusCode, 400);
    const { rows } = await ctx.db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL",
      [dora.userId],
    );
    assert.equal(rows[0]?.n, 10, "no recovery code was used up by a failed attempt");
  });

  it("registers a new passkey, ends every other session, audits it and mails a notice", async () => {
    const otherDevice = await client.signIn(dora.authenticator);
    const code = await emailCode(dora.email);
    // Typed loosely, as people do: lower case, spaces instead of dashes.
    const typed = (dora.recoveryCodes[3] ?? "").toLowerCase().replaceAll("-", " ");
    const verify = await client.call("POST", "/v1/auth/recovery/verify", {
      email: dora.email,
      code,
      recovery_code: typed,
    });
    assert.equal(verify.statusCode, 200, verify.body);
    assert.equal(verify.json().recovery_codes_remaining, 9);
    const { ticket } = verify.json();

    const options = await client.call("POST", "/v1/auth/recovery/passkey/options", { ticket });
    assert.equal(options.statusCode, 200, options.body);
    const phone = client.newAuthenticator();
    const done = await client.call("POST", "/v1/auth/recovery/passkey/verify", {
      ticket,
      credential: phone.register(options.json()),
      name: "New phone",
    });
    assert.equal(done.statusCode, 200, done.body);
    assert.equal(done.json().sessions_ended, 2, "the sign-up session and the other device");
    const cookie = sessionCookieOf(done);

    for (const old of [dora.cookie, otherDevice]) {
      assert.equal((await client.call("GET", "/v1/account", undefined, { cookie: old })).statusCode, 401);
    }
    assert.equal((await client.call("GET", "/v1/account", undefined, { cookie })).statusCode, 200);
    const sessions = await client.call("GET", "/v1/sessions", undefined, { cookie });
    assert.deepEqual(
      sessions.json().sessions.map((s: { auth_method: string }) => s.auth_method),
      ["recovery"],
    );

    const notice = mailer.sent.at(-1);
    assert.equal(notice?.to, dora.email);
    assert.match(notice?.subject ?? "", /recovered/);
    const types = audit.events.filter((e) => e.userId === dora.userId).map((e) => e.type);
    for (const type of ["recovery_code.used", "passkey.added", "session.revoked_all", "account.recovered"]) {
      assert.ok(types.includes(type), type);
    }
    // The new passkey signs in; the ticket does not work twice.
    await client.signIn(phone);
    const again = await client.call("POST", "/v1/auth/recovery/passkey/options", { ticket });
    assert.equal(again.statusCode, 400);
  });

  it("uses a recovery code once", async () => {
    const code = await emailCode(dora.email);
    const res = await client.call("POST", "/v1/auth/recovery/verify", {
      email: dora.email,
      code,
      recovery_code: dora.recoveryCodes[3],
    });
    assert.equal(res.statusCode, 400);
    assert.equal(res.json().error.code, "recovery_failed");
  });

  it("lets one of two concurrent recoveries with the same codes win", async () => {
    const code = await emailCode(dora.email);
    const body = { email: dora.email, code, recovery_code: dora.recoveryCodes[5] };
    const results = await Promise.all([1, 2, 3].map(() => client.call("POST", "/v1/auth/recovery/verify", body)));
    assert.deepEqual(results.map((r) => r.statusCode).sort(), [200, 400, 400]);
  });
});
