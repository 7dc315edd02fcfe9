import type { FastifyInstance } from "fastify";
import { sweepExpiredNonces } from "./agent-auth/nonce-store.ts";
import { startAuditCheckpointer } from "./audit/audit-checkpointer.ts";
import { type Clock, systemClock } from "./clock.ts";
import type { Config } from "./config/config.ts";
import type { Database } from "./db/database.ts";
import { MIGRATIONS_DIR, migrate, migrationStatus } from "./db/migrate.ts";
import { openDatabase } from "./db/open-database.ts";
import { buildApp } from "./http/build-app.ts";

/** A started server and the way to stop it. */
export interface RunningServer {
  readonly app: FastifyInstance;
  readonly db: Database;
  /** The address it listens on, e.g. http://127.0.0.1:8787. */
  readonly address: string;
  /** Stops taking requests, lets in-flight ones finish (up to the shutdown timeout), closes the database. */
  close(): Promise<void>;
}

const SWEEP_INTERVAL_MS = 60_000;

/**
 * Opens the database, brings its schema up to date (embedded mode migrates by itself; an
 * external PostgreSQL must be migrated with `countersign migrate` first, so a deploy never
 * changes a shared schema by surprise), and starts listening.
 */
export async function startServer(config: Config, options: { clock?: Clock } = {}): Promise<RunningServer> {
  const clock = options.clock ?? systemClock;
  const db = await openDatabase({
    ...(config.database.kind === "postgres"
      ? { databaseUrl: config.database.url, poolSize: config.database.poolSize }
      : {}),
    dataDir: config.dataDir,
  });
  try {
    if (config.database.kind === "embedded") {
      await migrate(db, MIGRATIONS_DIR);
    } else {
      const status = await migrationStatus(db, MIGRATIONS_DIR);
      if (status.problems.length > 0) throw new Error(`migrations do not match: ${status.problems.join("; ")}`);
      if (status.pending.length > 0) {
        throw new Error(`the database needs migrations ${status.pending.join(", ")}: run \`countersign migrate\``);
      }
    }
  } catch (error) {
    await db.close();
    throw error;
  }

  const app = await buildApp({ config, db, clock });
  const sweeper = setInterval(() => {
    sweepExpiredNonces(db, clock.now()).catch((err: unknown) => app.log.warn({ err }, "nonce sweep failed"));
  }, SWEEP_INTERVAL_MS);
  sweeper.unref();
  // Signs audit checkpoints every N entries or T seconds (DESIGN §4.8); safe in every process.
  const checkpointer = await startAuditCheckpointer({
    db,
    config,
    clock,
    onError: (err) => app.log.warn({ err }, "audit checkpoint failed"),
  });

  let address: string;
  try {
    address = await app.listen({ host: config.listen.host, port: config.listen.port });
  } catch (error) {
    clearInterval(sweeper);
    await checkpointer.stop();
    await app.close();
    await db.close();
    throw error;
  }

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      clearInterval(sweeper);
      const timer = setTimeout(() => {
        app.log.error("shutdown timed out; closing connections");
        app.server.closeAllConnections();
      }, config.shutdownTimeoutMs);
      timer.unref();
      try {
        await app.close();
      } finally {
        clearTimeout(timer);
        await checkpointer.stop();
        await db.close();
      }
    })();
    return closing;
  };
  return { app, db, address, close };
}
