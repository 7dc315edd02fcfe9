import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { it } from "node:test";
import { toBase64Url } from "@countersign/protocol";
import { recordingTransaction } from "../../test-support/recording-database.ts";
import { createTestConfig } from "../../test-support/test-app.ts";
import { describeEachDatabase } from "../../test-support/test-database.ts";
import { ensureTestUser, testUserId } from "../../test-support/test-users.ts";
import { systemClock } from "../clock.ts";
import { createKeyRingFromConfig } from "../crypto/create-key-ring-from-config.ts";
import { createUserDataKeys } from "../crypto/user-data-keys.ts";
import { createPasskeyStore, type NewPasskey } from "./passkey-store.ts";

/** A verified credential as registration hands it over: a new credential id and random key bytes. */
function newPasskey(over: Partial<NewPasskey> = {}): NewPasskey {
  return {
    credentialId: toBase64Url(randomBytes(32)),
    publicKey: new Uint8Array(randomBytes(77)),
    signCount: 0,
    transports: ["internal"],
    aaguid: "00000000-0000-0000-0000-000000000000",
    attestationFormat: "none",
    backupEligible: false,
    backedUp: false,
    ...over,
  };
}

describeEachDatabase("the passkey store", (ctx) => {
  const store = createPasskeyStore({
    dataKeys: createUserDataKeys(createKeyRingFromConfig(createTestConfig())),
    clock: systemClock,
  });

  it("refuses a second registration of one credential with a coded error, even when both race", async () => {
    const [alice, bob] = [testUserId("store-alice"), testUserId("store-bob")];
    await ensureTestUser(ctx.db, alice);
    await ensureTestUser(ctx.db, bob);
    const passkey = newPasskey();
    const results = await Promise.allSettled([
      ctx.db.transaction((tx) => store.insert(tx, alice, passkey, "Phone")),
      ctx.db.transaction((tx) => store.insert(tx, bob, passkey, "Laptop")),
    ]);
    assert.equal(results.filter((r) => r.status === "fulfilled").length, 1);
    const refused = results.find((r) => r.status === "rejected");
    assert.equal((refused as PromiseRejectedResult).reason.code, "passkey_verification_failed");
    const { rows } = await ctx.db.query("SELECT user_id FROM passkeys WHERE credential_id = $1", [
      passkey.credentialId,
    ]);
    assert.equal(rows.length, 1);
  });

  it("records the uses of one turn with one statement, each with the outcome it would have had alone", async () => {
    const [alice, bob] = [testUserId("store-use-alice"), testUserId("store-use-bob")];
    await ensureTestUser(ctx.db, alice);
    await ensureTestUser(ctx.db, bob);
    const register = (userId: string, signCount: number) =>
      ctx.db.transaction((tx) => store.insert(tx, userId, newPasskey({ signCount, backupEligible: true }), "Key"));
    const counting = await register(alice, 10);
    const synced = await register(bob, 0); // an authenticator without a counter
    const revoked = await register(bob, 3);
    assert.equal(await ctx.db.transaction((tx) => store.revoke(tx, bob, revoked.id)), true);
    const stale = await register(alice, 7);

    const statements: string[] = [];
    const outcomes = await ctx.db.transaction((raw) => {
      const tx = recordingTransaction(raw, (sql) => statements.push(sql));
      return Promise.all([
        store.recordUse(tx, counting.id, { signCount: 12, backedUp: false }),
        store.recordUse(tx, synced.id, { signCount: 0, backedUp: true }),
        store.recordUse(tx, revoked.id, { signCount: 4, backedUp: false }), // revoked
        store.recordUse(tx, stale.id, { signCount: 7, backedUp: false }), // the counter did not advance
        store.recordUse(tx, counting.id, { signCount: 11, backedUp: false }), // behind the 12 just recorded
        store.recordUse(tx, counting.id, { signCount: 13, backedUp: true }), // ahead of it
      ]);
    });
    assert.deepEqual(outcomes, [true, true, false, false, false, true]);
    // One statement for the first use of each passkey; the two repeats follow it, one each.
    assert.equal(statements.length, 3, statements.join("\n"));

    const { rows } = await ctx.db.query<{ id: string; sign_count: number; backed_up: boolean; used: boolean }>(
      "SELECT id, sign_count, backed_up, last_used_at IS NOT NULL AS used FROM passkeys WHERE id = ANY($1::text[])",
      [[counting.id, synced.id, revoked.id, stale.id]],
    );
    const byId = new Map(rows.map((row) => [row.id, { ...row, sign_count: Number(row.sign_count) }]));
    assert.deepEqual(byId.get(counting.id), { id: counting.id, sign_count: 13, backed_up: true, used: true });
    assert.deepEqual(byId.get(synced.id), { id: synced.id, sign_count: 0, backed_up: true, used: true });
    assert.deepEqual(byId.get(revoked.id), { id: revoked.id, sign_count: 3, backed_up: false, used: false });
    assert.deepEqual(byId.get(stale.id), { id: stale.id, sign_count: 7, backed_up: false, used: false });
  });
});
