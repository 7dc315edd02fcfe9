import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { beforeEach, it } from "node:test";
import { fromBase64Url, toBase64Url } from "@countersign/protocol";
import { recordingPool, recordingTransaction } from "../../test-support/recording-database.ts";
import { describeEachDatabase } from "../../test-support/test-database.ts";
import type { Database, Transaction } from "../db/database.ts";
import { openPgDatabase } from "../db/pg-database.ts";
import { countDataKeysByKek } from "./count-data-keys-by-kek.ts";
import { decryptFieldText, encryptField, type FieldContext } from "./field-cipher.ts";
import { fieldKeyId } from "./field-key-id.ts";
import { createKeyRing } from "./key-ring.ts";
import { createUserDataKeys, type UserDataKeys } from "./user-data-keys.ts";

const k1 = new Uint8Array(randomBytes(32));
const k2 = new Uint8Array(randomBytes(32));
/** Before rotation: k1 wraps. */
const ringA = createKeyRing({ current: "k1", keys: new Map([["k1", k1]]) });
/** During rotation: k2 wraps, k1 still unwraps. */
const ringB = createKeyRing({
  current: "k2",
  keys: new Map([
    ["k2", k2],
    ["k1", k1],
  ]),
});
/** After rotation: k1 is gone. */
const ringC = createKeyRing({ current: "k2", keys: new Map([["k2", k2]]) });

const where = (rowId: string): FieldContext => ({ table: "people", column: "email", rowId });

/** Decrypts a stored envelope the way a reader does: kid from the envelope, key from the store. */
async function read(keys: UserDataKeys, db: Database, rowId: string, envelope: string): Promise<string | null> {
  const kid = fieldKeyId(envelope);
  const key = kid === null ? null : await keys.loadKey(db, kid);
  return decryptFieldText(() => key, where(rowId), envelope);
}

/** Encrypts one field per user under their data key, in its own transaction. */
async function seal(keys: UserDataKeys, db: Database, users: readonly string[]): Promise<Map<string, string>> {
  const sealed = new Map<string, string>();
  for (const user of users) {
    const envelope = await db.transaction(async (tx) =>
      encryptField(await keys.forWriting(tx, user), where(user), `${user}@example.org`),
    );
    sealed.set(user, envelope);
  }
  return sealed;
}

