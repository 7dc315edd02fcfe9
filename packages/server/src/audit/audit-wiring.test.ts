import assert from "node:assert/strict";
import { before, it } from "node:test";
import { parseVerifierKey } from "@countersign/protocol";
import type { FastifyInstance } from "fastify";
import { createTestApp, createTestConfig } from "../../test-support/test-app.ts";
import { describeEachDatabase } from "../../test-support/test-database.ts";
import { type AccountTestClient, createAccountTestClient } from "../accounts/testing/account-test-client.ts";
import type { Config } from "../config/config.ts";
import { createMemoryMailer } from "../mail/memory-mailer.ts";
import { auditLogOrigin, auditLogVerifierKey } from "./audit-log-signer.ts";
import { verifyAuditLog } from "./verify-audit-log.ts";

/**
 * The app as built for production, with no audit override: the domains' events must reach the
 * real, hash-chained log, in the same transaction as what they record.
 */
describeEachDatabase("the audit log behind the app's domains", (ctx) => {
  let app: FastifyInstance;
  let config: Config;
  let client: AccountTestClient;

  before(async () => {
    config = createTestConfig();
    const mailer = createMemoryMailer();
    app = await createTestApp(ctx.db, { config, services: { mailer } });
    client = createAccountTestClient(app, { mailer, webauthn: config.webauthn, host: config.appHost });
  });

  it("records sign-up, sign-in and step-up in the chain, with personal context encrypted", async () => {
    const alice = await client.signUp("alice@example.com");
    await client.signIn(alice.authenticator);
    await client.stepUp(alice.cookie, alice.authenticator);

    const { rows } = await ctx.db.query<{ event_type: string; user_id: string | null; entry: Uint8Array }>(
      "SELECT event_type, user_id, entry FROM audit_log ORDER BY seq",
    );
    const types = rows.map((r) => r.event_type);
    assert.ok(types.length >= 3, `events: ${types.join(", ")}`);
    assert.ok(
      rows.every((r) => r.user_id === null || r.user_id === alice.userId),
      "events name the user they belong to",
    );
    assert.ok(
      rows.some((r) => r.user_id === alice.userId),
      "the account's events belong to it",
    );
    const raw = Buffer.concat(rows.map((r) => r.entry)).toString("utf8");
    assert.doesNotMatch(raw, /alice@example\.com/, "no plaintext email in the log");
    assert.doesNotMatch(raw, /127\.0\.0\.1/, "no plaintext address in the log");

    const report = await verifyAuditLog(ctx.db, {
      verifiers: [parseVerifierKey(auditLogVerifierKey(config))],
      origin: auditLogOrigin(config.publicUrl),
    });
    assert.equal(report.ok, true, JSON.stringify(report.problems));
    assert.equal(report.entriesVerified, rows.length);
  });
});
