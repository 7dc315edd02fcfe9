import assert from "node:assert/strict";
import { before, it } from "node:test";
import { recordingPool } from "../../test-support/recording-database.ts";
import { describeEachDatabase } from "../../test-support/test-database.ts";
import { createBatchedLookup } from "./batched-lookup.ts";
import type { Database } from "./database.ts";

describeEachDatabase("batched lookups", (ctx) => {
  const lookup = createBatchedLookup<Uint8Array, { k: Uint8Array; v: string }>({
    sql: "SELECT k, v FROM lookup_things WHERE k = ANY($1::bytea[])",
    idOf: (key) => Buffer.from(key).toString("hex"),
    rowId: (row) => Buffer.from(row.k).toString("hex"),
  });
  const key = (n: number) => new Uint8Array([n, 255 - n]);
  let statements: string[];
  let pool: Database;

  before(async () => {
    await ctx.db.exec("CREATE TABLE lookup_things (k bytea PRIMARY KEY, v text NOT NULL)");
    for (const n of [1, 2, 3]) await ctx.db.query("INSERT INTO lookup_things VALUES ($1, $2)", [key(n), `v${n}`]);
    statements = [];
    pool = recordingPool(ctx.db, (sql) => statements.push(sql));
  });

  it("answers the lookups of one turn with one statement, each caller its own row or none", async () => {
    statements.length = 0;
    const found = await Promise.all([1, 2, 9, 1].map((n) => lookup(pool, key(n))));
    assert.deepEqual(
      found.map((row) => row?.v ?? null),
      ["v1", "v2", null, "v1"],
    );
    assert.equal(statements.length, 1);
  });

  it("reads again in the next turn: a row changed meanwhile is answered as it is now", async () => {
    statements.length = 0;
    assert.equal((await lookup(pool, key(3)))?.v, "v3");
    await ctx.db.query("DELETE FROM lookup_things WHERE k = $1", [key(3)]);
    assert.equal(await lookup(pool, key(3)), undefined);
    assert.equal(statements.length, 2);
  });

  it("runs at once for its one key inside a transaction, seeing the transaction's own writes", async () => {
    const seen = await ctx.db.transaction(async (tx) => {
      await tx.query("INSERT INTO lookup_things VALUES ($1, 'in tx')", [key(7)]);
      return lookup(tx, key(7));
    });
    assert.equal(seen?.v, "in tx");
  });
});
