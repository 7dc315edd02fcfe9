import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, it } from "node:test";
import { describeEachDatabase } from "../../test-support/test-database.ts";
import type { Database, Queryable } from "../db/database.ts";
import { openPgDatabase } from "../db/pg-database.ts";
import { purgeAuditLog } from "./purge-audit-log.ts";
import {
  type AuditFixture,
  appendSamples,
  checkpointNow,
  createAuditFixture,
  sampleEvent,
  seqOf,
  verifyWith,
} from "./test-support/audit-fixtures.ts";

const APP_ROLE_SQL = readFileSync(new URL("../../sql/app-role.sql", import.meta.url), "utf8");
const ROLE = "countersign_app";
const ALLOW = "SELECT set_config('countersign.allow_audit_purge', 'on', true)";

/**
 * Layer three of write-once: the application's role (sql/app-role.sql). On PostgreSQL the tests
 * connect as that role; PGlite has a single connection user, so there they `SET LOCAL ROLE` to it.
 */
describeEachDatabase("the least-privilege application role", (ctx) => {
  let fixture: AuditFixture;
  let appDb: Database | undefined;

  /** Runs `fn` as the application role, in its own transaction. */
  async function asApp<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    if (appDb !== undefined) return appDb.transaction(fn);
    return ctx.db.transaction(async (tx) => {
      await tx.query(`SET LOCAL ROLE ${ROLE}`);
      return fn(tx);
    });
  }

  async function refusedAsApp(sql: string, prelude?: string): Promise<{ code: string; message: string }> {
    try {
      await asApp(async (tx) => {
        if (prelude) await tx.query(prelude);
        await tx.query(sql);
      });
    } catch (error) {
      return error as { code: string; message: string };
    }
    assert.fail(`the application role could run: ${sql}`);
  }

  before(async () => {
    fixture = await createAuditFixture();
    await appendSamples(ctx.db, fixture.audit, 3);
    await ctx.db.exec(APP_ROLE_SQL);
    // Running it twice must be harmless: it is run again after every upgrade.
    await ctx.db.exec(APP_ROLE_SQL);
    if (ctx.kind === "postgres") {
      const url = new URL(ctx.url as string);
      url.username = ROLE;
      appDb = await openPgDatabase({ databaseUrl: url.toString(), poolSize: 2 });
      const { rows } = await appDb.query<{ who: string }>("SELECT current_user AS who");
      assert.equal(rows[0]?.who, ROLE, "connected as the application role");
    }
  });

  // The harness drops the database in its own `after`, which runs before this file's: close the
  // role's pool in the last test so that its connections are not cut from under it.
  after(async () => {
    await appDb?.close();
  });

  it("cannot UPDATE, DELETE or TRUNCATE any audit table, even with the purge flag", async () => {
    const statements = [
      "UPDATE audit_log SET entry = entry",
      "DELETE FROM audit_log",
      "TRUNCATE audit_log",
      "DELETE FROM audit_merkle_nodes",
      "UPDATE audit_checkpoints SET note = note",
      "DELETE FROM audit_checkpoints",
      "TRUNCATE audit_anchors",
      "INSERT INTO audit_anchors (seq, prev_hash, frontier, purged_before, created_at) VALUES (1, '\\x00', '\\x', now(), now())",
      "DELETE FROM audit_chain_head",
      "TRUNCATE audit_chain_head",
      "ALTER TABLE audit_log DISABLE TRIGGER audit_log_write_once",
      "SET session_replication_role = replica",
    ];
    for (const sql of statements) {
      for (const prelude of [undefined, ALLOW]) {
        const error = await refusedAsApp(sql, prelude);
        assert.equal(error.code, "42501", `${sql}: ${error.message}`);
        assert.match(error.message, /permission denied|must be owner/, sql);
      }
    }
    const { rows } = await ctx.db.query<{ n: number }>("SELECT count(*)::int AS n FROM audit_log");
    assert.equal(rows[0]?.n, 3);
  });

  it("cannot move the chain head by itself", async () => {
    const error = await refusedAsApp("UPDATE audit_chain_head SET next_seq = next_seq + 1");
    assert.match(error.message, /audit_chain_head refused/);
  });

  it("appends, signs checkpoints and verifies", async () => {
    const appended = await asApp((tx) => fixture.audit.append(tx, sampleEvent(3, "user-app")));
    assert.equal(await seqOf(ctx.db, appended.id), 3);
    const batch = await asApp((tx) => fixture.audit.appendAll(tx, [sampleEvent(4), sampleEvent(5)]));
    assert.deepEqual(await Promise.all(batch.map((b) => seqOf(ctx.db, b.id))), [4, 5]);
    if (appDb !== undefined) {
      assert.equal((await checkpointNow(appDb, fixture)).status, "created");
      const report = await verifyWith(appDb, fixture);
      assert.equal(report.ok, true, JSON.stringify(report.problems));
      assert.equal(report.entriesVerified, 6);
    } else {
      const { rows } = await asApp((tx) => tx.query<{ n: number }>("SELECT count(*)::int AS n FROM audit_log"));
      assert.equal(rows[0]?.n, 6, "the role reads the log");
    }
  });

  it("cannot purge: that takes the database owner", async () => {
    if (appDb === undefined) {
      const error = await refusedAsApp("DELETE FROM audit_log WHERE seq < 1", ALLOW);
      assert.match(error.message, /permission denied/);
      return;
    }
    try {
      await assert.rejects(
        purgeAuditLog(appDb, {
          before: new Date(Date.now() + 86_400_000),
          audit: fixture.audit,
          signer: fixture.signer,
          policy: { everyEntries: 1_000, everySeconds: 60 },
        }),
        /permission denied/,
      );
    } finally {
      await appDb.close();
    }
  });
});
