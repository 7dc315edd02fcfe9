import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { isAbsolute, join } from "node:path";
import { after, afterEach, before, beforeEach, describe, it } from "node:test";
import { createTestDatabase, type TestDatabase, testDatabaseKinds } from "../../test-support/test-database.ts";
import type { Database } from "./database.ts";
import { MIGRATIONS_DIR, migrate, migrationStatus } from "./migrate.ts";
import { openPgDatabase } from "./pg-database.ts";

const scratch = mkdtempSync(join(tmpdir(), "cs-migrate-test-"));
after(() => rmSync(scratch, { recursive: true, force: true }));

// A database with no migrations applied: the template of an empty migrations directory.
const EMPTY = join(scratch, "empty");
mkdirSync(EMPTY);

let fixtureCount = 0;

/** Writes a fresh migrations directory with the given files and returns its path. */
function fixture(files: Record<string, string>): string {
  fixtureCount += 1;
  const dir = join(scratch, `fixture-${fixtureCount}`);
  mkdirSync(dir);
  writeFiles(dir, files);
  return dir;
}

function writeFiles(dir: string, files: Record<string, string>): void {
  for (const [name, sql] of Object.entries(files)) {
    writeFileSync(join(dir, name), sql);
  }
}

async function tableExists(db: Database, name: string): Promise<boolean> {
  const { rows } = await db.query<{ present: boolean }>("SELECT to_regclass($1) IS NOT NULL AS present", [name]);
  return rows[0]?.present === true;
}

async function appliedVersions(db: Database): Promise<number[]> {
  const { rows } = await db.query<{ version: number }>("SELECT version FROM countersign_migrations ORDER BY version");
  return rows.map((row) => row.version);
}

const CREATE_WIDGETS = "CREATE TABLE widgets (id int PRIMARY KEY);\n";
const CREATE_GADGETS = "CREATE TABLE gadgets (id int PRIMARY KEY);\nINSERT INTO gadgets VALUES (1);\n";
const CREATE_GIZMOS = "CREATE TABLE gizmos (id int PRIMARY KEY);\n";

describe("MIGRATIONS_DIR", () => {
  it("is the absolute path of packages/server/migrations", () => {
    assert.ok(isAbsolute(MIGRATIONS_DIR));
    assert.match(MIGRATIONS_DIR, /packages[\\/]server[\\/]migrations$/);
    assert.ok(existsSync(MIGRATIONS_DIR));
  });
});

