import assert from "node:assert/strict";
import { before, it } from "node:test";
import { leafHash, MerkleTree, openNote, parseCheckpoint, sha256, toHex } from "@countersign/protocol";
import { createManualClock } from "../../test-support/manual-clock.ts";
import { describeEachDatabase } from "../../test-support/test-database.ts";
import { openPgDatabase } from "../db/pg-database.ts";
import { startAuditCheckpointer } from "./audit-checkpointer.ts";
import { listCheckpoints } from "./checkpoint-store.ts";
import { createCheckpoint } from "./create-checkpoint.ts";
import {
  type AuditFixture,
  appendSamples,
  createAuditFixture,
  editEntryByte,
  sampleEvent,
} from "./test-support/audit-fixtures.ts";

const POLICY = { everyEntries: 5, everySeconds: 30 };

describeEachDatabase("signed checkpoints", (ctx) => {
  const clock = createManualClock();
  let fixture: AuditFixture;
  const run = (options: { force?: boolean; maxEntries?: number } = {}) =>
    createCheckpoint(ctx.db, { signer: fixture.signer, policy: POLICY, clock, ...options });

  before(async () => {
    fixture = await createAuditFixture({ clock, env: { COUNTERSIGN_AUDIT_CHECKPOINT_ENTRIES: "5" } });
  });

  it("signs nothing before there is something to sign", async () => {
    assert.deepEqual(await run(), { status: "current", checkpoint: null });
    assert.deepEqual(await run({ force: true }), { status: "current", checkpoint: null });
  });

  it("signs once N entries wait, as a C2SP checkpoint over the RFC 9162 tree of their hashes", async () => {
    await appendSamples(ctx.db, fixture.audit, 4);
    assert.equal((await run()).status, "not_due", "4 entries < N = 5, and none is 30 s old");
    await appendSamples(ctx.db, fixture.audit, 1, 4);
    const outcome = await run();
    assert.equal(outcome.status, "created");
    assert.ok(outcome.status === "created");
    assert.equal(outcome.checkpoint.size, 5);

    const opened = await openNote(outcome.checkpoint.note, [fixture.signer.verifier]);
    assert.ok(opened.ok, "signed by the log key");
    const parsed = parseCheckpoint(opened.text);
    assert.ok(parsed.ok);
    assert.equal(parsed.checkpoint.origin, "audit.test");
    assert.equal(parsed.checkpoint.size, 5);
    assert.match(outcome.checkpoint.note, /^audit\.test\n5\n[A-Za-z0-9+/]{43}=\n\n\u2014 audit\.test /);

    const { rows } = await ctx.db.query<{ hash: Uint8Array }>("SELECT hash FROM audit_log ORDER BY seq");
    const reference = new MerkleTree(sha256);
    for (const row of rows) reference.append(leafHash(row.hash, sha256));
    assert.equal(toHex(parsed.checkpoint.rootHash), toHex(reference.rootHash()));
    const { rows: nodes } = await ctx.db.query<{ level: number; idx: number; hash: Uint8Array }>(
      "SELECT level, idx, hash FROM audit_merkle_nodes ORDER BY level, idx",
    );
    // 5 leaves complete 5 + 2 + 1 perfect subtrees; each equals the reference tree's.
    assert.equal(nodes.length, 8);
    for (const node of nodes) assert.equal(toHex(node.hash), toHex(reference.subtreeHash(node.level, node.idx)));
  });

  it("signs once the oldest unsigned entry is T seconds old", async () => {
    await appendSamples(ctx.db, fixture.audit, 2, 5);
    clock.advance(29_000);
    assert.equal((await run()).status, "not_due");
    clock.advance(1_000);
    const outcome = await run();
    assert.ok(outcome.status === "created");
    assert.equal(outcome.checkpoint.size, 7);
    assert.equal(outcome.checkpoint.createdAt.getTime(), clock.now());
    assert.deepEqual(await run(), { status: "current", checkpoint: outcome.checkpoint });
  });

  it("signs a backlog over several runs when it exceeds the per-run limit", async () => {
    await appendSamples(ctx.db, fixture.audit, 5, 7);
    const first = await run({ maxEntries: 3 });
    assert.ok(first.status === "created");
    assert.equal(first.checkpoint.size, 10);
    const second = await run({ force: true, maxEntries: 3 });
    assert.ok(second.status === "created");
    assert.equal(second.checkpoint.size, 12);
    assert.deepEqual(
      (await listCheckpoints(ctx.db)).map((c) => c.size),
      [5, 7, 10, 12],
    );
  });

  it("refuses to sign entries whose chain does not verify, and changes nothing", async () => {
    await appendSamples(ctx.db, fixture.audit, 2, 12);
    await editEntryByte(ctx.db, 13);
    await assert.rejects(run({ force: true }), /refusing to sign the audit log: entry 13 does not match its hash/);
    assert.equal((await listCheckpoints(ctx.db)).at(-1)?.size, 12);
    const { rows } = await ctx.db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM audit_merkle_nodes WHERE level = 0",
    );
    assert.equal(rows[0]?.n, 12, "no nodes were stored for the refused run");
  });

  it("runs in the background on a timer, and on demand", async () => {
    const checkpointer = await startAuditCheckpointer({
      db: ctx.db,
      config: fixture.config,
      clock,
      intervalMs: 60_000,
      onError: () => {},
    });
    try {
      // The broken entry 13 above is still there: once due, the run fails and reports.
      assert.equal((await checkpointer.runNow()).status, "not_due");
      clock.advance(60_000);
      await assert.rejects(checkpointer.runNow(), /entry 13/);
    } finally {
      await checkpointer.stop();
    }
    await checkpointer.stop();
  });
});

