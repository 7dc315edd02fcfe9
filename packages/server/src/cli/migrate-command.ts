import { loadDatabaseConfig } from "../config/load-config.ts";
import { MIGRATIONS_DIR, migrate } from "../db/migrate.ts";
import { openDatabase } from "../db/open-database.ts";
import type { CliCommand } from "./cli-command.ts";

/** `countersign migrate`: apply pending migrations. Needs no secrets, so a deploy job can run it. */
export const migrateCommand: CliCommand = {
  name: "migrate",
  usage: "migrate",
  summary: "Apply pending database migrations, then exit",
  async run(_args, env) {
    const config = loadDatabaseConfig(env);
    const db = await openDatabase({
      ...(config.database.kind === "postgres" ? { databaseUrl: config.database.url, poolSize: 1 } : {}),
      dataDir: config.dataDir,
    });
    try {
      const applied = await migrate(db, MIGRATIONS_DIR);
      console.log(applied.length === 0 ? "The database is up to date." : `Applied migrations: ${applied.join(", ")}`);
      return 0;
    } finally {
      await db.close();
    }
  },
};
