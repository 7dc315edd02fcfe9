import { join } from "node:path";
import type { Database } from "./database.ts";
import { openPgDatabase } from "./pg-database.ts";
import { openPgliteDatabase } from "./pglite-database.ts";

/** Options for {@link openDatabase}. */
export interface OpenDatabaseOptions {
  /** A PostgreSQL URL. When set, PostgreSQL is used; otherwise the embedded database. */
  databaseUrl?: string;
  /** The data directory; the embedded database lives in `<dataDir>/pgdata`. */
  dataDir: string;
  /** PostgreSQL pool size (default 10). Ignored for the embedded database. */
  poolSize?: number;
  /** Receives errors nobody awaits (dropped connections, throwing listeners). Default: console.error. */
  onBackgroundError?: (error: Error) => void;
}

/**
 * Opens the database the configuration names: PostgreSQL when `databaseUrl` is set, else the
 * embedded PGlite database in `<dataDir>/pgdata` (created on first use, which takes a few
 * seconds; reopening takes well under one). Does not migrate: call `migrate` next.
 *
 * @example
 * ```ts
 * const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
 * ```
 */
export async function openDatabase(options: OpenDatabaseOptions): Promise<Database> {
  const onBackgroundError =
    options.onBackgroundError !== undefined ? { onBackgroundError: options.onBackgroundError } : {};
  if (options.databaseUrl !== undefined && options.databaseUrl !== "") {
    return openPgDatabase({
      databaseUrl: options.databaseUrl,
      ...(options.poolSize !== undefined ? { poolSize: options.poolSize } : {}),
      ...onBackgroundError,
    });
  }
  return openPgliteDatabase({ path: join(options.dataDir, "pgdata"), ...onBackgroundError });
}
