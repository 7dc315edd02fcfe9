import assert from "node:assert/strict";
import { it } from "node:test";
import { describeEachDatabase } from "../../test-support/test-database.ts";
import { openPgDatabase } from "../db/pg-database.ts";
import { createBatchedNonceConsumer } from "./nonce-store.ts";

describeEachDatabase("the batched nonce consumer", (ctx) => {
  it("accepts each (key id, nonce) once, within a batch and across batches", async () => {
    const consume = createBatchedNonceConsumer(ctx.db);
    const at = async (keyId: string, nonce: string, nowMs = 1_000_000) =>
      (await consume({ keyId, nonce, nowMs, ttlSeconds: 600 })).fresh;
    assert.deepEqual(await Promise.all([at("k", "a"), at("k", "a"), at("k", "b"), at("j", "a")]), [
      true,
      false,
      true,
      true,
    ]);
    assert.deepEqual(await Promise.all([at("k", "a", 1_599_000), at("k", "c")]), [false, true]);
    assert.equal(await at("k", "a", 1_600_000), true, "taken back once expired");
  });

  it("keeps each nonce of a batch at least for its own window", async () => {
    const consume = createBatchedNonceConsumer(ctx.db);
    const at = async (nonce: string, nowMs: number) =>
      (await consume({ keyId: "k-window", nonce, nowMs, ttlSeconds: 600 })).fresh;
    // One batch, arriving 0.5 s apart: each is remembered until 600 s after the later one.
    assert.deepEqual(await Promise.all([at("early", 2_000_000), at("late", 2_000_500)]), [true, true]);
    const { rows } = await ctx.db.query<{ nonce: string; expires_at: Date }>(
      "SELECT nonce, expires_at FROM agent_request_nonces WHERE key_id = 'k-window' ORDER BY nonce",
    );
    assert.deepEqual(
      rows.map((row) => [row.nonce, row.expires_at.getTime()]),
      [
        ["early", 2_600_500],
        ["late", 2_600_500],
      ],
    );
    assert.deepEqual(await Promise.all([at("early", 2_600_499), at("late", 2_600_499)]), [false, false]);
    assert.equal(await at("late", 2_600_500), true, "taken back once the batch's window ended");
  });

  it("reports the agent change counter as its statement saw it", async () => {
    const consume = createBatchedNonceConsumer(ctx.db);
    const { rows } = await ctx.db.query<{ seq: number }>("SELECT seq FROM agent_change_counter");
    const consumed = await consume({ keyId: "k-seq", nonce: "n", nowMs: 1_000_000, ttlSeconds: 600 });
    assert.deepEqual(consumed, { fresh: true, agentChangeSeq: rows[0]?.seq });
  });

  it("relaxes the commit of its own statement only, not the pooled session's", async (t) => {
    // One connection, so the SHOW below runs on the session that consumed the nonce.
    const db = ctx.kind === "postgres" ? await openPgDatabase({ databaseUrl: ctx.url as string, poolSize: 1 }) : ctx.db;
    if (db !== ctx.db) t.after(() => db.close());
    const consume = createBatchedNonceConsumer(db);
    assert.equal((await consume({ keyId: "k-sync", nonce: "n", nowMs: 1_000_000, ttlSeconds: 600 })).fresh, true);
    const { rows } = await db.query<{ synchronous_commit: string }>("SHOW synchronous_commit");
    assert.equal(rows[0]?.synchronous_commit, "on");
  });
});
