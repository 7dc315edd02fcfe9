import { randomBytes } from "node:crypto";
import { Client } from "pg";
import { migrate } from "../src/db/migrate.ts";
import { openPgDatabase } from "../src/db/pg-database.ts";
import { quoteIdentifier } from "../src/db/quote-identifier.ts";
import { templateKey } from "./template-key.ts";

/** A database created for one test file on the test PostgreSQL server. */
export interface PostgresTestDatabase {
  url: string;
  /** Drops the database, disconnecting anyone still on it. */
  drop(): Promise<void>;
}

// Session advisory lock on the `postgres` database that serializes template builds.
const BUILD_LOCK_KEY = "7165074649429406324";
const STALE_AFTER_MS = 24 * 60 * 60 * 1000;
const CREATED_PREFIX = "countersign test database created ";

/**
 * Creates `countersign_t_<random>` as a copy of the migrated template `countersign_tpl_<key>`,
 * building the template first when this set of migrations has none yet. A file copy takes
 * tens of milliseconds where migrating takes much longer, and every test file gets a database
 * nobody else writes to.
 */
export async function createPostgresTestDatabase(
  serverUrl: string,
  migrationsDir: string,
): Promise<PostgresTestDatabase> {
  const key = await templateKey(migrationsDir);
  const template = `countersign_tpl_${key}`;
  const name = `countersign_t_${randomBytes(8).toString("hex")}`;
  await withAdmin(serverUrl, async (admin) => {
    if (!(await databaseExists(admin, template))) {
      await buildTemplate(admin, serverUrl, template, migrationsDir);
    }
    await admin.query(`CREATE DATABASE ${quoteIdentifier(name)} TEMPLATE ${quoteIdentifier(template)}`);
    await admin.query(`COMMENT ON DATABASE ${quoteIdentifier(name)} IS '${CREATED_PREFIX}${new Date().toISOString()}'`);
  });
  return {
    url: databaseUrl(serverUrl, name),
    drop: () =>
      withAdmin(serverUrl, async (admin) => {
        await admin.query(`DROP DATABASE IF EXISTS ${quoteIdentifier(name)} WITH (FORCE)`);
      }),
  };
}

async function buildTemplate(admin: Client, serverUrl: string, template: string, migrationsDir: string): Promise<void> {
  await admin.query(`SELECT pg_advisory_lock(${BUILD_LOCK_KEY})`);
  try {
    // Another process may have built it while this one waited for the lock.
    if (await databaseExists(admin, template)) {
      return;
    }
    // Built under another name and renamed when complete, so a template that exists is whole
    // even if a builder died half-way.
    const building = `countersign_tpb_${template.slice("countersign_tpl_".length)}`;
    await admin.query(`DROP DATABASE IF EXISTS ${quoteIdentifier(building)} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${quoteIdentifier(building)} TEMPLATE template0 ENCODING 'UTF8'`);
    const db = await openPgDatabase({ databaseUrl: databaseUrl(serverUrl, building), poolSize: 1 });
    try {
      await migrate(db, migrationsDir);
    } finally {
      await db.close();
    }
    // CREATE DATABASE … TEMPLATE fails while anyone is connected to the template: refuse new
    // connections and end any that linger (a closed pool's backend may still be exiting).
    await admin.query(`ALTER DATABASE ${quoteIdentifier(building)} ALLOW_CONNECTIONS false`);
    await admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", [building]);
    await admin.query(
      `COMMENT ON DATABASE ${quoteIdentifier(building)} IS '${CREATED_PREFIX}${new Date().toISOString()}'`,
    );
    await admin.query(`ALTER DATABASE ${quoteIdentifier(building)} IS_TEMPLATE true`);
    await admin.query(`ALTER DATABASE ${quoteIdentifier(building)} RENAME TO ${quoteIdentifier(template)}`);
    await dropStale(admin, template);
  } finally {
    await admin.query(`SELECT pg_advisory_unlock(${BUILD_LOCK_KEY})`);
  }
}

/**
 * Drops templates of other migration sets, and test databases left by crashed runs, once they
 * are a day old (a day, so another checkout running its tests right now keeps its own).
 */
async function dropStale(admin: Client, keep: string): Promise<void> {
  const { rows } = await admin.query<{ datname: string; comment: string | null }>(
    `SELECT datname, shobj_description(oid, 'pg_database') AS comment FROM pg_database
      WHERE datname ~ '^countersign_(tpl|tpb|t)_[0-9a-f]+$' AND datname <> $1`,
    [keep],
  );
  for (const { datname, comment } of rows) {
    const created = comment?.startsWith(CREATED_PREFIX) ? Date.parse(comment.slice(CREATED_PREFIX.length)) : Number.NaN;
    // A half-built template of another key is abandoned: builds run one at a time under the
    // lock this process holds. Anything else without a date may be a test database another
    // process has just created and not yet dated; leave it.
    const abandoned = datname.startsWith("countersign_tpb_");
    if (!abandoned && !(Date.now() - created >= STALE_AFTER_MS)) {
      continue;
    }
    await admin.query(`ALTER DATABASE ${quoteIdentifier(datname)} IS_TEMPLATE false`);
    await admin.query(`DROP DATABASE IF EXISTS ${quoteIdentifier(datname)} WITH (FORCE)`);
  }
}

async function databaseExists(admin: Client, name: string): Promise<boolean> {
  const { rowCount } = await admin.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]);
  return rowCount === 1;
}

/** Runs `fn` on a connection to the server's `postgres` maintenance database. */
async function withAdmin<T>(serverUrl: string, fn: (admin: Client) => Promise<T>): Promise<T> {
  const admin = new Client({
    connectionString: databaseUrl(serverUrl, "postgres"),
    application_name: "countersign-tests",
  });
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.end();
  }
}

/** `serverUrl` pointing at another database on the same server. */
function databaseUrl(serverUrl: string, database: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  return url.toString();
}
