import { fileURLToPath } from "node:url";
import type { Database, Queryable } from "./database.ts";
import { type MigrationFile, readMigrationFiles } from "./read-migration-files.ts";

/** Absolute path of `packages/server/migrations`, the migrations shipped with the server. */
export const MIGRATIONS_DIR: string = fileURLToPath(new URL("../../migrations", import.meta.url));

/** Where applied migrations are recorded, with the checksum of the file that was applied. */
const CREATE_MIGRATIONS_TABLE = `
  CREATE TABLE IF NOT EXISTS countersign_migrations (
    version    int         PRIMARY KEY,
    name       text        NOT NULL,
    checksum   text        NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
  )`;

// "counters" in ASCII as an int8: an arbitrary key no other advisory-lock user should pick.
// Transaction-scoped, so a migrator that dies cannot leave it held.
const TAKE_MIGRATION_LOCK = "SELECT pg_advisory_xact_lock(7165074649429406323)";

interface AppliedMigration {
  version: number;
  name: string;
  checksum: string;
}

/** What {@link migrationStatus} reports. */
export interface MigrationStatus {
  /** Versions recorded as applied, ascending. */
  applied: number[];
  /** Versions with a file and no record, ascending. */
  pending: number[];
  /** Reasons `migrate` would refuse to run; empty when it would not. */
  problems: string[];
}

/**
 * Compares the migration files with what the database recorded, without changing anything (the
 * /readyz check). Ready means no problems and nothing pending.
 *
 * @example
 * ```ts
 * const { pending, problems } = await migrationStatus(db, MIGRATIONS_DIR);
 * ```
 */
export async function migrationStatus(db: Queryable, dir: string = MIGRATIONS_DIR): Promise<MigrationStatus> {
  const files = await readMigrationFiles(dir);
  const applied = await readApplied(db);
  const { pending, problems } = compare(files.migrations, applied, dir);
  return {
    applied: applied.map((migration) => migration.version),
    pending: pending.map((migration) => migration.version),
    problems: [...files.problems, ...problems],
  };
}

/**
 * Applies the pending migrations of `dir` in version order, each in its own transaction with
 * its record in `countersign_migrations`, and returns the versions it applied. Concurrent
 * migrators (several server processes starting at once) wait for each other on an advisory
 * lock, and each migration is applied once.
 *
 * Refuses to run, applying nothing, when a file name is malformed or a version is repeated,
 * when an applied migration's file has changed or is missing, or when a pending migration is
 * older than one already applied. A migration that fails is rolled back (earlier ones stay
 * applied) and the error names its file.
 *
 * @example
 * ```ts
 * const applied = await migrate(db, MIGRATIONS_DIR); // [1, 2] on a new database, then []
 * ```
 */
export async function migrate(db: Database, dir: string = MIGRATIONS_DIR): Promise<number[]> {
  const files = await readMigrationFiles(dir);
  if (files.problems.length > 0) {
    throw refusal(dir, files.problems);
  }
  const pending = await db.transaction(async (tx) => {
    await tx.query(TAKE_MIGRATION_LOCK);
    await tx.exec(CREATE_MIGRATIONS_TABLE);
    const result = compare(files.migrations, await readApplied(tx), dir);
    if (result.problems.length > 0) {
      throw refusal(dir, result.problems);
    }
    return result.pending;
  });

  const appliedNow: number[] = [];
  for (const migration of pending) {
    const applied = await db.transaction(async (tx) => {
      await tx.query(TAKE_MIGRATION_LOCK);
      // Another migrator may have got here first while this one waited for the lock.
      const { problems, pending: stillPending } = compare(files.migrations, await readApplied(tx), dir);
      if (problems.length > 0) {
        throw refusal(dir, problems, appliedNow);
      }
      if (!stillPending.includes(migration)) {
        return false;
      }
      try {
        await tx.exec(migration.sql);
      } catch (error) {
        throw new Error(
          `migration ${migration.fileName} failed, nothing of it was applied: ${(error as Error).message}`,
          {
            cause: error,
          },
        );
      }
      await tx.query("INSERT INTO countersign_migrations (version, name, checksum) VALUES ($1, $2, $3)", [
        migration.version,
        migration.name,
        migration.checksum,
      ]);
      return true;
    });
    if (applied) {
      appliedNow.push(migration.version);
    }
  }
  return appliedNow;
}

async function readApplied(db: Queryable): Promise<AppliedMigration[]> {
  const table = await db.query<{ present: boolean }>(
    "SELECT to_regclass('countersign_migrations') IS NOT NULL AS present",
  );
  if (table.rows[0]?.present !== true) {
    return [];
  }
  const { rows } = await db.query<AppliedMigration>(
    "SELECT version, name, checksum FROM countersign_migrations ORDER BY version",
  );
  return rows;
}

function compare(
  files: readonly MigrationFile[],
  applied: readonly AppliedMigration[],
  dir: string,
): { pending: MigrationFile[]; problems: string[] } {
  const problems: string[] = [];
  const fileByVersion = new Map(files.map((file) => [file.version, file]));
  const appliedVersions = new Set<number>();
  let latestApplied = 0;
  for (const record of applied) {
    appliedVersions.add(record.version);
    latestApplied = Math.max(latestApplied, record.version);
    const file = fileByVersion.get(record.version);
    if (file === undefined) {
      problems.push(`migration ${record.version} (${record.name}) is applied but its file is missing from ${dir}`);
    } else if (file.checksum !== record.checksum) {
      problems.push(
        `migration ${file.fileName} was changed after it was applied (checksum ${record.checksum} applied, ${file.checksum} on disk); add a new migration instead of editing an applied one`,
      );
    }
  }
  const pending = files.filter((file) => !appliedVersions.has(file.version));
  for (const file of pending) {
    if (file.version < latestApplied) {
      problems.push(
        `migration ${file.fileName} is pending but the later migration ${latestApplied} is already applied`,
      );
    }
  }
  return { pending, problems };
}

function refusal(dir: string, problems: readonly string[], appliedSoFar: readonly number[] = []): Error {
  const applied = appliedSoFar.length === 0 ? "nothing was applied" : `only ${appliedSoFar.join(", ")} were applied`;
  return new Error(`refusing to migrate ${dir} (${applied}): ${problems.join("; ")}`);
}
