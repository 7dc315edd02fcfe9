import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { Client } from "pg";
import { MIGRATIONS_DIR, migrationStatus } from "../src/db/migrate.ts";
import { PGLITE_TEMPLATE_DIR } from "./pglite-template.ts";
import { templateKey } from "./template-key.ts";
import { createTestDatabase, describeEachDatabase, testDatabaseKinds } from "./test-database.ts";
import { TEST_DATABASE_URL } from "./test-env.ts";

let registrationError: unknown;

describeEachDatabase("describeEachDatabase", (ctx) => {
  try {
    void ctx.db;
  } catch (error) {
    registrationError = error;
  }

  it("hands each suite a fully migrated database of the named kind", async () => {
    assert.equal(ctx.db.kind, ctx.kind);
    assert.equal(ctx.url === undefined, ctx.kind === "pglite");
    const status = await migrationStatus(ctx.db, MIGRATIONS_DIR);
    assert.deepEqual(status.pending, []);
    assert.deepEqual(status.problems, []);
  });

  it("refuses ctx.db while tests are being registered", () => {
    assert.match((registrationError as Error | undefined)?.message ?? "", /only available inside tests and hooks/);
  });
});

for (const kind of testDatabaseKinds()) {
  describe(`createTestDatabase [${kind}]`, () => {
    it("creates databases that share nothing", { timeout: 60_000 }, async (t) => {
      const started = performance.now();
      const first = await createTestDatabase(kind);
      t.diagnostic(`${kind} per-file setup: ${Math.round(performance.now() - started)} ms`);
      const second = await createTestDatabase(kind);
      try {
        await first.db.exec("CREATE TABLE only_here (v int)");
        const { rows } = await second.db.query<{ present: boolean }>(
          "SELECT to_regclass('only_here') IS NOT NULL AS present",
        );
        assert.equal(rows[0]?.present, false);
      } finally {
        await first.dispose();
        await second.dispose();
      }
    });
  });
}

describe("createTestDatabase [pglite] cache", () => {
  it("caches the migrated dump under the OS temp dir, keyed by the migrations", async () => {
    const database = await createTestDatabase("pglite");
    await database.dispose();
    assert.ok(existsSync(join(PGLITE_TEMPLATE_DIR, `pglite-${await templateKey(MIGRATIONS_DIR)}.tar`)));
  });
});

if (TEST_DATABASE_URL !== undefined) {
  const serverUrl = TEST_DATABASE_URL;
  describe("createTestDatabase [postgres] lifecycle", () => {
    it("exposes a URL a second connection can use, and drops the database on dispose", async () => {
      const database = await createTestDatabase("postgres");
      const url = database.url ?? "";
      const name = new URL(url).pathname.slice(1);
      assert.match(name, /^countersign_t_[0-9a-f]{16}$/);
      const other = new Client({ connectionString: url });
      await other.connect();
      try {
        assert.equal((await other.query("SELECT current_database() AS db")).rows[0]?.db, name);
      } finally {
        await other.end();
      }
      await database.dispose();

      const admin = new Client({ connectionString: serverUrl });
      await admin.connect();
      try {
        const gone = await admin.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]);
        assert.equal(gone.rowCount, 0);
        const template = await admin.query<{ datistemplate: boolean; datallowconn: boolean; connections: number }>(
          `SELECT datistemplate, datallowconn,
                  (SELECT count(*)::int FROM pg_stat_activity a WHERE a.datname = d.datname) AS connections
             FROM pg_database d WHERE datname = $1`,
          [`countersign_tpl_${await templateKey(MIGRATIONS_DIR)}`],
        );
        assert.deepEqual(template.rows, [{ datistemplate: true, datallowconn: false, connections: 0 }]);
      } finally {
        await admin.end();
      }
    });
  });
}