describeEachDatabase("the checkpointer on a healthy log", (ctx) => {
  const clock = createManualClock();
  let fixture: AuditFixture;

  before(async () => {
    fixture = await createAuditFixture({ clock, env: { COUNTERSIGN_AUDIT_CHECKPOINT_ENTRIES: "3" } });
  });

  it("signs when due and shares one run between concurrent callers", async () => {
    const checkpointer = await startAuditCheckpointer({
      db: ctx.db,
      config: fixture.config,
      clock,
      intervalMs: 60_000,
    });
    try {
      await appendSamples(ctx.db, fixture.audit, 2);
      assert.equal((await checkpointer.runNow()).status, "not_due");
      await appendSamples(ctx.db, fixture.audit, 1, 2);
      const [a, b] = await Promise.all([checkpointer.runNow(), checkpointer.runNow()]);
      assert.equal(a, b);
      assert.ok(a.status === "created");
      assert.equal(a.checkpoint.size, 3);
    } finally {
      await checkpointer.stop();
    }
  });

  it("lets one process at a time extend the tree; the others skip", async (t) => {
    if (ctx.kind !== "postgres") {
      t.diagnostic("PGlite has one connection: there are no other processes to race");
      const outcome = await createCheckpoint(ctx.db, { signer: fixture.signer, policy: POLICY, clock, force: true });
      assert.equal(outcome.status, "current");
      return;
    }
    const processes = await Promise.all(
      Array.from({ length: 4 }, () => openPgDatabase({ databaseUrl: ctx.url as string, poolSize: 1 })),
    );
    try {
      await ctx.db.transaction((tx) =>
        fixture.audit.appendAll(tx, [sampleEvent(10), sampleEvent(11), sampleEvent(12)]),
      );
      const outcomes = await Promise.all(
        processes.map((db) => createCheckpoint(db, { signer: fixture.signer, policy: POLICY, clock, force: true })),
      );
      const statuses = outcomes.map((o) => o.status).sort();
      assert.equal(statuses.filter((s) => s === "created").length, 1, statuses.join());
      assert.ok(
        statuses.every((s) => s === "created" || s === "busy" || s === "current"),
        statuses.join(),
      );
      assert.deepEqual(
        (await listCheckpoints(ctx.db)).map((c) => c.size),
        [3, 6],
      );
    } finally {
      await Promise.all(processes.map((db) => db.close()));
    }
  });
});
