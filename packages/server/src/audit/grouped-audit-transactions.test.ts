import assert from "node:assert/strict";
import { before, it } from "node:test";
import { recordingPool, recordingTransactions } from "../../test-support/recording-database.ts";
import { describeEachDatabase } from "../../test-support/test-database.ts";
import type { Transaction } from "../db/database.ts";
import { createTickBatcher, createTickBatcherPer } from "../db/tick-batcher.ts";
import { createMetricsRegistry } from "../metrics/metrics-registry.ts";
import { groupCommitMetrics, readGroupCommitTotals } from "./group-commit-metrics.ts";
import {
  createGroupedAuditTransactions,
  type GroupCommitReport,
  type GroupedAuditTransactions,
} from "./grouped-audit-transactions.ts";
import { type AuditFixture, createAuditFixture, sampleEvent } from "./test-support/audit-fixtures.ts";
import { verifyAuditLog } from "./verify-audit-log.ts";

/**
 * Queues the units `queue` starts behind a unit that holds the only transaction slot until they
 * are all queued, so they form one batch; returns how each settled.
 */
async function behindOneUnit<T>(
  grouped: GroupedAuditTransactions,
  queue: () => Promise<T>[],
): Promise<PromiseSettledResult<T>[]> {
  const { promise: gate, resolve: release } = Promise.withResolvers<void>();
  const first = grouped.run(async () => {
    await gate;
    return { value: 0, events: [] };
  });
  const units = queue();
  release();
  await first;
  return Promise.allSettled(units);
}

