import { mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import { PGlite, type Results, TransactionAbortedError } from "@electric-sql/pglite";
import { createChannelRegistry } from "./channel-registry.ts";
import { acquireDataDirLock, type DataDirLock } from "./data-dir-lock.ts";
import type { Database, QueryResult, Transaction } from "./database.ts";
import { runAfterCommit } from "./run-after-commit.ts";
import { transactionRolledBack } from "./transaction-rolled-back.ts";
import { createTransactionScope } from "./transaction-scope.ts";
import { SCALAR_TYPE_PARSERS } from "./type-parsers.ts";

/** Options for {@link openPgliteDatabase}. */
export interface PgliteDatabaseOptions {
  /**
   * The PGDATA directory (created with its parents when missing), locked against a second
   * opener by `<path>.lock`. Omit for an in-memory database.
   */
  path?: string;
  /** A dump made by {@link PgliteDatabase.dumpDataDir} to start from instead of an empty database. */
  loadDataDir?: Blob;
  /** Receives errors thrown by notification callbacks. Default: console.error. */
  onBackgroundError?: (error: Error) => void;
}

/** The embedded database, which can also dump itself for cloning. */
export interface PgliteDatabase extends Database {
  readonly kind: "pglite";
  /** An uncompressed tarball of the data directory, loadable with `loadDataDir`. */
  dumpDataDir(): Promise<Blob>;
}

/**
 * Opens an embedded PGlite database on disk or in memory. PGlite runs one statement at a time;
 * its own mutexes make `db.query` wait while another caller's transaction is open, so
 * concurrent callers are safe, and `db.transaction` calls run one after another.
 *
 * @example
 * ```ts
 * const db = await openPgliteDatabase({ path: "./.countersign/pgdata" });
 * ```
 */
export async function openPgliteDatabase(options: PgliteDatabaseOptions = {}): Promise<PgliteDatabase> {
  const where = options.path ?? "memory";
  let lock: DataDirLock | undefined;
  let pglite: PGlite;
  try {
    if (options.path !== undefined) {
      // PGlite creates the PGDATA directory itself but not its parents.
      await mkdir(dirname(options.path), { recursive: true, mode: 0o700 });
      lock = await acquireDataDirLock(`${options.path}.lock`);
    }
    pglite = new PGlite({
      ...(options.path !== undefined ? { dataDir: options.path } : {}),
      ...(options.loadDataDir !== undefined ? { loadDataDir: options.loadDataDir } : {}),
      parsers: { ...SCALAR_TYPE_PARSERS },
    });
    await pglite.waitReady;
  } catch (error) {
    await lock?.release();
    throw new Error(`cannot open the embedded database (${where}): ${(error as Error).message}`, { cause: error });
  }

  const onBackgroundError =
    options.onBackgroundError ?? ((error: Error) => console.error(`[countersign db] ${error.message}`, error.cause));
  const registry = createChannelRegistry({
    async subscribe(quoted) {
      await pglite.exec(`LISTEN ${quoted}`);
    },
    async unsubscribe(quoted) {
      await pglite.exec(`UNLISTEN ${quoted}`).catch(() => {});
    },
    onError: onBackgroundError,
  });
  // PGlite's own listen() lower-cases the channel name but not pg_notify's argument; one
  // handler for all channels and our quoting keep names exact, as on PostgreSQL.
  const stopNotifications = pglite.onNotification((channel, payload) => registry.dispatch(channel, payload));
  const scope = createTransactionScope();
  let closing: Promise<void> | undefined;

  return {
    kind: "pglite",
    async query<R extends object = Record<string, unknown>>(sql: string, params: readonly unknown[] = []) {
      scope.assertOutside("query");
      return toResult<R>(await pglite.query<R>(sql, [...params]));
    },
    async exec(sql) {
      scope.assertOutside("exec");
      await pglite.exec(sql);
    },
    async transaction(fn) {
      scope.assertOutside("transaction");
      let committing = false;
      const committed: Array<() => void> = [];
      try {
        const outcome = await pglite.transaction(async (pgTx) => {
          let open = true;
          const assertOpen = (): void => {
            if (!open) {
              throw new Error("this transaction has ended; tx may only be used inside its db.transaction() callback");
            }
          };
          const tx: Transaction = {
            async query<R extends object = Record<string, unknown>>(sql: string, params: readonly unknown[] = []) {
              assertOpen();
              return toResult<R>(await pgTx.query<R>(sql, [...params]));
            },
            async exec(sql) {
              assertOpen();
              await pgTx.exec(sql);
            },
            afterCommit(fn) {
              assertOpen();
              committed.push(fn);
            },
          };
          const result = await scope
            .run(() => fn(tx))
            .finally(() => {
              open = false;
            });
          committing = true;
          return result;
        });
        runAfterCommit(committed);
        return outcome;
      } catch (error) {
        // PGlite throws its own error when COMMIT rolls back; throw the one pg-database throws.
        if (committing && error instanceof TransactionAbortedError) {
          throw transactionRolledBack(error);
        }
        throw error;
      }
    },
    async listen(channel, onPayload) {
      scope.assertOutside("listen");
      if (pglite.closed) {
        throw new Error("the database is closed");
      }
      return registry.listen(channel, onPayload);
    },
    async dumpDataDir() {
      scope.assertOutside("dumpDataDir");
      // A checkpoint first, so the copy starts without WAL to replay.
      await pglite.exec("CHECKPOINT");
      return pglite.dumpDataDir("none");
    },
    close() {
      closing ??= (async () => {
        stopNotifications();
        registry.clear();
        try {
          await pglite.close();
        } finally {
          await lock?.release();
        }
      })();
      return closing;
    },
  };
}

function toResult<R>(result: Results<R>): QueryResult<R> {
  // rowCount comes from the command tag (rows selected or changed); DDL has none.
  return { rows: result.rows, rowCount: result.rowCount ?? result.affectedRows ?? 0 };
}
