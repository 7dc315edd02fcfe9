import assert from "node:assert/strict";
import { before, it } from "node:test";
import { createTestApp, createTestConfig } from "../../test-support/test-app.ts";
import { describeEachDatabase } from "../../test-support/test-database.ts";
import {
  type AccountTestClient,
  type CapturingAuditSink,
  createAccountTestClient,
  createCapturingAuditSink,
} from "../accounts/testing/account-test-client.ts";
import { createMemoryMailer } from "../mail/memory-mailer.ts";

describeEachDatabase("signature counters (WebAuthn L3 §6.1.1, §7.2)", (ctx) => {
  let client: AccountTestClient;
  let audit: CapturingAuditSink;

  before(async () => {
    const config = createTestConfig({ COUNTERSIGN_AUTH_MIN_DURATION_MS: "0" });
    const mailer = createMemoryMailer();
    audit = createCapturingAuditSink();
    const app = await createTestApp(ctx.db, { config, services: { mailer, auditSink: audit } });
    client = createAccountTestClient(app, { mailer, webauthn: config.webauthn, host: config.appHost });
  });

  it("refuses a cloned authenticator whose counter did not advance, flags the passkey and audits it", async () => {
    const gina = await client.signUp("gina@example.com");
    const clone = gina.authenticator.clone();
    await client.signIn(gina.authenticator); // stored counter: 1
    await client.signIn(gina.authenticator); // stored counter: 2

    const options = await client.call("POST", "/v1/auth/passkey/options", {});
    const credential = clone.authenticate(options.json()); // the clone reports 1
    const res = await client.call("POST", "/v1/auth/passkey/verify", { credential });
    assert.equal(res.statusCode, 400);
    assert.equal(res.json().error.code, "passkey_verification_failed");
    assert.equal(res.headers["set-cookie"], undefined);

    const list = await client.call("GET", "/v1/passkeys", undefined, { cookie: gina.cookie });
    assert.ok(list.json().passkeys[0].counter_regressed_at, "the passkey is flagged");
    const event = audit.events.find((e) => e.type === "passkey.counter_regressed");
    assert.equal(event?.userId, gina.userId);
    assert.equal(event?.subject?.id, gina.passkeyId);

    // The stored counter was kept, so the original (now at 3) still signs in.
    await client.signIn(gina.authenticator);
  });

  it("accepts authenticators that keep the counter at zero, as synced passkeys do", async () => {
    const authenticator = client.newAuthenticator({ counter: "zero", backupEligible: true });
    const hank = await client.signUp("hank@example.com", { authenticator });
    await client.signIn(authenticator);
    await client.signIn(authenticator);
    const list = await client.call("GET", "/v1/passkeys", undefined, { cookie: hank.cookie });
    const [passkey] = list.json().passkeys;
    assert.equal(passkey.counter_regressed_at, null);
    assert.equal(passkey.backup_eligible, true);
    assert.equal(passkey.backed_up, true);
  });

  it("lets only one of two concurrent assertions with the same counter through", async () => {
    const ivy = await client.signUp("ivy@example.com");
    const clone = ivy.authenticator.clone();
    const [a, b] = await Promise.all([
      client.call("POST", "/v1/auth/passkey/options", {}),
      client.call("POST", "/v1/auth/passkey/options", {}),
    ]);
    // Both copies report counter 1, each for its own challenge.
    const results = await Promise.all([
      client.call("POST", "/v1/auth/passkey/verify", { credential: ivy.authenticator.authenticate(a.json()) }),
      client.call("POST", "/v1/auth/passkey/verify", { credential: clone.authenticate(b.json()) }),
    ]);
    assert.deepEqual(results.map((r) => r.statusCode).sort(), [200, 400]);
  });
});
