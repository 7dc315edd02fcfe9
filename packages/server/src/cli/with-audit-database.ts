import type { Config } from "../config/config.ts";
import type { Database } from "../db/database.ts";
import { MIGRATIONS_DIR, migrationStatus } from "../db/migrate.ts";
import { openDatabase } from "../db/open-database.ts";

/**
 * Opens the configured database for an `audit` command, refuses one whose migrations are not
 * current (the audit tables would be missing or stale), runs `fn` and closes it.
 */
export async function withAuditDatabase<T>(
  config: Pick<Config, "database" | "dataDir">,
  fn: (db: Database) => Promise<T>,
): Promise<T> {
  const db = await openDatabase({
    ...(config.database.kind === "postgres" ? { databaseUrl: config.database.url, poolSize: 2 } : {}),
    dataDir: config.dataDir,
  });
  try {
    const status = await migrationStatus(db, MIGRATIONS_DIR);
    if (status.problems.length > 0) throw new Error(`migrations do not match: ${status.problems.join("; ")}`);
    if (status.pending.length > 0) {
      throw new Error(`the database needs migrations ${status.pending.join(", ")}: run \`countersign migrate\``);
    }
    return await fn(db);
  } finally {
    await db.close();
  }
}
