import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CountersignError } from "@countersign/protocol";
import { createManualClock } from "../../test-support/manual-clock.ts";
import { describeEachDatabase } from "../../test-support/test-database.ts";
import { openPgDatabase } from "../db/pg-database.ts";
import { type AttemptKey, createAttemptLimiter, DEFAULT_ATTEMPT_POLICIES, sweepAttempts } from "./attempt-limiter.ts";
import { backoffSeconds } from "./backoff-seconds.ts";

const masterKey = Uint8Array.from({ length: 32 }, (_, i) => i * 7);
const SECOND = 1000;

function isLimited(retryAfter: number) {
  return (error: unknown) =>
    error instanceof CountersignError &&
    error.code === "too_many_attempts" &&
    error.status === 429 &&
    error.retryAfter === retryAfter;
}

describe("backoffSeconds", () => {
  it("is free for the first failures, then doubles from 2 s, and stops at the cap", () => {
    const policy = DEFAULT_ATTEMPT_POLICIES.account;
    const waits = Array.from({ length: 18 }, (_, i) => backoffSeconds(i + 1, policy));
    assert.deepEqual(waits, [0, 0, 0, 0, 0, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900, 900, 900]);
    assert.equal(backoffSeconds(1_000_000, policy), 900);
    assert.equal(backoffSeconds(20, DEFAULT_ATTEMPT_POLICIES.ip), 0);
    assert.equal(backoffSeconds(21, DEFAULT_ATTEMPT_POLICIES.ip), 2);
    assert.throws(() => backoffSeconds(-1, policy), RangeError);
  });
});

