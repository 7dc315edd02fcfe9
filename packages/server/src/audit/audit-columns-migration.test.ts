import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { copyFileSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, it } from "node:test";
import { describeEachDatabase } from "../../test-support/test-database.ts";
import { MIGRATIONS_DIR, migrate } from "../db/migrate.ts";
import { encodeAuditEntry } from "./audit-entry.ts";
import { appendSamples, createAuditFixture, verifyWith } from "./test-support/audit-fixtures.ts";

// Every migration before 015, which turned the query columns from GENERATED into columns the
// appender writes and a CHECK constraint holds to the entry.
const BEFORE_015 = mkdtempSync(join(tmpdir(), "countersign-migrations-014-"));
for (const name of readdirSync(MIGRATIONS_DIR).filter((file) => /^0(0\d|1[0-4])_.*\.sql$/.test(file))) {
  copyFileSync(join(MIGRATIONS_DIR, name), join(BEFORE_015, name));
}
after(() => rmSync(BEFORE_015, { recursive: true, force: true }));

const COLUMNS = "seq, id, occurred_at, event_type, user_id, subject_type, subject_id";

describeEachDatabase(
  "migration 015: the audit log's query columns, from GENERATED to checked",
  (ctx) => {
    let fixture: Awaited<ReturnType<typeof createAuditFixture>>;
    before(async () => {
      fixture = await createAuditFixture();
    });

    it("keeps the columns of entries written before it, which its function reads the same, and validates them", async () => {
      // As the appender wrote them before 015: the entry alone.
      for (let n = 0; n < 6; n++) {
        const entry = encodeAuditEntry({
          v: 1,
          id: randomUUID(),
          time: new Date(Date.UTC(2026, 0, 1, 0, 0, n, 123)).toISOString(),
          type: n % 2 === 0 ? "approval.created" : "agent.suspended",
          actor: { type: "system", id: null },
          subject: n === 5 ? null : { type: "approval", id: `apr-${n}` },
          user: n === 4 ? null : `user-${n}`,
          request: null,
          details: { n, nested: { id: "not-the-entry-id", type: "not-the-type" } },
          context: null,
        });
        await ctx.db.query("INSERT INTO audit_log (entry) VALUES ($1)", [entry]);
      }
      const { rows: generated } = await ctx.db.query(`SELECT ${COLUMNS} FROM audit_log ORDER BY seq`);
      assert.equal(generated.length, 6);

      assert.deepEqual(await migrate(ctx.db), [15]);
      const { rows: kept } = await ctx.db.query(`SELECT ${COLUMNS} FROM audit_log ORDER BY seq`);
      assert.deepEqual(kept, generated);
      const { rows: reread } = await ctx.db.query(
        `SELECT seq, (c).id, (c).occurred_at, (c).event_type, (c).user_id, (c).subject_type, (c).subject_id
           FROM (SELECT seq, audit_query_columns_of(entry) AS c FROM audit_log) AS r ORDER BY seq`,
      );
      assert.deepEqual(reread, generated, "what the generated columns said is what the function reads");

      await appendSamples(ctx.db, fixture.audit, 4, 6);
      const report = await verifyWith(ctx.db, fixture);
      assert.equal(report.ok, true, JSON.stringify(report.problems));
      assert.equal(report.entriesVerified, 10);
    });
  },
  { migrationsDir: BEFORE_015 },
);
