import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { it } from "node:test";
import { createManualClock } from "../../test-support/manual-clock.ts";
import { describeEachDatabase } from "../../test-support/test-database.ts";
import { createEmailCodes, EMAIL_CODE_TTL_MS, type EmailCodeKey } from "./email-codes.ts";
import { createTokenDigester } from "./token-digest.ts";

const subject = () => randomBytes(32).toString("hex");

describeEachDatabase("email codes", (ctx) => {
  const clock = createManualClock();
  const codes = createEmailCodes({ digests: createTokenDigester(randomBytes(32)), clock });
  const consume = (key: EmailCodeKey, code: string, alsoRequire?: boolean) =>
    ctx.db.transaction((tx) => codes.consume(tx, key, code, alsoRequire));

  it("draws a 6-digit code and stores only its keyed digest", async () => {
    const key: EmailCodeKey = { purpose: "signup", subject: subject() };
    const code = await codes.issue(ctx.db, key, null);
    assert.match(code, /^[0-9]{6}$/);
    const { rows } = await ctx.db.query("SELECT * FROM email_codes WHERE subject = $1", [key.subject]);
    assert.equal(rows.length, 1);
    assert.ok(!JSON.stringify(rows).includes(code));
  });

  it("accepts the right code once", async () => {
    const key: EmailCodeKey = { purpose: "signup", subject: subject() };
    const code = await codes.issue(ctx.db, key, null);
    assert.equal(await consume(key, code), true);
    assert.equal(await consume(key, code), false);
  });

  it("binds a code to its purpose and subject", async () => {
    const key: EmailCodeKey = { purpose: "signup", subject: subject() };
    const code = await codes.issue(ctx.db, key, null);
    assert.equal(await consume({ purpose: "recovery", subject: key.subject }, code), false);
    assert.equal(await consume({ purpose: "signup", subject: subject() }, code), false);
    assert.equal(await consume(key, code), true);
  });

  it("lets exactly one of many concurrent right entries win", async () => {
    const key: EmailCodeKey = { purpose: "signup", subject: subject() };
    const code = await codes.issue(ctx.db, key, null);
    const results = await Promise.all(Array.from({ length: 8 }, () => consume(key, code)));
    assert.equal(results.filter(Boolean).length, 1);
  });

  it("burns the code on the fifth wrong entry", async () => {
    const key: EmailCodeKey = { purpose: "recovery", subject: subject() };
    const code = await codes.issue(ctx.db, key, null);
    const wrong = code === "000000" ? "000001" : "000000";
    for (let i = 0; i < 5; i += 1) assert.equal(await consume(key, wrong), false);
    assert.equal(await consume(key, code), false, "the right code no longer works");
    const { rowCount } = await ctx.db.query("SELECT 1 FROM email_codes WHERE subject = $1", [key.subject]);
    assert.equal(rowCount, 0);
  });

  it("survives four wrong entries", async () => {
    const key: EmailCodeKey = { purpose: "recovery", subject: subject() };
    const code = await codes.issue(ctx.db, key, null);
    for (let i = 0; i < 4; i += 1) assert.equal(await consume(key, "abc"), false);
    assert.equal(await consume(key, code), true);
  });

  it("counts a right code whose companion check failed as a wrong entry", async () => {
    const key: EmailCodeKey = { purpose: "recovery", subject: subject() };
    const code = await codes.issue(ctx.db, key, null);
    assert.equal(await consume(key, code, false), false);
    const { rows } = await ctx.db.query<{ attempts: number }>("SELECT attempts FROM email_codes WHERE subject = $1", [
      key.subject,
    ]);
    assert.equal(rows[0]?.attempts, 1);
    assert.equal(await consume(key, code, true), true);
  });

  it("refuses an expired code", async () => {
    const key: EmailCodeKey = { purpose: "password-2fa", subject: subject() };
    const code = await codes.issue(ctx.db, key, null);
    clock.advance(EMAIL_CODE_TTL_MS);
    assert.equal(await consume(key, code), false);
  });

  it("replaces a live code when a new one is issued", async () => {
    const key: EmailCodeKey = { purpose: "signup", subject: subject() };
    const first = await codes.issue(ctx.db, key, null);
    let second = await codes.issue(ctx.db, key, null);
    while (second === first) second = await codes.issue(ctx.db, key, null);
    assert.equal(await consume(key, first), false);
    assert.equal(await consume(key, second), true);
  });
});
