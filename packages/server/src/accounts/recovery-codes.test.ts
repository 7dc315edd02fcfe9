import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, it } from "node:test";
import { createManualClock } from "../../test-support/manual-clock.ts";
import { describeEachDatabase } from "../../test-support/test-database.ts";
import { ensureTestUser } from "../../test-support/test-users.ts";
import { createPasswordHasher, type PasswordHasher } from "./password-hasher.ts";
import {
  createRecoveryCodes,
  generateRecoveryCode,
  normalizeRecoveryCode,
  RECOVERY_CODE_BITS,
  RECOVERY_CODE_COUNT,
} from "./recovery-codes.ts";
import { createTokenDigester } from "./token-digest.ts";

describe("recovery code format", () => {
  it("has at least 80 bits in four groups of five Crockford base32 symbols", () => {
    assert.ok(RECOVERY_CODE_BITS >= 80);
    assert.match(generateRecoveryCode(), /^[0-9A-HJKMNP-TV-Z]{5}(-[0-9A-HJKMNP-TV-Z]{5}){3}$/);
  });

  it("uses every symbol, uniformly enough", () => {
    const counts = new Map<string, number>();
    for (let i = 0; i < 2000; i += 1) {
      for (const char of generateRecoveryCode().replaceAll("-", "")) counts.set(char, (counts.get(char) ?? 0) + 1);
    }
    assert.equal(counts.size, 32);
    // 40,000 symbols over 32: 1,250 expected each; a biased draw would stray far further.
    for (const [char, n] of counts) assert.ok(n > 1000 && n < 1500, `${char}: ${n}`);
  });

  it("reads codes typed loosely and folds look-alikes", () => {
    assert.equal(normalizeRecoveryCode("abcde-fghjk-mnpqr-stvwx"), "ABCDEFGHJKMNPQRSTVWX");
    assert.equal(normalizeRecoveryCode(" 0O1IL 22222 33333 44444 "), "00111222223333344444");
    for (const bad of ["", "ABCDE-FGHJK-MNPQR", "ABCDE-FGHJK-MNPQR-STVWU", "ABCDE-FGHJK-MNPQR-STVWXY", 7]) {
      assert.equal(normalizeRecoveryCode(bad), null, String(bad));
    }
  });
});

/** Counts Argon2id verifies, real and dummy, around a real hasher. */
function countingHasher(inner: PasswordHasher) {
  const counts = { verify: 0, dummy: 0 };
  const hasher: PasswordHasher = {
    ...inner,
    verify: (phc, secret) => {
      counts.verify += 1;
      return inner.verify(phc, secret);
    },
    verifyDummy: (secret) => {
      counts.dummy += 1;
      return inner.verifyDummy(secret);
    },
  };
  return { hasher, counts };
}

describeEachDatabase("recovery codes", (ctx) => {
  const { hasher, counts } = countingHasher(createPasswordHasher({ memoryKiB: 19_456, iterations: 2, parallelism: 1 }));
  const codes = createRecoveryCodes({
    hasher,
    digests: createTokenDigester(randomBytes(32)),
    clock: createManualClock(),
  });

  async function newUser(): Promise<string> {
    const id = `usr_${randomBytes(16).toString("base64url")}`;
    await ensureTestUser(ctx.db, id);
    return id;
  }

  it("stores ten Argon2id hashes and checks a code with exactly one verify, known or not", async () => {
    const userId = await newUser();
    const prepared = await codes.prepare(userId);
    assert.equal(prepared.codes.length, RECOVERY_CODE_COUNT);
    await codes.store(ctx.db, userId, prepared.rows);
    const { rows } = await ctx.db.query<{ hash: string }>("SELECT hash FROM recovery_codes WHERE user_id = $1", [
      userId,
    ]);
    assert.equal(rows.length, 10);
    for (const row of rows) assert.match(row.hash, /^\$argon2id\$/);

    const cases: [string | null, string, boolean][] = [
      [userId, prepared.codes[0] ?? "", true],
      [userId, "ZZZZZ-ZZZZZ-ZZZZZ-ZZZZZ", false],
      [userId, "not a code", false],
      [null, prepared.codes[1] ?? "", false],
    ];
    for (const [user, input, expected] of cases) {
      const before = counts.verify + counts.dummy;
      const lookup = await codes.check(ctx.db, user, input);
      assert.equal(lookup !== null, expected, input);
      assert.equal(counts.verify + counts.dummy - before, 1, `one Argon2id verify for ${input}`);
    }
  });

  it("uses a code once", async () => {
    const userId = await newUser();
    const prepared = await codes.prepare(userId);
    await codes.store(ctx.db, userId, prepared.rows);
    const lookup = await codes.check(ctx.db, userId, prepared.codes[2] ?? "");
    assert.ok(lookup);
    assert.equal(await codes.markUsed(ctx.db, userId, lookup), true);
    assert.equal(await codes.markUsed(ctx.db, userId, lookup), false);
    assert.equal(await codes.check(ctx.db, userId, prepared.codes[2] ?? ""), null);
    assert.equal(await codes.remaining(ctx.db, userId), 9);
  });

  it("binds a code to its account", async () => {
    const [a, b] = [await newUser(), await newUser()];
    const prepared = await codes.prepare(a);
    await codes.store(ctx.db, a, prepared.rows);
    assert.equal(await codes.check(ctx.db, b, prepared.codes[0] ?? ""), null);
  });
});
