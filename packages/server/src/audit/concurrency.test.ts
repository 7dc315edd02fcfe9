import assert from "node:assert/strict";
import { before, it } from "node:test";
import { describeEachDatabase } from "../../test-support/test-database.ts";
import type { Database } from "../db/database.ts";
import { openPgDatabase } from "../db/pg-database.ts";
import {
  type AuditFixture,
  checkpointNow,
  createAuditFixture,
  sampleEvent,
  verifyWith,
} from "./test-support/audit-fixtures.ts";

/**
 * T-12: concurrent writers cannot fork the chain. On PostgreSQL, 32 writers on 32 connections
 * append 500 events each, every append in its own transaction; PGlite serves one connection, so
 * there the same interleaving of async writers is smaller.
 */
describeEachDatabase("the hash chain under concurrent writers", (ctx) => {
  let fixture: AuditFixture;

  before(async () => {
    fixture = await createAuditFixture();
  });

  it("stays one chain, numbered 0 … N − 1 without gaps", async () => {
    const postgres = ctx.kind === "postgres";
    const writers = postgres ? 32 : 8;
    const perWriter = postgres ? 500 : 40;
    const total = writers * perWriter;
    const db: Database = postgres
      ? await openPgDatabase({ databaseUrl: ctx.url as string, poolSize: writers })
      : ctx.db;
    try {
      const appended = await Promise.all(
        Array.from({ length: writers }, async (_, writer) => {
          const ids: string[] = [];
          for (let i = 0; i < perWriter; i++) {
            const event = sampleEvent(writer * perWriter + i, `user-${writer}`);
            ids.push((await db.transaction((tx) => fixture.audit.append(tx, event))).id);
          }
          return ids;
        }),
      );
      assert.equal(new Set(appended.flat()).size, total);
    } finally {
      if (postgres) await db.close();
    }
    // seq is the primary key: N rows between 0 and N − 1 hold every number exactly once.
    const { rows } = await ctx.db.query<{ n: number; min: number; max: number }>(
      "SELECT count(*)::int AS n, min(seq) AS min, max(seq) AS max FROM audit_log",
    );
    assert.deepEqual(rows[0], { n: total, min: 0, max: total - 1 });
    assert.equal((await checkpointNow(ctx.db, fixture)).status, "created");
    const report = await verifyWith(ctx.db, fixture);
    assert.equal(report.ok, true, JSON.stringify(report.problems));
    assert.equal(report.entriesVerified, total);
    assert.equal(report.headNextSeq, total);
    assert.equal(report.latestCheckpointSize, total);
  });
});