for (const kind of testDatabaseKinds()) {
  describe(`migrate [${kind}]`, () => {
    let database: TestDatabase;
    let db: Database;
    before(async () => {
      database = await createTestDatabase(kind, { migrationsDir: EMPTY });
      db = database.db;
    });
    after(async () => {
      await database.dispose();
    });
    // Back to a never-migrated database; cheaper than a new database per test, on PGlite.
    beforeEach(async () => {
      await db.exec("DROP TABLE IF EXISTS widgets, gadgets, gizmos, countersign_migrations");
    });

    it("applies pending migrations in order, each recorded with its checksum, and only once", async () => {
      const dir = fixture({ "002_gadgets.sql": CREATE_GADGETS, "001_widgets.sql": CREATE_WIDGETS, "README.md": "x" });
      assert.deepEqual(await migrate(db, dir), [1, 2]);
      const { rows } = await db.query(
        "SELECT version, name, checksum, applied_at FROM countersign_migrations ORDER BY version",
      );
      assert.deepEqual(
        rows.map(({ version, name, checksum }) => ({ version, name, checksum })),
        [
          { version: 1, name: "widgets", checksum: createHash("sha256").update(CREATE_WIDGETS).digest("hex") },
          { version: 2, name: "gadgets", checksum: createHash("sha256").update(CREATE_GADGETS).digest("hex") },
        ],
      );
      assert.ok(rows.every((row) => row.applied_at instanceof Date));
      assert.deepEqual(await migrate(db, dir), []);
      assert.deepEqual(await migrationStatus(db, dir), { applied: [1, 2], pending: [], problems: [] });

      writeFiles(dir, { "003_gizmos.sql": CREATE_GIZMOS });
      assert.deepEqual(await migrationStatus(db, dir), { applied: [1, 2], pending: [3], problems: [] });
      assert.deepEqual(await migrate(db, dir), [3]);
      assert.ok(await tableExists(db, "gizmos"));
    });

    it("reports everything pending on a database that was never migrated", async () => {
      const dir = fixture({ "001_widgets.sql": CREATE_WIDGETS, "002_gadgets.sql": CREATE_GADGETS });
      assert.deepEqual(await migrationStatus(db, dir), { applied: [], pending: [1, 2], problems: [] });
      assert.equal(await tableExists(db, "countersign_migrations"), false, "status changes nothing");
    });

    it("rolls back a failing migration completely and names its file", async () => {
      const dir = fixture({
        "001_widgets.sql": CREATE_WIDGETS,
        "002_broken.sql": "CREATE TABLE gadgets (id int);\nSELECT 1/0;\n",
      });
      await assert.rejects(migrate(db, dir), /migration 002_broken\.sql failed.*division by zero/);
      assert.deepEqual(await appliedVersions(db), [1]);
      assert.equal(await tableExists(db, "gadgets"), false);

      writeFiles(dir, { "002_broken.sql": CREATE_GADGETS });
      assert.deepEqual(await migrate(db, dir), [2]);
    });

    it("refuses to run when an applied migration's file has changed", async () => {
      const dir = fixture({ "001_widgets.sql": CREATE_WIDGETS });
      await migrate(db, dir);
      writeFiles(dir, { "001_widgets.sql": `${CREATE_WIDGETS}-- edited\n`, "002_gadgets.sql": CREATE_GADGETS });
      await assert.rejects(migrate(db, dir), /nothing was applied.*001_widgets\.sql was changed after it was applied/);
      assert.deepEqual(await appliedVersions(db), [1]);
      assert.equal(await tableExists(db, "gadgets"), false);
      const status = await migrationStatus(db, dir);
      assert.deepEqual(status.pending, [2]);
      assert.match(status.problems.join("\n"), /001_widgets\.sql was changed/);
    });

    it("refuses to run when an applied migration's file is missing", async () => {
      const dir = fixture({ "001_widgets.sql": CREATE_WIDGETS, "002_gadgets.sql": CREATE_GADGETS });
      await migrate(db, dir);
      unlinkSync(join(dir, "002_gadgets.sql"));
      writeFiles(dir, { "003_gizmos.sql": CREATE_GIZMOS });
      await assert.rejects(migrate(db, dir), /migration 2 \(gadgets\) is applied but its file is missing/);
      assert.equal(await tableExists(db, "gizmos"), false);
      assert.deepEqual(await appliedVersions(db), [1, 2]);
    });

    it("refuses to run a pending migration older than an applied one", async () => {
      const dir = fixture({ "001_widgets.sql": CREATE_WIDGETS, "003_gizmos.sql": CREATE_GIZMOS });
      await migrate(db, dir);
      writeFiles(dir, { "002_gadgets.sql": CREATE_GADGETS });
      await assert.rejects(
        migrate(db, dir),
        /002_gadgets\.sql is pending but the later migration 3 is already applied/,
      );
      assert.equal(await tableExists(db, "gadgets"), false);
    });

    for (const [label, files, pattern] of [
      [
        "a version without zero padding",
        { "1_widgets.sql": CREATE_WIDGETS },
        /malformed migration file name "1_widgets\.sql"/,
      ],
      ["a dash instead of an underscore", { "001-widgets.sql": CREATE_WIDGETS }, /malformed migration file name/],
      ["an upper-case name", { "001_Widgets.sql": CREATE_WIDGETS }, /malformed migration file name/],
      ["an upper-case extension", { "001_widgets.SQL": CREATE_WIDGETS }, /malformed migration file name/],
      ["version zero", { "000_widgets.sql": CREATE_WIDGETS }, /malformed migration file name/],
      ["a version beyond int4", { "2147483648_widgets.sql": CREATE_WIDGETS }, /malformed migration file name/],
      [
        "a duplicated version",
        { "001_widgets.sql": CREATE_WIDGETS, "0001_gadgets.sql": CREATE_GADGETS },
        /duplicate migration version 1: "0001_gadgets\.sql" and "001_widgets\.sql"/,
      ],
    ] as const) {
      it(`refuses to run, applying nothing, with ${label}`, async () => {
        const dir = fixture({ ...files, "002_gizmos.sql": CREATE_GIZMOS });
        await assert.rejects(migrate(db, dir), pattern);
        assert.equal(await tableExists(db, "countersign_migrations"), false, "the database was not touched");
        assert.equal(await tableExists(db, "gizmos"), false);
        assert.match((await migrationStatus(db, dir)).problems.join("\n"), pattern);
      });
    }

    it("refuses a missing migrations directory", async () => {
      await assert.rejects(migrate(db, join(scratch, "nowhere")), /cannot read the migrations directory/);
      assert.match((await migrationStatus(db, join(scratch, "nowhere"))).problems[0] ?? "", /cannot read/);
    });

    it("takes a transaction-scoped advisory lock", async () => {
      const held = await db.transaction(async (tx) => {
        await tx.query("SELECT pg_advisory_xact_lock(7165074649429406323)");
        const { rows } = await tx.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted",
        );
        return rows[0]?.n;
      });
      assert.equal(held, 1);
      const { rows } = await db.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()",
      );
      assert.equal(rows[0]?.n, 0, "released at commit");
    });

    it("lets concurrent migrators apply each migration exactly once", { timeout: 30_000 }, async () => {
      // Each migration would fail if it ran twice (CREATE TABLE), and the sleep widens the race.
      const dir = fixture({
        "001_widgets.sql": `${CREATE_WIDGETS}SELECT pg_sleep(0.05);\n`,
        "002_gadgets.sql": `${CREATE_GADGETS}SELECT pg_sleep(0.05);\n`,
        "003_gizmos.sql": CREATE_GIZMOS,
      });
      // On PostgreSQL, separate pools as separate server processes would have.
      const others: Database[] =
        database.url === undefined
          ? [db, db, db]
          : await Promise.all([1, 2, 3].map(() => openPgDatabase({ databaseUrl: database.url ?? "", poolSize: 2 })));
      try {
        const results = await Promise.all(others.map((migrator) => migrate(migrator, dir)));
        assert.deepEqual(results.flat().sort(), [1, 2, 3]);
        assert.deepEqual(await appliedVersions(db), [1, 2, 3]);
      } finally {
        if (database.url !== undefined) {
          await Promise.all(others.map((other) => other.close()));
        }
      }
    });
  });

  describe(`the server's migrations [${kind}]`, () => {
    let database: TestDatabase;
    beforeEach(async () => {
      database = await createTestDatabase(kind);
    });
    afterEach(async () => {
      await database.dispose();
    });

    it("are all applied to a test database, with no problems", async () => {
      const status = await migrationStatus(database.db, MIGRATIONS_DIR);
      assert.deepEqual(status.pending, []);
      assert.deepEqual(status.problems, []);
      assert.ok(status.applied.length >= 1);
      assert.deepEqual(await migrate(database.db, MIGRATIONS_DIR), []);
    });
  });
}
