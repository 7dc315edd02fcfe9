import { after, before, describe } from "node:test";
import type { Database } from "../src/db/database.ts";
import { MIGRATIONS_DIR } from "../src/db/migrate.ts";
import { openPgDatabase } from "../src/db/pg-database.ts";
import { openPgliteDatabase } from "../src/db/pglite-database.ts";
import { pgliteTemplate } from "./pglite-template.ts";
import { createPostgresTestDatabase } from "./postgres-template.ts";
import { TEST_DATABASE_URL } from "./test-env.ts";

/** Which database a test runs on. */
export type TestDatabaseKind = "pglite" | "postgres";

/** Options for {@link createTestDatabase} and {@link describeEachDatabase}. */
export interface TestDatabaseOptions {
  /** Migrations to apply (default: the server's own). An empty directory gives an empty database. */
  migrationsDir?: string;
}

/** A fresh, migrated database of its own for one test file or suite. */
export interface TestDatabase {
  readonly db: Database;
  /** The PostgreSQL URL of this database, for a second pool or process; undefined on PGlite. */
  readonly url: string | undefined;
  /** Closes `db` and deletes the database. */
  dispose(): Promise<void>;
}

/** What a {@link describeEachDatabase} suite sees; `db` and `url` are valid inside tests and hooks. */
export interface TestDatabaseContext {
  readonly db: Database;
  readonly kind: TestDatabaseKind;
  readonly url: string | undefined;
}

/** PGlite always; PostgreSQL too when `DATABASE_URL` is set. */
export function testDatabaseKinds(): TestDatabaseKind[] {
  return TEST_DATABASE_URL === undefined ? ["pglite"] : ["pglite", "postgres"];
}

/**
 * Creates a fresh database with every migration applied: on PGlite, an in-memory copy of a
 * cached migrated dump; on PostgreSQL, `CREATE DATABASE … TEMPLATE` of a migrated template on
 * the `DATABASE_URL` server. Nothing is shared with other tests, so test files run in parallel.
 *
 * @example
 * ```ts
 * const { db, url, dispose } = await createTestDatabase("postgres");
 * after(dispose);
 * ```
 */
export async function createTestDatabase(
  kind: TestDatabaseKind,
  options: TestDatabaseOptions = {},
): Promise<TestDatabase> {
  const migrationsDir = options.migrationsDir ?? MIGRATIONS_DIR;
  if (kind === "pglite") {
    const db = await openPgliteDatabase({ loadDataDir: await pgliteTemplate(migrationsDir) });
    return { db, url: undefined, dispose: () => db.close() };
  }
  if (TEST_DATABASE_URL === undefined) {
    throw new Error("createTestDatabase('postgres') needs DATABASE_URL, e.g. postgres://postgres@127.0.0.1:5432/test");
  }
  const created = await createPostgresTestDatabase(TEST_DATABASE_URL, migrationsDir);
  let db: Database;
  try {
    db = await openPgDatabase({ databaseUrl: created.url, poolSize: 4 });
  } catch (error) {
    await created.drop();
    throw error;
  }
  return {
    db,
    url: created.url,
    async dispose() {
      try {
        await db.close();
      } finally {
        await created.drop();
      }
    },
  };
}

/**
 * Registers `describe("<title> [pglite]")` — and `[postgres]` when `DATABASE_URL` is set —
 * each with its own fresh database, created before its tests and deleted after them.
 *
 * @example
 * ```ts
 * describeEachDatabase("nonces", (ctx) => {
 *   it("refuses a replayed nonce", async () => {
 *     await ctx.db.query("INSERT INTO agent_request_nonces …");
 *   });
 * });
 * ```
 */
export function describeEachDatabase(
  title: string,
  fn: (ctx: TestDatabaseContext) => void,
  options: TestDatabaseOptions = {},
): void {
  for (const kind of testDatabaseKinds()) {
    describe(`${title} [${kind}]`, () => {
      let database: TestDatabase | undefined;
      const current = (): TestDatabase => {
        if (database === undefined) {
          throw new Error("ctx.db and ctx.url are only available inside tests and hooks, not while registering them");
        }
        return database;
      };
      before(async () => {
        database = await createTestDatabase(kind, options);
      });
      after(async () => {
        await database?.dispose();
        database = undefined;
      });
      fn({
        get db() {
          return current().db;
        },
        kind,
        get url() {
          return current().url;
        },
      });
    });
  }
}
