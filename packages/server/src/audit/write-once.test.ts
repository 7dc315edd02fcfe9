import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { describeEachDatabase } from "../../test-support/test-database.ts";
import type { Database } from "../db/database.ts";
import { appendSamples, checkpointNow, createAuditFixture, tamper } from "./test-support/audit-fixtures.ts";

const AUDIT_TABLES = ["audit_log", "audit_merkle_nodes", "audit_checkpoints", "audit_anchors"];
const ENTRY = new TextEncoder().encode(
  '{"actor":{"id":null,"type":"system"},"context":null,"details":{},"id":"11111111-1111-4111-8111-111111111111","request":null,"subject":null,"time":"2026-01-01T00:00:00.000Z","type":"test.raw","user":null,"v":1}',
);

/** Runs `sql` in its own transaction, after `prelude`; resolves to the error it raised. */
async function failure(db: Database, sql: string, prelude?: string): Promise<{ code: string; message: string }> {
  try {
    await db.transaction(async (tx) => {
      if (prelude) await tx.query(prelude);
      await tx.query(sql);
    });
  } catch (error) {
    return error as { code: string; message: string };
  }
  assert.fail(`expected "${sql}" to fail`);
}

async function count(db: Database, table: string): Promise<number> {
  const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`);
  return rows[0]?.n as number;
}

/** A column of each audit table that an UPDATE can name. */
function columnOf(table: string): string {
  return table === "audit_log" ? "entry" : table === "audit_merkle_nodes" ? "hash" : "created_at";
}

const ALLOW = "SELECT set_config('countersign.allow_audit_purge', 'on', true)";

describeEachDatabase("the audit log's write-once trigger (raw SQL)", (ctx) => {
  before(async () => {
    const fixture = await createAuditFixture();
    await appendSamples(ctx.db, fixture.audit, 5);
    await checkpointNow(ctx.db, fixture);
    // A purge anchor row, so that every audit table has something to refuse to change.
    await tamper(
      ctx.db,
      "INSERT INTO audit_anchors (seq, prev_hash, frontier, purged_before, created_at) VALUES (1, $1, $2, now(), now())",
      [new Uint8Array(32), new Uint8Array(32)],
    );
  });

  it("refuses UPDATE, DELETE and TRUNCATE on every audit table", async () => {
    for (const table of AUDIT_TABLES) {
      const column = columnOf(table);
      for (const sql of [`UPDATE ${table} SET ${column} = ${column}`, `DELETE FROM ${table}`, `TRUNCATE ${table}`]) {
        const error = await failure(ctx.db, sql);
        assert.equal(error.code, "42501", sql);
        assert.match(error.message, /refused: the audit log is write-once/, sql);
      }
      assert.ok((await count(ctx.db, table)) > 0, `${table} kept its rows`);
    }
  });

  it("refuses UPDATE even in a transaction that allows purging", async () => {
    for (const table of AUDIT_TABLES) {
      const column = columnOf(table);
      const error = await failure(ctx.db, `UPDATE ${table} SET ${column} = ${column}`, ALLOW);
      assert.match(error.message, /UPDATE on .* refused/, table);
    }
  });

  it("lets DELETE and TRUNCATE through only in a transaction that set countersign.allow_audit_purge = on", async () => {
    const before = await count(ctx.db, "audit_anchors");
    await ctx.db
      .transaction(async (tx) => {
        await tx.query("SET LOCAL countersign.allow_audit_purge = on");
        const deleted = await tx.query("DELETE FROM audit_anchors");
        assert.equal(deleted.rowCount, before);
        await tx.query("TRUNCATE audit_anchors");
        // Undo, so that later tests still see the rows.
        throw new Error("rollback");
      })
      .catch((error: Error) => assert.equal(error.message, "rollback"));
    assert.equal(await count(ctx.db, "audit_anchors"), before);

    // set_config(…, true) is the same SET LOCAL: it ends with the transaction that made it.
    await ctx.db.transaction(async (tx) => {
      await tx.query(ALLOW);
      await tx.query("SELECT 1");
    });
    const after = await failure(ctx.db, "DELETE FROM audit_anchors");
    assert.match(after.message, /write-once/);
    const otherValue = await failure(
      ctx.db,
      "DELETE FROM audit_anchors",
      "SET LOCAL countersign.allow_audit_purge = yes",
    );
    assert.match(otherValue.message, /write-once/, "only the exact value 'on' opens it");
  });

  it("assigns seq and hash itself, refusing values a client supplies", async () => {
    const error = await failure(ctx.db, "INSERT INTO audit_log (seq, entry, hash) VALUES (1000, '\\x7b7d', '\\x00')");
    assert.match(error.message, /assigned by the chain/);
    const inserted = await ctx.db.query<{ seq: number }>("INSERT INTO audit_log (entry) VALUES ($1) RETURNING seq", [
      ENTRY,
    ]);
    assert.equal(inserted.rows[0]?.seq, 5, "a raw insert is chained like any append");
  });

  it("holds the query columns to the entry, even for a superuser with the triggers off", async () => {
    for (const prelude of [undefined, "SET LOCAL session_replication_role = replica"]) {
      const error = await failure(ctx.db, "UPDATE audit_log SET event_type = 'forged'", prelude);
      assert.match(error.message, prelude ? /audit_log_query_columns/ : /write-once/);
    }
    const entry = new TextEncoder().encode(
      '{"actor":{"id":null,"type":"system"},"context":null,"details":{},"id":"33333333-3333-4333-8333-333333333333","request":null,"subject":{"id":"apr-7","type":"approval"},"time":"2026-02-03T04:05:06.789Z","type":"test.columns","user":"user-7","v":1}',
    );
    const insert =
      "INSERT INTO audit_log (entry, id, occurred_at, event_type, user_id, subject_type, subject_id) VALUES ($1, $2, $3, $4, $5, $6, $7)";
    const columns = [
      "33333333-3333-4333-8333-333333333333",
      "2026-02-03T04:05:06.789Z",
      "test.columns",
      "user-7",
      "approval",
      "apr-7",
    ];
    for (const [i, forged] of [
      "33333333-3333-4333-8333-333333333334",
      "2026-02-03T04:05:06.788Z",
      "test.other",
      null,
      "pairing",
      "apr-8",
    ].entries()) {
      const params: (Uint8Array | string | null)[] = [entry, ...columns];
      params[i + 1] = forged;
      await assert.rejects(
        ctx.db.query(insert, params),
        (error: { code?: string }) => error.code === "23514",
        `column ${i}`,
      );
    }
    // A raw insert that names only the entry gets its columns read from it.
    const { rows } = await ctx.db.query<Record<string, unknown>>(
      "INSERT INTO audit_log (entry) VALUES ($1) RETURNING id, occurred_at, event_type, user_id, subject_type, subject_id",
      [entry],
    );
    assert.deepEqual(rows[0], {
      id: "33333333-3333-4333-8333-333333333333",
      occurred_at: new Date("2026-02-03T04:05:06.789Z"),
      event_type: "test.columns",
      user_id: "user-7",
      subject_type: "approval",
      subject_id: "apr-7",
    });
  });

  it("lets the chain head move only forward by one, from the chain trigger", async () => {
    for (const sql of [
      "UPDATE audit_chain_head SET next_seq = next_seq + 1",
      "UPDATE audit_chain_head SET next_seq = 0",
      "UPDATE audit_chain_head SET last_hash = sha256(last_hash)",
      "DELETE FROM audit_chain_head",
      "TRUNCATE audit_chain_head",
    ]) {
      for (const prelude of [undefined, ALLOW]) {
        const error = await failure(ctx.db, sql, prelude);
        assert.match(error.message, /audit_chain_head refused/, `${sql} ${prelude ?? ""}`);
      }
    }
  });
});

describe("the audit log's code paths", () => {
  it("never update or delete audit rows, except the retention purge", () => {
    const src = fileURLToPath(new URL("../", import.meta.url));
    const offenders: string[] = [];
    const writes =
      /\b(?:UPDATE\s+audit_\w+|DELETE\s+FROM\s+audit_\w+|TRUNCATE\s+(?:TABLE\s+)?audit_\w+|allow_audit_purge)/i;
    for (const entry of readdirSync(src, { recursive: true, withFileTypes: true })) {
      const path = join(entry.parentPath, entry.name);
      if (!entry.isFile() || !path.endsWith(".ts") || path.endsWith(".test.ts") || path.includes("test-support"))
        continue;
      if (writes.test(readFileSync(path, "utf8"))) offenders.push(relative(src, path));
    }
    assert.deepEqual(offenders, ["audit/purge-audit-log.ts"]);
  });
});
