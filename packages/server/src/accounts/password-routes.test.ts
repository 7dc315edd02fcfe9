import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import type { FastifyInstance, LightMyRequestResponse } from "fastify";
import { createManualClock } from "../../test-support/manual-clock.ts";
import { createTestApp, createTestConfig } from "../../test-support/test-app.ts";
import { describeEachDatabase } from "../../test-support/test-database.ts";
import type { Config } from "../config/config.ts";
import { createMemoryMailer, type MemoryMailer } from "../mail/memory-mailer.ts";
import { createAccountServices } from "./account-services.ts";
import type { PasswordHasher } from "./password-hasher.ts";
import {
  type AccountTestClient,
  createAccountTestClient,
  type SignedUp,
  sessionCookieOf,
} from "./testing/account-test-client.ts";

const PASSWORD = "correct horse battery staple";

function shape(res: LightMyRequestResponse) {
  const body = res.json();
  delete body.error?.request_id;
  return { status: res.statusCode, body };
}

describeEachDatabase("password sign-in", (ctx) => {
  describe("when COUNTERSIGN_PASSWORD_LOGIN is off (the default)", () => {
    it("has no password routes", async () => {
      const config = createTestConfig({ COUNTERSIGN_AUTH_MIN_DURATION_MS: "0" });
      const mailer = createMemoryMailer();
      const app = await createTestApp(ctx.db, { config, services: { mailer } });
      const client = createAccountTestClient(app, { mailer, webauthn: config.webauthn, host: config.appHost });
      const login = await client.call("POST", "/v1/auth/password", { email: "x@example.com", password: PASSWORD });
      assert.equal(login.statusCode, 404);
      assert.equal((await client.call("POST", "/v1/auth/password/verify", {})).statusCode, 404);
      assert.equal((await client.call("PUT", "/v1/account/password", { password: PASSWORD })).statusCode, 404);
    });
  });

  describe("when it is on", () => {
    const clock = createManualClock();
    let config: Config;
    let app: FastifyInstance;
    let mailer: MemoryMailer;
    let client: AccountTestClient;
    let erin: SignedUp;

    before(async () => {
      config = createTestConfig({ COUNTERSIGN_AUTH_MIN_DURATION_MS: "0", COUNTERSIGN_PASSWORD_LOGIN: "true" });
      mailer = createMemoryMailer();
      app = await createTestApp(ctx.db, { config, clock, services: { mailer } });
      client = createAccountTestClient(app, { mailer, webauthn: config.webauthn, host: config.appHost });
      erin = await client.signUp("erin@example.com");
    });

    it("sets a password only after a fresh step-up, and refuses a short one", async () => {
      clock.advance(config.auth.stepUpMaxAgeSeconds * 1000 + 1);
      const stale = await client.call("PUT", "/v1/account/password", { password: PASSWORD }, { cookie: erin.cookie });
      assert.equal(stale.statusCode, 401);
      assert.equal(stale.json().error.code, "step_up_required");
      await client.stepUp(erin.cookie, erin.authenticator);
      const short = await client.call("PUT", "/v1/account/password", { password: "short" }, { cookie: erin.cookie });
      assert.equal(short.statusCode, 400);
      const set = await client.call("PUT", "/v1/account/password", { password: PASSWORD }, { cookie: erin.cookie });
      assert.equal(set.statusCode, 204, set.body);
      const { rows } = await ctx.db.query<{ password_hash: string }>("SELECT password_hash FROM users WHERE id = $1", [
        erin.userId,
      ]);
      assert.match(rows[0]?.password_hash ?? "", /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    });

    it("needs the emailed code after the password: the password alone opens no session", async () => {
      const login = await client.call("POST", "/v1/auth/password", { email: erin.email, password: PASSWORD });
      assert.equal(login.statusCode, 200, login.body);
      assert.equal(login.headers["set-cookie"], undefined);
      const { ticket } = login.json();
      const code = client.lastCode(erin.email);
      assert.ok(!login.body.includes(code));

      const wrong = await client.call("POST", "/v1/auth/password/verify", {
        ticket,
        code: code === "000000" ? "000001" : "000000",
      });
      assert.equal(wrong.statusCode, 400);
      assert.equal(wrong.json().error.code, "code_invalid");

      const done = await client.call("POST", "/v1/auth/password/verify", { ticket, code });
      assert.equal(done.statusCode, 200, done.body);
      const cookie = sessionCookieOf(done);
      const sessions = await client.call("GET", "/v1/sessions", undefined, { cookie });
      const current = sessions.json().sessions.find((s: { current: boolean }) => s.current);
      assert.equal(current.auth_method, "password");
      assert.equal(current.step_up_at, null, "a password sign-in is not a step-up");

      const replay = await client.call("POST", "/v1/auth/password/verify", { ticket, code });
      assert.equal(replay.statusCode, 400);
    });

    it("answers a wrong password, an unknown address and an account without a password alike", async () => {
      const frank = await client.signUp("frank@example.com");
      const attempts = [
        { email: erin.email, password: "not the password at all" },
        { email: "nobody@example.com", password: PASSWORD },
        { email: frank.email, password: PASSWORD },
        { email: "not an address", password: PASSWORD },
      ];
      const shapes = [];
      for (const [i, body] of attempts.entries()) {
        shapes.push(shape(await client.call("POST", "/v1/auth/password", body, { ip: `203.0.113.${i + 1}` })));
      }
      for (const s of shapes) assert.deepEqual(s, shapes[0]);
      assert.equal(shapes[0]?.status, 401);
      assert.equal(shapes[0]?.body.error.code, "invalid_credentials");
    });

    it("backs off after repeated wrong passwords with 429 and Retry-After", async () => {
      let res: LightMyRequestResponse | undefined;
      for (let i = 0; i < 7; i += 1) {
        res = await client.call(
          "POST",
          "/v1/auth/password",
          { email: erin.email, password: `wrong ${i}` },
          { ip: `192.0.2.${i + 1}` },
        );
      }
      assert.equal(res?.statusCode, 429);
      assert.ok(Number(res?.headers["retry-after"]) >= 1);
      // Even the right password waits out the back-off.
      const right = await client.call("POST", "/v1/auth/password", { email: erin.email, password: PASSWORD });
      assert.equal(right.statusCode, 429);
      clock.advance(60 * 60 * 1000);
      const later = await client.call("POST", "/v1/auth/password", { email: erin.email, password: PASSWORD });
      assert.equal(later.statusCode, 200);
    });

    it("removes the password after a step-up", async () => {
      const cookie = await client.signIn(erin.authenticator);
      assert.equal((await client.call("DELETE", "/v1/account/password", undefined, { cookie })).statusCode, 204);
      const login = await client.call("POST", "/v1/auth/password", { email: erin.email, password: PASSWORD });
      assert.equal(login.statusCode, 401);
    });
  });
  describe("the work done for known and unknown addresses", () => {
    it("is one Argon2id verify each: real for a password, dummy for an unknown address or no password", async () => {
      const clock = createManualClock();
      const config = createTestConfig({ COUNTERSIGN_AUTH_MIN_DURATION_MS: "0", COUNTERSIGN_PASSWORD_LOGIN: "true" });
      const accounts = createAccountServices({ config, clock });
      const calls: string[] = [];
      const hasher: PasswordHasher = {
        ...accounts.hasher,
        verify: (phc, secret) => {
          calls.push("verify");
          return accounts.hasher.verify(phc, secret);
        },
        verifyDummy: (secret) => {
          calls.push("dummy");
          return accounts.hasher.verifyDummy(secret);
        },
      };
      const mailer = createMemoryMailer();
      const app = await createTestApp(ctx.db, {
        config,
        clock,
        services: { mailer, accounts: { ...accounts, hasher } },
      });
      const client = createAccountTestClient(app, { mailer, webauthn: config.webauthn, host: config.appHost });
      const judy = await client.signUp("judy@example.com");
      await client.call("PUT", "/v1/account/password", { password: PASSWORD }, { cookie: judy.cookie });
      const kim = await client.signUp("kim@example.com");
      const expectations: [string, string][] = [
        [judy.email, "verify"],
        ["nobody.else@example.com", "dummy"],
        [kim.email, "dummy"],
      ];
      for (const [email, expected] of expectations) {
        calls.length = 0;
        const res = await client.call("POST", "/v1/auth/password", { email, password: "wrong password" });
        assert.equal(res.statusCode, 401);
        assert.deepEqual(calls, [expected], email);
      }
    });
  });
});
