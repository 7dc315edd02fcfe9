import assert from "node:assert/strict";
import { before, it } from "node:test";
import { createTestApp, createTestConfig } from "../../test-support/test-app.ts";
import { describeEachDatabase } from "../../test-support/test-database.ts";
import type { Database } from "../db/database.ts";
import { createMemoryMailer } from "../mail/memory-mailer.ts";
import { normalizeRecoveryCode } from "./recovery-codes.ts";
import { createAccountTestClient } from "./testing/account-test-client.ts";

/** Every row of every table in the public schema, as one searchable text. */
async function dumpAllTables(db: Database): Promise<{ text: string; tables: string[] }> {
  const { rows: tables } = await db.query<{ table_name: string }>(
    "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1",
  );
  const parts: string[] = [];
  for (const { table_name: table } of tables) {
    const { rows } = await db.query(`SELECT * FROM "${table}"`);
    for (const row of rows) {
      for (const value of Object.values(row)) {
        // Bytes are searched as text too, so a plaintext stored in a bytea column is found.
        if (value instanceof Uint8Array)
          parts.push(Buffer.from(value).toString("latin1"), Buffer.from(value).toString("utf8"));
        else parts.push(typeof value === "string" ? value : JSON.stringify(value));
      }
    }
  }
  return { text: parts.join("\n"), tables: tables.map((t) => t.table_name) };
}

/** Whether `needle` appears as a token of its own (not inside a longer run of letters and digits). */
function containsToken(haystack: string, needle: string): boolean {
  const escaped = needle.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return new RegExp(`(?<![A-Za-z0-9])${escaped}(?![A-Za-z0-9])`, "i").test(haystack);
}

describeEachDatabase("what a stolen database dump shows", (ctx) => {
  const secrets: { label: string; value: string }[] = [];

  before(async () => {
    const config = createTestConfig({ COUNTERSIGN_AUTH_MIN_DURATION_MS: "0", COUNTERSIGN_PASSWORD_LOGIN: "true" });
    const mailer = createMemoryMailer();
    const app = await createTestApp(ctx.db, { config, services: { mailer } });
    const client = createAccountTestClient(app, { mailer, webauthn: config.webauthn, host: config.appHost });
    const password = "Tr0ub4dor&3-but-longer";

    // An account with a password, recovery codes, a pending recovery code, a pending second
    // factor, and a second address with a pending sign-up code.
    const zelda = await client.signUp("zelda.atrest@example.org");
    assert.equal(
      (await client.call("PUT", "/v1/account/password", { password }, { cookie: zelda.cookie })).statusCode,
      204,
    );
    await client.call("POST", "/v1/auth/recovery/start", { email: zelda.email });
    const recoveryEmailCode = client.lastCode(zelda.email);
    const login = await client.call("POST", "/v1/auth/password", { email: zelda.email, password });
    assert.equal(login.statusCode, 200);
    const secondFactor = client.lastCode(zelda.email);
    await client.call("POST", "/v1/auth/signup/start", { email: "pending.signup@example.net" });
    const signupCode = client.lastCode("pending.signup@example.net");
    const verify = await client.call("POST", "/v1/auth/signup/verify", {
      email: "pending.signup@example.net",
      code: signupCode,
    });
    assert.equal(verify.statusCode, 200);
    // …and a fresh code for the same address that is never used.
    await client.call("POST", "/v1/auth/signup/start", { email: "pending.signup@example.net" });
    const unusedSignupCode = client.lastCode("pending.signup@example.net");

    secrets.push(
      { label: "email", value: "zelda.atrest@example.org" },
      { label: "email local part", value: "zelda.atrest" },
      { label: "pending sign-up email", value: "pending.signup@example.net" },
      { label: "pending sign-up local part", value: "pending.signup" },
      { label: "password", value: password },
      { label: "recovery email code", value: recoveryEmailCode },
      { label: "second-factor code", value: secondFactor },
      { label: "used sign-up code", value: signupCode },
      { label: "unused sign-up code", value: unusedSignupCode },
      { label: "sign-up ticket", value: verify.json().ticket },
      { label: "password ticket", value: login.json().ticket },
    );
    for (const [i, code] of zelda.recoveryCodes.entries()) {
      secrets.push({ label: `recovery code ${i}`, value: code });
      secrets.push({ label: `recovery code ${i}, canonical`, value: normalizeRecoveryCode(code) ?? "" });
    }
  });

  it("holds no email address, code, ticket, password or recovery code in plaintext", async () => {
    const { text, tables } = await dumpAllTables(ctx.db);
    for (const table of ["users", "email_codes", "auth_tickets", "passkeys", "recovery_codes", "sessions"]) {
      assert.ok(tables.includes(table), `the dump covers ${table}`);
    }
    assert.ok(text.length > 1000, "the dump is not empty");
    for (const { label, value } of secrets) {
      assert.ok(value.length >= 6, label);
      assert.equal(containsToken(text, value), false, `${label} is in the dump`);
    }
  });

  it("finds a planted plaintext, so the search itself works", async () => {
    await ctx.db.query(
      "INSERT INTO agent_request_nonces (key_id, nonce, expires_at) VALUES ('probe', 'zelda.atrest@example.org', now())",
    );
    const { text } = await dumpAllTables(ctx.db);
    assert.equal(containsToken(text, "zelda.atrest@example.org"), true);
    await ctx.db.query("DELETE FROM agent_request_nonces WHERE key_id = 'probe'");
  });
});