describeEachDatabase("user data keys", (ctx) => {
  const keys = createUserDataKeys(ringA);

  beforeEach(async () => {
    await ctx.db.exec("DELETE FROM user_data_keys");
  });

  it("creates a user's data key on first use and returns the same key after", async () => {
    const first = await keys.forWriting(ctx.db, "user-1");
    assert.match(first.kid, /^dk_[A-Za-z0-9_-]{22}$/);
    assert.equal(first.key.length, 32);
    const again = await ctx.db.transaction((tx) => keys.forWriting(tx, "user-1"));
    assert.equal(again.kid, first.kid);
    assert.deepEqual(again.key, first.key);
    assert.deepEqual(await keys.loadKey(ctx.db, first.kid), first.key);

    const other = await keys.forWriting(ctx.db, "user-2");
    assert.notEqual(other.kid, first.kid);
    assert.notDeepEqual(other.key, first.key);
    const { rows } = await ctx.db.query<{ user_id: string; kek_id: string }>(
      "SELECT user_id, kek_id FROM user_data_keys ORDER BY user_id",
    );
    assert.deepEqual(rows, [
      { user_id: "user-1", kek_id: "k1" },
      { user_id: "user-2", kek_id: "k1" },
    ]);
  });

  it("reads a key once per transaction, and again in the next one", async () => {
    const { kid } = await keys.forWriting(ctx.db, "memo-user");
    const reads: string[] = [];
    const counting = (tx: Transaction) => recordingTransaction(tx, (sql) => reads.push(sql));
    await ctx.db.transaction(async (raw) => {
      const tx = counting(raw);
      const a = await keys.forWriting(tx, "memo-user");
      const b = await keys.forWriting(tx, "memo-user");
      assert.deepEqual(b, a);
      assert.deepEqual(await keys.loadKey(tx, kid), a.key);
    });
    assert.equal(reads.length, 1, "one read serves the whole transaction");
    await ctx.db.transaction((raw) => keys.forWriting(counting(raw), "memo-user"));
    assert.equal(reads.length, 2, "the next transaction reads afresh");
    // Outside a transaction (the pool), nothing is remembered.
    await keys.forWriting(ctx.db, "memo-user");
    await keys.forWriting(ctx.db, "memo-user");
  });

  it("loads the keys asked for in one turn with one statement, and reads afresh the next turn", async () => {
    const [a, b] = [await keys.forWriting(ctx.db, "batch-a"), await keys.forWriting(ctx.db, "batch-b")];
    const reads: string[] = [];
    const pool = recordingPool(ctx.db, (sql) => reads.push(sql));
    const unknownKid = `dk_${"A".repeat(22)}`;
    const loaded = await Promise.all([a.kid, b.kid, a.kid, unknownKid].map((kid) => keys.loadKey(pool, kid)));
    assert.deepEqual(loaded, [a.key, b.key, a.key, null]);
    assert.equal(reads.length, 1, "one statement for the whole turn");
    // Nothing is kept between turns: a key erased meanwhile is gone for the next caller.
    await keys.erase(ctx.db, "batch-a");
    assert.equal(await keys.loadKey(pool, a.kid), null);
    assert.deepEqual(await keys.loadKey(pool, b.kid), b.key);
    assert.equal(reads.length, 3);
  });

  it("prefetches many users' keys into a transaction with one read, and leaves new users to forWriting", async () => {
    const [a, b] = [await keys.forWriting(ctx.db, "pre-a"), await keys.forWriting(ctx.db, "pre-b")];
    const reads: string[] = [];
    await ctx.db.transaction(async (raw) => {
      const tx = recordingTransaction(raw, (sql) => reads.push(sql));
      await keys.prefetch(tx, ["pre-a", "pre-b", "pre-new", "pre-a"]);
      assert.equal(reads.length, 1);
      assert.deepEqual(await keys.forWriting(tx, "pre-a"), a);
      assert.deepEqual(await keys.loadKey(tx, b.kid), b.key);
      assert.equal(reads.length, 1, "served from the prefetch");
      const created = await keys.forWriting(tx, "pre-new");
      assert.equal(created.key.length, 32);
      assert.ok(reads.length > 1, "a user without a key gets one from forWriting");
    });
    // Outside a transaction there is nothing to fill: no statement at all.
    const pool = recordingPool(ctx.db, (sql) => assert.fail(`no statement expected: ${sql}`));
    await keys.prefetch(pool, ["pre-a"]);
  });

  it("reads keys for a transaction before it begins, on the pool, and serves them inside it", async () => {
    const [a, b] = [await keys.forWriting(ctx.db, "early-a"), await keys.forWriting(ctx.db, "early-b")];
    const reads: string[] = [];
    const pool = recordingPool(ctx.db, (sql) => reads.push(sql));
    const into = keys.prefetchFor(pool, ["early-a", "early-b", "early-a"]);
    assert.equal(reads.length, 1, "the read starts at once, before any transaction");
    await ctx.db.transaction(async (raw) => {
      const tx = recordingTransaction(raw, (sql) => assert.fail(`no statement expected: ${sql}`));
      await into(tx);
      assert.deepEqual(await keys.forWriting(tx, "early-a"), a);
      assert.deepEqual(await keys.loadKey(tx, b.kid), b.key);
    });
    // A read that failed fails the transaction that takes it in, and nobody else.
    const broken = { ...ctx.db, query: () => Promise.reject(new Error("read failed")) } as typeof ctx.db;
    const failed = keys.prefetchFor(broken, ["early-a"]);
    await new Promise((resolve) => setImmediate(resolve));
    await assert.rejects(
      ctx.db.transaction((tx) => failed(tx)),
      /read failed/,
    );
  });

  it("forgets a transaction's keys when it erases one, and never remembers a key it created", async () => {
    await ctx.db.transaction(async (tx) => {
      const before = await keys.forWriting(tx, "memo-erased");
      assert.equal(await keys.erase(tx, "memo-erased"), true);
      assert.equal(await keys.loadKey(tx, before.kid), null, "the erased key is not served from memory");
      const after = await keys.forWriting(tx, "memo-erased");
      assert.notEqual(after.kid, before.kid);
    });
    // A key created inside a savepoint that rolls back must not be handed out afterwards.
    await ctx.db.transaction(async (tx) => {
      await tx.query("SAVEPOINT unit");
      const created = await keys.forWriting(tx, "memo-savepoint");
      await tx.query("ROLLBACK TO SAVEPOINT unit");
      const again = await keys.forWriting(tx, "memo-savepoint");
      assert.notEqual(again.kid, created.kid, "the rolled-back key was forgotten");
      const { rows } = await tx.query<{ key_id: string }>(
        "SELECT key_id FROM user_data_keys WHERE user_id = 'memo-savepoint'",
      );
      assert.deepEqual(rows, [{ key_id: again.kid }]);
    });
  });

  it("gives 20 concurrent first uses, each in its own transaction, one and the same key", async () => {
    // On PostgreSQL, a pool of its own with a connection per caller, so the inserts really race.
    const pool = ctx.url === undefined ? ctx.db : await openPgDatabase({ databaseUrl: ctx.url, poolSize: 20 });
    try {
      const results = await Promise.all(
        Array.from({ length: 20 }, () => pool.transaction((tx) => keys.forWriting(tx, "racer"))),
      );
      const kids = new Set(results.map((result) => result.kid));
      assert.equal(kids.size, 1);
      for (const result of results) assert.deepEqual(result.key, results[0]?.key);
      const { rows } = await ctx.db.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM user_data_keys WHERE user_id = 'racer'",
      );
      assert.equal(rows[0]?.n, 1);
      assert.deepEqual(await keys.loadKey(ctx.db, [...kids][0] ?? ""), results[0]?.key);
    } finally {
      if (pool !== ctx.db) await pool.close();
    }
  });

  it("round-trips a field through encryptField and decryptField with the key from loadKey", async () => {
    const sealed = await seal(keys, ctx.db, ["alice"]);
    const envelope = sealed.get("alice") ?? "";
    assert.match(envelope, /^v1\.dk_[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]+$/);
    assert.equal(await read(keys, ctx.db, "alice", envelope), "alice@example.org");
    // The AAD still binds the row: the same envelope read as another row does not open.
    assert.equal(await read(keys, ctx.db, "bob", envelope), null);
  });

  it("returns null from loadKey for an unknown or malformed kid", async () => {
    await keys.forWriting(ctx.db, "someone");
    assert.equal(await keys.loadKey(ctx.db, "dk_AAAAAAAAAAAAAAAAAAAAAA"), null);
    assert.equal(await keys.loadKey(ctx.db, "not.a.kid"), null);
    assert.equal(await keys.loadKey(ctx.db, ""), null);
  });

  it("stores no plaintext key material: the wrapped column is the key sealed for its user", async () => {
    const { kid, key } = await keys.forWriting(ctx.db, "carol");
    const { rows } = await ctx.db.query<Record<string, unknown>>(
      "SELECT * FROM user_data_keys WHERE user_id = 'carol'",
    );
    const row = rows[0];
    assert.ok(row);
    assert.equal(row.key_id, kid);
    assert.equal(row.kek_id, "k1");
    assert.ok(row.created_at instanceof Date);
    assert.equal(row.rewrapped_at, null);
    const wrapped = fromBase64Url(String(row.wrapped));
    assert.ok(wrapped);
    assert.equal(wrapped.length, 12 + 32 + 16);
    const rowText = JSON.stringify(row);
    for (const form of [toBase64Url(key), Buffer.from(key).toString("hex"), Buffer.from(key).toString("base64")]) {
      assert.equal(rowText.includes(form), false);
    }
    assert.equal(Buffer.from(wrapped).includes(Buffer.from(key)), false);
    // Moved onto another user's row, the wrapped key does not unwrap (AAD names the user).
    await keys.forWriting(ctx.db, "dave");
    await ctx.db.query(
      "UPDATE user_data_keys SET wrapped = (SELECT wrapped FROM user_data_keys WHERE user_id = 'carol') WHERE user_id = 'dave'",
    );
    await assert.rejects(keys.loadKey(ctx.db, await kidOf(ctx.db, "dave")), /could not be unwrapped/);
  });

  it("erases a user's key: loadKey returns null and their old ciphertexts never decrypt again", async () => {
    const sealed = await seal(keys, ctx.db, ["erin", "frank"]);
    const erinEnvelope = sealed.get("erin") ?? "";
    const erinKid = fieldKeyId(erinEnvelope) ?? "";
    assert.equal(await read(keys, ctx.db, "erin", erinEnvelope), "erin@example.org");

    assert.equal(await ctx.db.transaction((tx) => keys.erase(tx, "erin")), true);
    assert.equal(await keys.erase(ctx.db, "erin"), false);
    assert.equal(await keys.loadKey(ctx.db, erinKid), null);
    assert.equal(await read(keys, ctx.db, "erin", erinEnvelope), null);
    const { rows } = await ctx.db.query("SELECT * FROM user_data_keys WHERE user_id = 'erin' OR key_id = $1", [
      erinKid,
    ]);
    assert.equal(rows.length, 0);

    // A new key for the same user opens new fields only.
    const fresh = await keys.forWriting(ctx.db, "erin");
    assert.notEqual(fresh.kid, erinKid);
    assert.equal(
      decryptFieldText(() => fresh.key, where("erin"), erinEnvelope),
      null,
    );
    // Other users are untouched.
    assert.equal(await read(keys, ctx.db, "frank", sealed.get("frank") ?? ""), "frank@example.org");
  });

  it("refuses to pass a key whose KEK left the ring off as erased", async () => {
    const { kid } = await keys.forWriting(ctx.db, "grace");
    const withoutK1 = createUserDataKeys(ringC);
    await assert.rejects(withoutK1.loadKey(ctx.db, kid), /key-encryption key "k1", which is not in the key ring/);
    await assert.rejects(withoutK1.forWriting(ctx.db, "grace"), /not in the key ring/);
  });

  it("rotates: every key is re-wrapped under the new KEK, every field still decrypts, and k1 is no longer needed", async () => {
    const users = Array.from({ length: 7 }, (_, i) => `rot-${i}`);
    const sealed = await seal(keys, ctx.db, users);
    const progress: number[] = [];
    const result = await createUserDataKeys(ringB).rotate(ctx.db, {
      batchSize: 3,
      onProgress: (done) => progress.push(done),
    });
    assert.deepEqual(result, { rewrapped: 7, failed: [] });
    assert.deepEqual(progress, [3, 6, 7]);
    assert.deepEqual(await countDataKeysByKek(ctx.db), new Map([["k2", 7]]));
    const { rows } = await ctx.db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM user_data_keys WHERE rewrapped_at IS NOT NULL",
    );
    assert.equal(rows[0]?.n, 7);

    // Both the rotation ring and a ring holding ONLY k2 read every field: the re-wrap happened.
    for (const ring of [ringB, ringC]) {
      const reader = createUserDataKeys(ring);
      for (const user of users) {
        assert.equal(await read(reader, ctx.db, user, sealed.get(user) ?? ""), `${user}@example.org`);
      }
    }
    // And the old ring alone can no longer open them.
    await assert.rejects(keys.loadKey(ctx.db, fieldKeyId(sealed.get("rot-0") ?? "") ?? ""), /not in the key ring/);
    // A second run has nothing left to do.
    assert.deepEqual(await createUserDataKeys(ringB).rotate(ctx.db), { rewrapped: 0, failed: [] });
  });

  it("reports keys that cannot be unwrapped in failed and still rotates the others", async () => {
    const users = ["bad-1", "good-1", "good-2", "good-3", "gone-1"];
    const sealed = await seal(keys, ctx.db, users);
    const { rows } = await ctx.db.query<{ wrapped: string }>(
      "SELECT wrapped FROM user_data_keys WHERE user_id = 'bad-1'",
    );
    const bytes = fromBase64Url(rows[0]?.wrapped ?? "");
    assert.ok(bytes);
    bytes[20] = (bytes[20] ?? 0) ^ 0x01;
    await ctx.db.query("UPDATE user_data_keys SET wrapped = $1 WHERE user_id = 'bad-1'", [toBase64Url(bytes)]);
    await ctx.db.query("UPDATE user_data_keys SET kek_id = 'k0' WHERE user_id = 'gone-1'");

    const result = await createUserDataKeys(ringB).rotate(ctx.db, { batchSize: 2 });
    assert.equal(result.rewrapped, 3);
    assert.deepEqual([...result.failed].sort(), ["bad-1", "gone-1"]);
    assert.deepEqual(
      await countDataKeysByKek(ctx.db),
      new Map([
        ["k0", 1],
        ["k1", 1],
        ["k2", 3],
      ]),
    );
    const reader = createUserDataKeys(ringC);
    for (const user of ["good-1", "good-2", "good-3"]) {
      assert.equal(await read(reader, ctx.db, user, sealed.get(user) ?? ""), `${user}@example.org`);
    }
  });

  it("lets concurrent rotations share the work without re-wrapping a key twice", async () => {
    const users = Array.from({ length: 40 }, (_, i) => `par-${String(i).padStart(2, "0")}`);
    const sealed = await seal(keys, ctx.db, users);
    const pool = ctx.url === undefined ? ctx.db : await openPgDatabase({ databaseUrl: ctx.url, poolSize: 4 });
    try {
      const rotator = createUserDataKeys(ringB);
      const results = await Promise.all([
        rotator.rotate(pool, { batchSize: 5 }),
        rotator.rotate(pool, { batchSize: 5 }),
        rotator.rotate(ctx.db, { batchSize: 5 }),
      ]);
      assert.equal(
        results.reduce((sum, result) => sum + result.rewrapped, 0),
        40,
      );
      for (const result of results) assert.deepEqual(result.failed, []);
    } finally {
      if (pool !== ctx.db) await pool.close();
    }
    assert.deepEqual(await countDataKeysByKek(ctx.db), new Map([["k2", 40]]));
    const reader = createUserDataKeys(ringC);
    for (const user of users) {
      assert.equal(await read(reader, ctx.db, user, sealed.get(user) ?? ""), `${user}@example.org`);
    }
  });

  it("keeps serving reads and first uses while a rotation runs", async () => {
    const users = Array.from({ length: 30 }, (_, i) => `live-${String(i).padStart(2, "0")}`);
    const sealed = await seal(keys, ctx.db, users);
    const pool = ctx.url === undefined ? ctx.db : await openPgDatabase({ databaseUrl: ctx.url, poolSize: 4 });
    // A server restarted with the new ring (k2 current, k1 kept) serves while rotation runs.
    const server = createUserDataKeys(ringB);
    let rotating = true;
    let reads = 0;
    const traffic = (async () => {
      for (let round = 0; rotating || round === 0; round += 1) {
        for (const user of users) {
          assert.equal(await read(server, pool, user, sealed.get(user) ?? ""), `${user}@example.org`);
          reads += 1;
        }
        await pool.transaction((tx) => server.forWriting(tx, `new-${round}`));
      }
    })();
    try {
      const result = await createUserDataKeys(ringB).rotate(ctx.db, { batchSize: 2 });
      rotating = false;
      await traffic;
      assert.deepEqual(result, { rewrapped: 30, failed: [] });
      assert.ok(reads >= 30);
    } finally {
      rotating = false;
      await traffic.catch(() => {});
      if (pool !== ctx.db) await pool.close();
    }
    const counts = await countDataKeysByKek(ctx.db);
    assert.deepEqual([...counts.keys()], ["k2"]);
  });

  it("refuses a batch size out of range", async () => {
    await assert.rejects(keys.rotate(ctx.db, { batchSize: 0 }), RangeError);
    await assert.rejects(keys.rotate(ctx.db, { batchSize: 1.5 }), RangeError);
  });

  it("refuses a user id that is empty or not well-formed", async () => {
    await assert.rejects(keys.forWriting(ctx.db, ""), TypeError);
    await assert.rejects(keys.forWriting(ctx.db, "\uD800"), TypeError);
    await assert.rejects(keys.erase(ctx.db, ""), TypeError);
  });
});

async function kidOf(db: Database, userId: string): Promise<string> {
  const { rows } = await db.query<{ key_id: string }>("SELECT key_id FROM user_data_keys WHERE user_id = $1", [userId]);
  return rows[0]?.key_id ?? "";
}
