import assert from "node:assert/strict";
import { it } from "node:test";
import { describeEachDatabase } from "../../test-support/test-database.ts";
import {
  claimIdempotencyKey,
  completeIdempotencyKey,
  createBatchedIdempotencyClaim,
  createBatchedIdempotencyCompletion,
} from "./idempotency-store.ts";

describeEachDatabase("batched Idempotency-Key completion", (ctx) => {
  it("stores every concurrent response in its own row, and leaves keys it does not hold alone", async () => {
    const nowMs = Date.parse("2026-11-21T12:00:00Z");
    const claim = (key: string) =>
      claimIdempotencyKey(ctx.db, {
        agentId: "agt_batch",
        key,
        requestHash: `hash-${key}`,
        nowMs,
        ttlSeconds: 86_400,
        leaseSeconds: 60,
      });
    const keys = Array.from({ length: 30 }, (_, i) => `key-${i}`);
    for (const key of keys) assert.equal((await claim(key)).kind, "claimed");
    const complete = createBatchedIdempotencyCompletion(ctx.db);
    // Issued in one turn: they share statements, and each resolves once its row is stored.
    await Promise.all(
      keys.map((key, i) =>
        complete({
          agentId: "agt_batch",
          key,
          status: 200 + (i % 3),
          contentType: "application/json",
          body: `{"i":${i}}`,
        }),
      ),
    );
    for (const [i, key] of keys.entries()) {
      const replay = await claim(key);
      assert.deepEqual(replay, {
        kind: "replay",
        status: 200 + (i % 3),
        contentType: "application/json",
        body: `{"i":${i}}`,
      });
    }
    // A key another agent holds, and one already completed, are not touched.
    await complete({ agentId: "agt_other", key: "key-0", status: 500, contentType: "text/plain", body: "x" });
    await complete({ agentId: "agt_batch", key: "key-1", status: 418, contentType: "text/plain", body: "late" });
    assert.deepEqual(await claim("key-1"), {
      kind: "replay",
      status: 201,
      contentType: "application/json",
      body: '{"i":1}',
    });
    const { rows } = await ctx.db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM agent_idempotency_keys WHERE agent_id = 'agt_other'",
    );
    assert.equal(rows[0]?.n, 0);
  });

  it("claims concurrent keys in one statement, with the same answers as one at a time", async () => {
    const nowMs = Date.parse("2026-11-21T13:00:00Z");
    const claimBatched = createBatchedIdempotencyClaim(ctx.db);
    const input = (key: string, requestHash: string, at = nowMs) => ({
      agentId: "agt_claims",
      key,
      requestHash,
      nowMs: at,
      ttlSeconds: 86_400,
      leaseSeconds: 60,
    });
    // Earlier history: a completed key, a key held by a live request, one held past its lease,
    // and one whose record expired.
    assert.equal((await claimIdempotencyKey(ctx.db, input("done", "h-done", nowMs - 1_000))).kind, "claimed");
    await completeIdempotencyKey(ctx.db, {
      agentId: "agt_claims",
      key: "done",
      status: 201,
      contentType: "application/json",
      body: "{}",
    });
    assert.equal((await claimIdempotencyKey(ctx.db, input("live", "h-live", nowMs - 1_000))).kind, "claimed");
    assert.equal((await claimIdempotencyKey(ctx.db, input("abandoned", "h-ab", nowMs - 61_000))).kind, "claimed");
    assert.equal((await claimIdempotencyKey(ctx.db, input("old", "h-old", nowMs - 86_401_000))).kind, "claimed");

    const answers = await Promise.all([
      claimBatched(input("new-1", "h1")),
      claimBatched(input("new-2", "h2")),
      claimBatched(input("twice", "ht")),
      claimBatched(input("twice", "ht")),
      claimBatched(input("done", "h-done")),
      claimBatched(input("done", "h-other")),
      claimBatched(input("live", "h-live")),
      claimBatched(input("abandoned", "h-ab")),
      claimBatched(input("old", "h-anything")),
    ]);
    assert.deepEqual(
      answers.map((answer) => answer.kind),
      ["claimed", "claimed", "claimed", "in_progress", "replay", "mismatch", "in_progress", "claimed", "claimed"],
    );
    assert.deepEqual(answers[4], { kind: "replay", status: 201, contentType: "application/json", body: "{}" });
  });
});
