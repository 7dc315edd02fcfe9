import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { it } from "node:test";
import { toBase64Url } from "@countersign/protocol";
import { createTestConfig } from "../../test-support/test-app.ts";
import { describeEachDatabase } from "../../test-support/test-database.ts";
import { ensureTestUser, testUserId } from "../../test-support/test-users.ts";
import { systemClock } from "../clock.ts";
import { createKeyRingFromConfig } from "../crypto/create-key-ring-from-config.ts";
import { createUserDataKeys } from "../crypto/user-data-keys.ts";
import { createPasskeyStore, type NewPasskey } from "./passkey-store.ts";

describeEachDatabase("the passkey store", (ctx) => {
  it("refuses a second registration of one credential with a coded error, even when both race", async () => {
    const store = createPasskeyStore({
      dataKeys: createUserDataKeys(createKeyRingFromConfig(createTestConfig())),
      clock: systemClock,
    });
    const [alice, bob] = [testUserId("store-alice"), testUserId("store-bob")];
    await ensureTestUser(ctx.db, alice);
    await ensureTestUser(ctx.db, bob);
    const passkey: NewPasskey = {
      credentialId: toBase64Url(randomBytes(32)),
      publicKey: new Uint8Array(randomBytes(77)),
      signCount: 0,
      transports: ["internal"],
      aaguid: "00000000-0000-0000-0000-000000000000",
      attestationFormat: "none",
      backupEligible: false,
      backedUp: false,
    };
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
});
