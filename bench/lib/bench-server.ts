import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Config } from "../../packages/server/src/config/config.ts";
import { loadConfig } from "../../packages/server/src/config/load-config.ts";
import type { Database } from "../../packages/server/src/db/database.ts";
import { migrate } from "../../packages/server/src/db/migrate.ts";
import { openPgDatabase } from "../../packages/server/src/db/pg-database.ts";
import { freePort } from "../../packages/server/test-support/free-port.ts";
import { admin, BENCH_SERVER_URL, withDatabase } from "./bench-database.ts";

/** A throwaway migrated PostgreSQL database and a configuration for a server on `port`. */
export interface BenchServerSetup {
  readonly db: Database;
  readonly config: Config;
  readonly port: number;
  /** Runs at the end, last registered first (servers before the database). */
  readonly closers: (() => Promise<unknown>)[];
  /** Closes everything, drops the database and removes the data directory. */
  dispose(): Promise<void>;
}

/**
 * Creates a fresh database on the bench server, migrates it, and loads a test-mode configuration
 * for a server on a random port with logging off, plus `env`. Every benchmark starts from the
 * same empty state, and `dispose()` leaves nothing behind.
 */
export async function createBenchServerSetup(
  label: string,
  env: Record<string, string> = {},
): Promise<BenchServerSetup> {
  const name = `countersign_bench_${randomBytes(6).toString("hex")}`;
  const dataDir = mkdtempSync(join(tmpdir(), `cs-bench-${label}-`));
  await admin((client) => client.query(`CREATE DATABASE ${name}`));
  const databaseUrl = withDatabase(BENCH_SERVER_URL, name);
  const db = await openPgDatabase({ databaseUrl, poolSize: 10 });
  const closers: (() => Promise<unknown>)[] = [];
  const dispose = async () => {
    for (const close of closers.reverse()) await close().catch(() => {});
    await db.close();
    await admin((client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    await migrate(db);
    const port = await freePort();
    const config = loadConfig(
      {
        COUNTERSIGN_ENV: "test",
        DATABASE_URL: databaseUrl,
        COUNTERSIGN_PUBLIC_URL: `http://127.0.0.1:${port}`,
        COUNTERSIGN_LOG_LEVEL: "silent",
        ...env,
      },
      { cwd: dataDir },
    );
    return { db, config, port, closers, dispose };
  } catch (error) {
    await dispose();
    throw error;
  }
}