describeEachDatabase("grouped audit transactions (group commit)", (ctx) => {
  let fx: AuditFixture;

  before(async () => {
    fx = await createAuditFixture();
    await ctx.db.exec("CREATE TABLE grouped_things (id int PRIMARY KEY, label text NOT NULL)");
  });

  it("commits each unit's rows with its events, and isolates a failing unit in its savepoint", async () => {
    const grouped = createGroupedAuditTransactions({ db: ctx.db, audit: fx.audit, maxConcurrent: 1, maxBatch: 16 });
    const committed: number[] = [];
    const units = Array.from({ length: 40 }, (_, i) =>
      grouped.run(async (tx) => {
        await tx.query("INSERT INTO grouped_things (id, label) VALUES ($1, $2)", [i, `thing ${i}`]);
        tx.afterCommit(() => committed.push(i));
        // Every fifth unit fails after writing: its row and its callback must vanish, not the others'.
        if (i % 5 === 4) await tx.query("SELECT 1 / 0");
        return { value: i, events: [sampleEvent(1_000 + i)] };
      }),
    );
    const results = await Promise.allSettled(units);
    const failed = results.flatMap((r, i) => (r.status === "rejected" ? [i] : []));
    assert.deepEqual(failed, [4, 9, 14, 19, 24, 29, 34, 39]);
    for (const [i, r] of results.entries()) if (r.status === "fulfilled") assert.equal(r.value, i);

    const { rows } = await ctx.db.query<{ id: number }>("SELECT id FROM grouped_things ORDER BY id");
    const expected = Array.from({ length: 40 }, (_, i) => i).filter((i) => i % 5 !== 4);
    assert.deepEqual(
      rows.map((r) => r.id),
      expected,
    );
    assert.deepEqual(
      [...committed].sort((a, b) => a - b),
      expected,
    );
    // A fresh database per file: the log holds exactly the kept units' events.
    const audited = await ctx.db.query<{ n: number }>("SELECT count(*)::int AS n FROM audit_log");
    assert.equal(audited.rows[0]?.n, expected.length);
    const report = await verifyAuditLog(ctx.db, { verifiers: [fx.signer.verifier], origin: fx.signer.origin });
    assert.equal(report.ok, true, JSON.stringify(report));
  });

  it("runs a batch without savepoints, and again with them only when a unit fails", async () => {
    const statements: string[] = [];
    const recording = recordingTransactions(ctx.db, (sql) => statements.push(sql));
    // maxConcurrent 1 with a first unit that waits: the others queue up into one batch.
    const grouped = createGroupedAuditTransactions({ db: recording, audit: fx.audit, maxConcurrent: 1, maxBatch: 16 });
    const batch = async (base: number, failing: number | null) => {
      const { promise: gate, resolve: release } = Promise.withResolvers<void>();
      const first = grouped.run(async (tx) => {
        await gate;
        await tx.query("INSERT INTO grouped_things (id, label) VALUES ($1, 'gate')", [base]);
        return { value: base, events: [sampleEvent(base)] };
      });
      const runs = new Map<number, number>();
      const rest = Array.from({ length: 6 }, (_, k) => {
        const id = base + 1 + k;
        return grouped.run(async (tx) => {
          runs.set(id, (runs.get(id) ?? 0) + 1);
          await tx.query("INSERT INTO grouped_things (id, label) VALUES ($1, 'batched')", [id]);
          if (id === failing) throw new Error("this unit fails");
          return { value: id, events: [sampleEvent(id)] };
        });
      });
      release();
      await first;
      statements.length = 0;
      const settled = await Promise.allSettled(rest);
      return { settled, runs, savepoints: statements.filter((sql) => sql.startsWith("SAVEPOINT")).length };
    };

    const clean = await batch(2_000, null);
    assert.ok(clean.settled.every((r) => r.status === "fulfilled"));
    assert.equal(clean.savepoints, 0, "a batch whose units all succeed takes no savepoint");

    const failing = await batch(3_000, 3_003);
    assert.deepEqual(
      failing.settled.map((r) => r.status),
      ["fulfilled", "fulfilled", "rejected", "fulfilled", "fulfilled", "fulfilled"],
    );
    assert.ok(failing.savepoints > 0, "after a failure the batch ran again guarded");
    assert.ok(
      [...failing.runs.values()].some((n) => n === 2),
      "units before the failure ran twice",
    );
    const { rows } = await ctx.db.query<{ id: number }>(
      "SELECT id FROM grouped_things WHERE id BETWEEN 3001 AND 3006 ORDER BY id",
    );
    assert.deepEqual(
      rows.map((r) => r.id),
      [3001, 3002, 3004, 3005, 3006],
      "each kept unit's row exists once; the failed unit's does not",
    );
  });

  it("isolates a unit that swallows a statement's error, even as the last of an optimistic batch", async () => {
    const grouped = createGroupedAuditTransactions({ db: ctx.db, audit: fx.audit, maxConcurrent: 1, maxBatch: 16 });
    const { promise: gate, resolve: release } = Promise.withResolvers<void>();
    const first = grouped.run(async (tx) => {
      await gate;
      await tx.query("INSERT INTO grouped_things (id, label) VALUES (4000, 'gate')");
      return { value: 4000, events: [sampleEvent(4000)] };
    });
    const rest = [4001, 4002, 4003].map((id) =>
      grouped.run(async (tx) => {
        await tx.query("INSERT INTO grouped_things (id, label) VALUES ($1, 'batched')", [id]);
        if (id === 4003) {
          // A bug in a unit: it catches a failed statement and carries on, leaving the
          // transaction aborted. Only the append or the commit finds out.
          try {
            await tx.query("SELECT 1 / 0");
          } catch {
            return { value: id, events: [] };
          }
        }
        return { value: id, events: [sampleEvent(id)] };
      }),
    );
    release();
    await first;
    const settled = await Promise.allSettled(rest);
    assert.deepEqual(
      settled.map((r) => r.status),
      ["fulfilled", "fulfilled", "rejected"],
    );
    const { rows } = await ctx.db.query<{ id: number }>(
      "SELECT id FROM grouped_things WHERE id BETWEEN 4001 AND 4003 ORDER BY id",
    );
    assert.deepEqual(
      rows.map((r) => r.id),
      [4001, 4002],
    );
  });

  it("runs each unit's last step after every unit's work, and a refusal there fails only its unit", async () => {
    const grouped = createGroupedAuditTransactions({ db: ctx.db, audit: fx.audit, maxConcurrent: 1, maxBatch: 16 });
    const batch = async (base: number, refusing: number | null) => {
      const { promise: gate, resolve: release } = Promise.withResolvers<void>();
      const first = grouped.run(async () => {
        await gate;
        return { value: base, events: [] };
      });
      const steps: string[] = [];
      const committed: number[] = [];
      const rest = [1, 2, 3, 4].map((k) =>
        grouped.run(async (tx) => {
          const id = base + k;
          steps.push(`work ${k}`);
          await tx.query("INSERT INTO grouped_things (id, label) VALUES ($1, 'with a last step')", [id]);
          tx.afterCommit(() => committed.push(id));
          return {
            value: id,
            events: [sampleEvent(id)],
            last: async (last) => {
              steps.push(`last ${k}`);
              await last.query("UPDATE grouped_things SET label = 'last step ran' WHERE id = $1", [id]);
              if (id === refusing) throw new Error("refused in its last step");
            },
          };
        }),
      );
      release();
      await first;
      return { settled: await Promise.allSettled(rest), steps, committed };
    };

    const clean = await batch(5_000, null);
    assert.ok(clean.settled.every((r) => r.status === "fulfilled"));
    assert.deepEqual(clean.steps, ["work 1", "work 2", "work 3", "work 4", "last 1", "last 2", "last 3", "last 4"]);
    const labels = await ctx.db.query<{ label: string }>(
      "SELECT DISTINCT label FROM grouped_things WHERE id BETWEEN 5001 AND 5004",
    );
    assert.deepEqual(
      labels.rows.map((r) => r.label),
      ["last step ran"],
    );

    const refused = await batch(6_000, 6_003);
    assert.deepEqual(
      refused.settled.map((r) => r.status),
      ["fulfilled", "fulfilled", "rejected", "fulfilled"],
    );
    const { rows } = await ctx.db.query<{ id: number }>(
      "SELECT id FROM grouped_things WHERE id BETWEEN 6001 AND 6004 ORDER BY id",
    );
    assert.deepEqual(
      rows.map((r) => r.id),
      [6001, 6002, 6004],
      "the refused unit's row is rolled back with its last step; the others' are kept once",
    );
    assert.deepEqual(
      [...refused.committed].sort((a, b) => a - b),
      [6001, 6002, 6004],
    );
  });

  it("runs a late unit's whole work as a late step, with its value and events, alone or in a batch", async () => {
    const statements: string[] = [];
    const recording = recordingTransactions(ctx.db, (sql) => statements.push(sql));
    const grouped = createGroupedAuditTransactions({ db: recording, audit: fx.audit, maxConcurrent: 1, maxBatch: 16 });
    // Late steps label their rows through a per-turn batcher, as decisions end their requests.
    const labellers = new WeakMap<Transaction, (id: number) => Promise<void>>();
    const labelLate = (tx: Transaction, id: number) => {
      let label = labellers.get(tx);
      if (label === undefined) {
        label = createTickBatcher(async (ids: readonly number[]) => {
          await tx.query("UPDATE grouped_things SET label = 'late' WHERE id = ANY($1::int[])", [ids]);
          return ids.map(() => undefined);
        });
        labellers.set(tx, label);
      }
      return label(id);
    };
    const lateUnit = (id: number, refuse = false) =>
      grouped.run(async () => ({
        late: async (tx: Transaction) => {
          await labelLate(tx, id);
          if (refuse) throw new Error(`unit ${id} refused`);
          return { value: `done ${id}`, events: [sampleEvent(id)] };
        },
      }));
    const auditCount = async () =>
      (await ctx.db.query<{ n: number }>("SELECT count(*)::int AS n FROM audit_log")).rows[0]?.n ?? 0;
    const inBatch = async (units: () => Promise<string>[]) => {
      const { promise: gate, resolve: release } = Promise.withResolvers<void>();
      const first = grouped.run(async () => {
        await gate;
        return { value: "gate", events: [] };
      });
      const started = units();
      statements.length = 0;
      release();
      await first;
      const settled = await Promise.allSettled(started);
      return settled.map((r) => (r.status === "fulfilled" ? r.value : (r.reason as Error).message));
    };
    for (const id of [7_001, 7_002, 7_003, 7_004, 7_005, 7_006, 7_007, 7_008, 7_009]) {
      await ctx.db.query("INSERT INTO grouped_things (id, label) VALUES ($1, 'early')", [id]);
    }

    // Alone: its value, and its event appended.
    const before = await auditCount();
    assert.equal(await lateUnit(7_001), "done 7001");
    assert.equal(await auditCount(), before + 1);

    // A batch: the four late steps share one statement, and each unit gets its own value.
    assert.deepEqual(await inBatch(() => [lateUnit(7_002), lateUnit(7_003), lateUnit(7_004), lateUnit(7_005)]), [
      "done 7002",
      "done 7003",
      "done 7004",
      "done 7005",
    ]);
    assert.equal(statements.filter((sql) => sql.startsWith("UPDATE grouped_things")).length, 1);
    assert.equal(await auditCount(), before + 5);

    // A refusal in a late step fails its unit alone: the batch runs again guarded.
    assert.deepEqual(await inBatch(() => [lateUnit(7_006), lateUnit(7_007, true), lateUnit(7_008), lateUnit(7_009)]), [
      "done 7006",
      "unit 7007 refused",
      "done 7008",
      "done 7009",
    ]);
    assert.equal(await auditCount(), before + 8);
    const { rows } = await ctx.db.query<{ id: number; label: string }>(
      "SELECT id, label FROM grouped_things WHERE id BETWEEN 7001 AND 7009 ORDER BY id",
    );
    assert.deepEqual(
      rows.map((r) => `${r.id} ${r.label}`),
      [
        "7001 late",
        "7002 late",
        "7003 late",
        "7004 late",
        "7005 late",
        "7006 late",
        "7007 early",
        "7008 late",
        "7009 late",
      ],
    );
    const report = await verifyAuditLog(ctx.db, { verifiers: [fx.signer.verifier], origin: fx.signer.origin });
    assert.equal(report.ok, true, JSON.stringify(report));
  });

  it("fails only the unit whose row broke a statement its batch shared, and keeps nothing of it", async () => {
    const grouped = createGroupedAuditTransactions({ db: ctx.db, audit: fx.audit, maxConcurrent: 1, maxBatch: 16 });
    // The late steps insert their rows through one statement per turn, as creations do.
    const insertInTurn = createTickBatcherPer(async (tx: Transaction, ids: readonly number[]) => {
      await tx.query("INSERT INTO grouped_things (id, label) SELECT unnest($1::int[]), 'shared'", [ids]);
      return ids.map(() => undefined);
    });
    await ctx.db.query("INSERT INTO grouped_things (id, label) VALUES (8003, 'already there')");
    const audited = async () =>
      (await ctx.db.query<{ n: number }>("SELECT count(*)::int AS n FROM audit_log")).rows[0]?.n ?? 0;
    const eventsBefore = await audited();
    const unit = (id: number) =>
      grouped.run(async () => ({
        late: async (tx: Transaction) => {
          await insertInTurn(tx, id);
          return { value: id, events: [sampleEvent(id)] };
        },
      }));
    const settled = await behindOneUnit(grouped, () => [unit(8001), unit(8002), unit(8003), unit(8004)]);
    // 8003 is taken: the shared INSERT fails for all four, the batch runs again with a savepoint
    // per unit, and there only 8003's own insert fails, with the database's error.
    assert.deepEqual(
      settled.map((r) => r.status),
      ["fulfilled", "fulfilled", "rejected", "fulfilled"],
    );
    assert.equal(((settled[2] as PromiseRejectedResult).reason as { code?: string }).code, "23505");
    const { rows } = await ctx.db.query<{ id: number; label: string }>(
      "SELECT id, label FROM grouped_things WHERE id BETWEEN 8001 AND 8004 ORDER BY id",
    );
    assert.deepEqual(
      rows.map((r) => `${r.id} ${r.label}`),
      ["8001 shared", "8002 shared", "8003 already there", "8004 shared"],
    );
    assert.equal(await audited(), eventsBefore + 3, "the failed unit's event is not in the log");
  });

  it("reads the data keys of a batch's people with one statement, alongside its BEGIN", async () => {
    const people = ["prefetch-a", "prefetch-b", "prefetch-c"];
    for (const person of people) await fx.dataKeys.forWriting(ctx.db, person);
    const keyReads: string[] = [];
    const onStatement = (sql: string) => {
      if (sql.includes("FROM user_data_keys")) keyReads.push(sql);
    };
    // The read runs on the pool (it starts before the transaction exists); the units' sealing
    // runs in the transaction: both are recorded.
    const recording = recordingPool(recordingTransactions(ctx.db, onStatement), onStatement);
    const grouped = createGroupedAuditTransactions({
      db: recording,
      audit: fx.audit,
      prefetchDataKeys: (userIds) => fx.dataKeys.prefetchFor(recording, userIds),
      maxConcurrent: 1,
      maxBatch: 16,
    });
    // Six units sealing for three people, each with an audit event sealed under its person's key.
    const settled = await behindOneUnit(grouped, () =>
      Array.from({ length: 6 }, (_, k) => {
        const person = people[k % 3] as string;
        return grouped.run(async () => ({ value: k, events: [sampleEvent(6_000 + k, person)] }), { sealsFor: person });
      }),
    );
    assert.deepEqual(
      settled.map((r) => (r.status === "fulfilled" ? r.value : r.reason)),
      [0, 1, 2, 3, 4, 5],
    );
    assert.equal(keyReads.length, 1, keyReads.join("\n"));
    assert.match(keyReads[0] as string, /user_id = ANY/);
  });

  it("reads a lone unit's data key on the pool alongside its BEGIN, not in its transaction", async () => {
    const person = "prefetch-alone";
    await fx.dataKeys.forWriting(ctx.db, person);
    const reads: string[] = [];
    const keyRead = (where: string) => (sql: string) => {
      if (sql.includes("FROM user_data_keys")) reads.push(where);
    };
    const pool = recordingPool(ctx.db, keyRead("pool"));
    const recording = recordingPool(recordingTransactions(ctx.db, keyRead("transaction")), keyRead("pool"));
    const grouped = createGroupedAuditTransactions({
      db: recording,
      audit: fx.audit,
      prefetchDataKeys: (userIds) => fx.dataKeys.prefetchFor(pool, userIds),
    });
    const value = await grouped.run(async () => ({ value: "alone", events: [sampleEvent(7_000, person)] }), {
      sealsFor: person,
    });
    assert.equal(value, "alone");
    assert.deepEqual(reads, ["pool"]);
  });

  it("groups units into fewer transactions than units while transactions are busy", async () => {
    let transactions = 0;
    const counting = {
      ...ctx.db,
      kind: ctx.db.kind,
      transaction: <T>(fn: Parameters<typeof ctx.db.transaction<T>>[0]) => {
        transactions += 1;
        return ctx.db.transaction(fn);
      },
    } as typeof ctx.db;
    const grouped = createGroupedAuditTransactions({ db: counting, audit: fx.audit, maxConcurrent: 1, maxBatch: 32 });
    await Promise.all(
      Array.from({ length: 64 }, (_, i) =>
        grouped.run(async (tx) => {
          await tx.query("INSERT INTO grouped_things (id, label) VALUES ($1, 'batched')", [10_000 + i]);
          return { value: i, events: [sampleEvent(2_000 + i)] };
        }),
      ),
    );
    assert.ok(transactions <= 4, `64 units took ${transactions} transactions`);
  });

  it("reports each transaction that committed, with the units it carried, and none that failed", async () => {
    const reports: GroupCommitReport[] = [];
    const grouped = createGroupedAuditTransactions({
      db: ctx.db,
      audit: fx.audit,
      maxBatch: 16,
      onCommitted: (report) => reports.push(report),
    });
    // Queued behind a lone first unit: one batch of four, one of which fails (so it runs again guarded).
    const settled = await behindOneUnit(grouped, () =>
      [1, 2, 3, 4].map((k) =>
        grouped.run(async () => {
          if (k === 3) throw new Error("refused");
          return { value: k, events: [sampleEvent(8_000 + k)] };
        }),
      ),
    );
    assert.deepEqual(
      settled.map((r) => r.status),
      ["fulfilled", "fulfilled", "rejected", "fulfilled"],
    );
    // A lone unit that fails commits nothing, so nothing is reported for it.
    await assert.rejects(grouped.run(async () => Promise.reject(new Error("alone and refused"))));
    assert.deepEqual(
      reports.map((report) => report.units),
      [1, 4],
    );
    for (const report of reports) assert.ok(report.ms > 0 && Number.isFinite(report.ms));

    const metrics = createMetricsRegistry();
    const count = groupCommitMetrics(metrics);
    for (const report of reports) count(report);
    const totals = readGroupCommitTotals(metrics);
    assert.equal(totals.transactions, 2);
    assert.equal(totals.units, 5);
    const summed = reports.reduce((sum, report) => sum + report.ms, 0) / 1000;
    assert.ok(Math.abs(totals.seconds - summed) < 1e-9);
    assert.match(metrics.render(), /^countersign_group_commit_units_total 5$/m);
  });

  it("a lone unit that fails rolls back and rejects with its own error", async () => {
    const grouped = createGroupedAuditTransactions({ db: ctx.db, audit: fx.audit });
    await assert.rejects(
      grouped.run(async (tx) => {
        await tx.query("INSERT INTO grouped_things (id, label) VALUES (-1, 'lone')");
        throw new Error("lone unit failed");
      }),
      /lone unit failed/,
    );
    const { rows } = await ctx.db.query("SELECT 1 FROM grouped_things WHERE id = -1");
    assert.equal(rows.length, 0);
  });
});
