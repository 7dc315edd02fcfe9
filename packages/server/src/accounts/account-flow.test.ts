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
} from "./testing/account-test-client.ts";

const RECOVERY_CODE = /^[0-9A-HJKMNP-TV-Z]{5}(-[0-9A-HJKMNP-TV-Z]{5}){3}$/;

describeEachDatabase("accounts and passkeys, end to end", (ctx) => {
  const clock = createManualClock();
  let config: Config;
  let app: FastifyInstance;
  let mailer: MemoryMailer;
  let audit: CapturingAuditSink;
  let client: AccountTestClient;
  let alice: SignedUp;

  before(async () => {
    // The minimum response time has its own test; here it would only make the suite slow.
    config = createTestConfig({ COUNTERSIGN_AUTH_MIN_DURATION_MS: "0" });
    mailer = createMemoryMailer();
    audit = createCapturingAuditSink();
    app = await createTestApp(ctx.db, { config, clock, services: { mailer, auditSink: audit } });
    client = createAccountTestClient(app, { mailer, webauthn: config.webauthn, host: config.appHost });
  });

  it("signs up with an emailed code and a passkey, and shows ten recovery codes once", async () => {
    alice = await client.signUp("Alice@Example.COM");
    assert.match(alice.userId, /^usr_[A-Za-z0-9_-]{22}$/);
    assert.equal(alice.recoveryCodes.length, 10);
    for (const code of alice.recoveryCodes) assert.match(code, RECOVERY_CODE);
    assert.equal(new Set(alice.recoveryCodes).size, 10);
    // The code went to the address as typed, domain lowercased (normalizeEmail).
    assert.equal(mailer.sent[0]?.to, "Alice@example.com");

    const account = await client.call("GET", "/v1/account", undefined, { cookie: alice.cookie });
    assert.equal(account.statusCode, 200, account.body);
    assert.deepEqual(
      { ...(account.json() as Record<string, unknown>), created_at: undefined },
      {
        id: alice.userId,
        email: "Alice@example.com",
        created_at: undefined,
        password_set: false,
        password_login_enabled: false,
        recovery_codes_remaining: 10,
      },
    );
    const types = audit.events.filter((event) => event.userId === alice.userId).map((event) => event.type);
    assert.deepEqual(types, ["account.created", "passkey.added", "auth.signed_in"]);
  });

  it("asks for a discoverable, user-verified passkey at sign-up", async () => {
    await client.call("POST", "/v1/auth/signup/start", { email: "options@example.com" });
    const verify = await client.call("POST", "/v1/auth/signup/verify", {
      email: "options@example.com",
      code: client.lastCode("options@example.com"),
    });
    const options = await client.call("POST", "/v1/auth/signup/passkey/options", { ticket: verify.json().ticket });
    assert.equal(options.statusCode, 200);
    const body = options.json();
    assert.deepEqual(body.authenticatorSelection, {
      residentKey: "required",
      requireResidentKey: true,
      userVerification: "required",
    });
    assert.equal(body.attestation, "none");
    assert.equal(body.rp.id, config.webauthn.rpId);
    assert.equal(body.user.name, "options@example.com");
    // A registration without user verification is refused and creates nothing.
    const credential = client.newAuthenticator().register(body, { userVerified: false });
    const done = await client.call("POST", "/v1/auth/signup/passkey/verify", {
      ticket: verify.json().ticket,
      credential,
    });
    assert.equal(done.statusCode, 400);
    assert.equal(done.json().error.code, "passkey_verification_failed");
    assert.equal(done.headers["set-cookie"], undefined);
  });

  it("signs in with the passkey alone, with options that name no account", async () => {
    const options = await client.call("POST", "/v1/auth/passkey/options", {});
    assert.equal(options.statusCode, 200);
    assert.deepEqual(options.json().allowCredentials, []);
    assert.equal(options.json().userVerification, "required");
    const cookie = await client.signIn(alice.authenticator);
    assert.notEqual(cookie, alice.cookie, "a new session id at every sign-in");
    const account = await client.call("GET", "/v1/account", undefined, { cookie });
    assert.equal(account.json().id, alice.userId);
  });

  it("refuses a sign-in challenge used twice", async () => {
    const options = await client.call("POST", "/v1/auth/passkey/options", {});
    const first = alice.authenticator.authenticate(options.json());
    const second = alice.authenticator.authenticate(options.json());
    assert.equal((await client.call("POST", "/v1/auth/passkey/verify", { credential: first })).statusCode, 200);
    const replay = await client.call("POST", "/v1/auth/passkey/verify", { credential: second });
    assert.equal(replay.statusCode, 400);
    assert.equal(replay.json().error.code, "passkey_verification_failed");
  });

  it("needs a fresh step-up to add a passkey, then lists, renames and revokes, never the last", async () => {
    clock.advance(config.auth.stepUpMaxAgeSeconds * 1000 + 1);
    const stale = await client.call("POST", "/v1/passkeys/options", {}, { cookie: alice.cookie });
    assert.equal(stale.statusCode, 401);
    assert.equal(stale.json().error.code, "step_up_required");

    await client.stepUp(alice.cookie, alice.authenticator);
    const options = await client.call("POST", "/v1/passkeys/options", {}, { cookie: alice.cookie });
    assert.equal(options.statusCode, 200, options.body);
    assert.equal(options.json().excludeCredentials.length, 1, "the existing passkey is excluded");
    const laptop = client.newAuthenticator();
    const added = await client.call(
      "POST",
      "/v1/passkeys",
      { credential: laptop.register(options.json()), name: "Laptop" },
      { cookie: alice.cookie },
    );
    assert.equal(added.statusCode, 201, added.body);
    const laptopId = added.json().id as string;

    const list = await client.call("GET", "/v1/passkeys", undefined, { cookie: alice.cookie });
    const passkeys = list.json().passkeys as { id: string; name: string; last_used_at: string | null }[];
    assert.deepEqual(
      passkeys.map((p) => p.name),
      ["First passkey", "Laptop"],
    );
    assert.ok(passkeys[0]?.last_used_at, "the first passkey shows when it was last used");
    assert.equal(passkeys[1]?.last_used_at, null);

    await client.signIn(laptop);

    const renamed = await client.call(
      "PATCH",
      `/v1/passkeys/${laptopId}`,
      { name: "  Work laptop " },
      { cookie: alice.cookie },
    );
    assert.equal(renamed.statusCode, 200, renamed.body);
    assert.equal(renamed.json().name, "Work laptop");
    assert.equal(
      (await client.call("PATCH", `/v1/passkeys/${laptopId}`, { name: "bad\nname" }, { cookie: alice.cookie }))
        .statusCode,
      400,
    );

    const revoked = await client.call("DELETE", `/v1/passkeys/${alice.passkeyId}`, undefined, { cookie: alice.cookie });
    assert.equal(revoked.statusCode, 204, revoked.body);
    const signInWithRevoked = await client.call("POST", "/v1/auth/passkey/options", {});
    const assertion = alice.authenticator.authenticate(signInWithRevoked.json());
    assert.equal((await client.call("POST", "/v1/auth/passkey/verify", { credential: assertion })).statusCode, 400);

    const last = await client.call("DELETE", `/v1/passkeys/${laptopId}`, undefined, { cookie: alice.cookie });
    assert.equal(last.statusCode, 409);
    assert.equal(last.json().error.code, "last_passkey");
    const remaining = await client.call("GET", "/v1/passkeys", undefined, { cookie: alice.cookie });
    assert.deepEqual(
      remaining.json().passkeys.map((p: { id: string }) => p.id),
      [laptopId],
    );
    const types = audit.events.filter((e) => e.userId === alice.userId).map((e) => e.type);
    for (const type of ["auth.stepped_up", "passkey.added", "passkey.renamed", "passkey.revoked"]) {
      assert.ok(types.includes(type), type);
    }

    // Alice carries on with the laptop.
    alice = { ...alice, authenticator: laptop, passkeyId: laptopId };
  });

  it("refuses two concurrent revokes that would remove the last passkey", async () => {
    const bob = await client.signUp("bob@example.com");
    const options = await client.call("POST", "/v1/passkeys/options", {}, { cookie: bob.cookie });
    const second = client.newAuthenticator();
    const added = await client.call(
      "POST",
      "/v1/passkeys",
      { credential: second.register(options.json()) },
      { cookie: bob.cookie },
    );
    assert.equal(added.statusCode, 201);
    const results = await Promise.all(
      [bob.passkeyId, added.json().id].map((id) =>
        client.call("DELETE", `/v1/passkeys/${id}`, undefined, { cookie: bob.cookie }),
      ),
    );
    assert.deepEqual(results.map((r) => r.statusCode).sort(), [204, 409]);
  });

  it("does not step up a session with a challenge issued to another session", async () => {
    const other = await client.signIn(alice.authenticator);
    const options = await client.call("POST", "/v1/auth/step-up/options", {}, { cookie: other });
    const credential = alice.authenticator.authenticate(options.json());
    const res = await client.call("POST", "/v1/auth/step-up/verify", { credential }, { cookie: alice.cookie });
    assert.equal(res.statusCode, 400);
    assert.equal(res.json().error.code, "passkey_verification_failed");
  });

  it("does not step up with a passkey of another account", async () => {
    const carol = await client.signUp("carol@example.com");
    const options = await client.call("POST", "/v1/auth/step-up/options", {}, { cookie: alice.cookie });
    // Carol's authenticator answers Alice's step-up challenge with Carol's passkey.
    const credential = carol.authenticator.authenticate({ ...options.json(), allowCredentials: [] });
    const res = await client.call("POST", "/v1/auth/step-up/verify", { credential }, { cookie: alice.cookie });
    assert.equal(res.statusCode, 400);
  });

  it("answers 401 without a session and 403 without the app's Origin", async () => {
    assert.equal((await client.call("GET", "/v1/passkeys")).statusCode, 401);
    const crossSite = await client.call("POST", "/v1/auth/passkey/options", {}, { origin: "https://evil.example" });
    assert.equal(crossSite.statusCode, 403);
    assert.equal(crossSite.json().error.code, "origin_mismatch");
  });

  it("replaces the recovery codes after a step-up, and shows the new ones once", async () => {
    const cookie = await client.signIn(alice.authenticator);
    const res = await client.call("POST", "/v1/account/recovery-codes", {}, { cookie });
    assert.equal(res.statusCode, 200, res.body);
    const codes = res.json().recovery_codes as string[];
    assert.equal(codes.length, 10);
    assert.ok(codes.every((code) => !alice.recoveryCodes.includes(code)));
  });
});