describeEachDatabase("attempt limits", (ctx) => {
  const account = (subject: string, action = "sign-in.password"): AttemptKey => ({ scope: "account", action, subject });
  const ip = (subject: string, action = "sign-in.password"): AttemptKey => ({ scope: "ip", action, subject });

  it("allows 5 free failures per account, then backs off 2 s, 4 s, 8 s …", async () => {
    const clock = createManualClock();
    const limiter = createAttemptLimiter({ masterKey, clock });
    const keys = [account("ada@example.com")];
    // Five failures cost nothing; the sixth starts the first wait.
    for (let i = 0; i < 6; i++) {
      await limiter.assertAllowed(ctx.db, keys);
      await limiter.recordFailure(ctx.db, keys);
    }
    await assert.rejects(limiter.assertAllowed(ctx.db, keys), isLimited(2));
    clock.advance(1 * SECOND);
    await assert.rejects(limiter.assertAllowed(ctx.db, keys), isLimited(1));
    clock.advance(1 * SECOND);
    await limiter.assertAllowed(ctx.db, keys);
    await limiter.recordFailure(ctx.db, keys);
    await assert.rejects(limiter.assertAllowed(ctx.db, keys), isLimited(4));
    clock.advance(4 * SECOND);
    await limiter.recordFailure(ctx.db, keys);
    await assert.rejects(limiter.assertAllowed(ctx.db, keys), isLimited(8));
    // Other accounts and other actions are not affected.
    await limiter.assertAllowed(ctx.db, [account("bob@example.com"), account("ada@example.com", "sign-up.code")]);
  });

  it("caps the wait at 15 minutes", async () => {
    const clock = createManualClock();
    const limiter = createAttemptLimiter({ masterKey, clock });
    const keys = [account("cap@example.com")];
    for (let i = 0; i < 30; i++) await limiter.recordFailure(ctx.db, keys);
    await assert.rejects(limiter.assertAllowed(ctx.db, keys), isLimited(900));
  });

  it("counts per client network: 20 free failures, one IPv6 /64 counted as one", async () => {
    const clock = createManualClock();
    const limiter = createAttemptLimiter({ masterKey, clock });
    for (let i = 0; i < 20; i++) {
      await limiter.recordFailure(ctx.db, [ip(`2001:db8:1:2::${(i + 1).toString(16)}`)]);
    }
    await limiter.assertAllowed(ctx.db, [ip("2001:db8:1:2::99")]);
    await limiter.recordFailure(ctx.db, [ip("2001:db8:1:2::99")]);
    await assert.rejects(limiter.assertAllowed(ctx.db, [ip("2001:DB8:1:2:ffff::1")]), isLimited(2));
    await limiter.assertAllowed(ctx.db, [ip("2001:db8:1:3::1")]);
  });

  it("refuses when any key is waiting, with the longest wait", async () => {
    const clock = createManualClock();
    const limiter = createAttemptLimiter({ masterKey, clock });
    for (let i = 0; i < 7; i++) await limiter.recordFailure(ctx.db, [account("long@example.com")]);
    for (let i = 0; i < 6; i++) await limiter.recordFailure(ctx.db, [account("short@example.com")]);
    await assert.rejects(
      limiter.assertAllowed(ctx.db, [account("short@example.com"), account("long@example.com"), ip("192.0.2.1")]),
      isLimited(4),
    );
  });

  it("forgets failures on reset, and after 24 hours without one", async () => {
    const clock = createManualClock();
    const limiter = createAttemptLimiter({ masterKey, clock });
    const keys = [account("reset@example.com")];
    for (let i = 0; i < 6; i++) await limiter.recordFailure(ctx.db, keys);
    await assert.rejects(limiter.assertAllowed(ctx.db, keys), isLimited(2));
    await limiter.reset(ctx.db, keys);
    await limiter.assertAllowed(ctx.db, keys);
    await limiter.recordFailure(ctx.db, keys);
    await limiter.assertAllowed(ctx.db, keys);

    const stale = [account("stale@example.com")];
    for (let i = 0; i < 6; i++) await limiter.recordFailure(ctx.db, stale);
    clock.advance(86_400 * SECOND);
    await limiter.assertAllowed(ctx.db, stale);
    await limiter.recordFailure(ctx.db, stale);
    await limiter.assertAllowed(ctx.db, stale);
    const { rows } = await ctx.db.query<{ failures: number }>(
      "SELECT failures FROM auth_attempts WHERE failures = 1 AND last_failure_at = $1",
      [new Date(clock.now())],
    );
    assert.ok(rows.length >= 1, "the count started over at 1");
  });

  it("holds across processes: two limiters on one database share the counts", async () => {
    const clock = createManualClock();
    const other = ctx.url === undefined ? ctx.db : await openPgDatabase({ databaseUrl: ctx.url, poolSize: 2 });
    try {
      const first = createAttemptLimiter({ masterKey, clock });
      const second = createAttemptLimiter({ masterKey, clock });
      const keys = [account("shared@example.com"), ip("203.0.113.9")];
      await Promise.all([
        ...Array.from({ length: 3 }, () => first.recordFailure(ctx.db, keys)),
        ...Array.from({ length: 3 }, () => second.recordFailure(other, keys)),
      ]);
      await assert.rejects(second.assertAllowed(other, keys), isLimited(2), "six concurrent failures all counted");
      await assert.rejects(first.assertAllowed(ctx.db, keys), isLimited(2));
      await second.reset(other, [keys[0] as AttemptKey]);
      await first.assertAllowed(ctx.db, keys);
    } finally {
      if (other !== ctx.db) await other.close();
    }
  });

  it("stores only keyed digests of subjects", async () => {
    const limiter = createAttemptLimiter({ masterKey, clock: createManualClock() });
    await limiter.recordFailure(ctx.db, [account("secret-person@example.com"), ip("198.51.100.77")]);
    const { rows } = await ctx.db.query<Record<string, unknown>>("SELECT * FROM auth_attempts");
    const dump = JSON.stringify(rows, (_k, v) => (v instanceof Uint8Array ? Buffer.from(v).toString("latin1") : v));
    assert.equal(dump.includes("secret-person"), false);
    assert.equal(dump.includes("198.51.100"), false);
    // Another server (another root secret) cannot match them.
    const stranger = createAttemptLimiter({ masterKey: new Uint8Array(32).fill(9), clock: createManualClock() });
    for (let i = 0; i < 5; i++) await limiter.recordFailure(ctx.db, [account("secret-person@example.com")]);
    await assert.rejects(limiter.assertAllowed(ctx.db, [account("secret-person@example.com")]), isLimited(2));
    await stranger.assertAllowed(ctx.db, [account("secret-person@example.com")]);
  });

  it("sweeps counts that are forgotten and not waiting", async () => {
    const clock = createManualClock(Date.UTC(2030, 0, 1));
    const limiter = createAttemptLimiter({ masterKey, clock });
    // Years after the other tests' failures: sweep those first, so only this test's rows count.
    await sweepAttempts(ctx.db, clock.now());
    await limiter.recordFailure(ctx.db, [account("sweep-old@example.com")]);
    clock.advance(86_400 * SECOND);
    await limiter.recordFailure(ctx.db, [account("sweep-new@example.com")]);
    assert.equal(await sweepAttempts(ctx.db, clock.now()), 1);
    assert.equal(await sweepAttempts(ctx.db, clock.now()), 0);
  });

  it("refuses malformed keys and policies", async () => {
    const limiter = createAttemptLimiter({ masterKey, clock: createManualClock() });
    await assert.rejects(limiter.recordFailure(ctx.db, [account("x", "Sign In")]), TypeError);
    await assert.rejects(limiter.recordFailure(ctx.db, [account("")]), TypeError);
    await assert.rejects(
      limiter.recordFailure(ctx.db, [{ scope: "device" as "ip", action: "a", subject: "x" }]),
      TypeError,
    );
    assert.throws(
      () =>
        createAttemptLimiter({
          masterKey,
          clock: createManualClock(),
          policies: {
            ...DEFAULT_ATTEMPT_POLICIES,
            ip: { freeFailures: -1, maxDelaySeconds: 1, forgetAfterSeconds: 1 },
          },
        }),
      RangeError,
    );
  });
});
