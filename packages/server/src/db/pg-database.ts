import {
  types as defaultTypes,
  type QueryResult as PgQueryResult,
  Pool,
  type PoolClient,
  type PoolConfig,
  type QueryConfig,
} from "pg";
import type { Database, QueryResult, Transaction } from "./database.ts";
import { createPgListener } from "./pg-listener.ts";
import { runAfterCommit } from "./run-after-commit.ts";
import { transactionRolledBack } from "./transaction-rolled-back.ts";
import { createTransactionScope } from "./transaction-scope.ts";
import { typeParserFor } from "./type-parsers.ts";

/** Options for {@link openPgDatabase}. */
export interface PgDatabaseOptions {
  /** `postgres://user:password@host:port/database?…` */
  databaseUrl: string;
  /** Maximum pooled connections (default 10). LISTEN uses one more, outside the pool. */
  poolSize?: number;
  /** Receives errors nobody awaits: idle connections dropping, LISTEN reconnects. Default: console.error. */
  onBackgroundError?: (error: Error) => void;
  /** First LISTEN reconnect delay in ms (default 250); doubles up to 10 s. */
  listenReconnectDelayMs?: number;
}

/** PostgreSQL older than this is refused: the migrations are written for 15+. */
const MINIMUM_SERVER_VERSION = 150000;

// pg asks for a parser per column; unknown types stay text, like on PGlite.
const TYPES = {
  getTypeParser: (oid: number, format?: string) =>
    format === "binary" ? defaultTypes.getTypeParser(oid, "binary") : (typeParserFor(oid) ?? String),
} as unknown as NonNullable<PoolConfig["types"]>;

/**
 * Opens a connection pool to PostgreSQL, checks that the server answers and is version 15 or
 * newer, and returns it as a {@link Database}. Each session uses the UTC time zone, as PGlite
 * does, so date arithmetic in SQL gives the same answers on both.
 *
 * @example
 * ```ts
 * const db = await openPgDatabase({ databaseUrl: "postgres://countersign@db/countersign", poolSize: 20 });
 * ```
 */
export async function openPgDatabase(options: PgDatabaseOptions): Promise<Database> {
  const poolSize = options.poolSize ?? 10;
  if (!Number.isInteger(poolSize) || poolSize < 1) {
    throw new Error(`poolSize must be a positive integer, got ${String(options.poolSize)}`);
  }
  const where = describeDatabaseUrl(options.databaseUrl);
  const onBackgroundError =
    options.onBackgroundError ?? ((error: Error) => console.error(`[countersign db] ${error.message}`, error.cause));
  const connection = {
    connectionString: options.databaseUrl,
    connectionTimeoutMillis: 10_000,
    types: TYPES,
  };
  const pool = new Pool({
    ...connection,
    application_name: "countersign",
    max: poolSize,
    // A SET rather than the `options` startup parameter, which PgBouncer refuses; pg-pool
    // awaits this hook before handing the new connection out.
    onConnect: async (client) => {
      await client.query("SET TIME ZONE 'UTC'");
    },
  });
  let closing: Promise<void> | undefined;
  // An idle pooled connection that drops emits 'error' on the pool; unhandled, it would crash.
  // Once close() has begun, connections still shutting down may be cut (a DROP DATABASE …
  // WITH (FORCE) right after close): nobody needs to hear about those.
  pool.on("error", (error) => {
    if (closing === undefined) {
      onBackgroundError(new Error(`an idle PostgreSQL connection to ${where} failed`, { cause: error }));
    }
  });

  try {
    const version = await pool.query<{ server_version_num: string }>("SHOW server_version_num");
    const number = Number(version.rows[0]?.server_version_num);
    if (!(number >= MINIMUM_SERVER_VERSION)) {
      throw new Error(`PostgreSQL at ${where} is version ${number}; Countersign needs 15 or newer`);
    }
  } catch (error) {
    await pool.end().catch(() => {});
    throw new Error(`cannot use the PostgreSQL database at ${where}: ${(error as Error).message}`, { cause: error });
  }

  const listener = createPgListener({
    connection: { ...connection, application_name: "countersign-listen" },
    reconnectDelayMs: options.listenReconnectDelayMs ?? 250,
    maxReconnectDelayMs: 10_000,
    onError: onBackgroundError,
  });
  const scope = createTransactionScope();

  return {
    kind: "postgres",
    async query<R extends object = Record<string, unknown>>(sql: string, params: readonly unknown[] = []) {
      scope.assertOutside("query");
      return toResult<R>(await pool.query(extendedQuery(sql, params)));
    },
    async exec(sql) {
      scope.assertOutside("exec");
      await pool.query(sql);
    },
    async transaction(fn) {
      scope.assertOutside("transaction");
      const client = await pool.connect();
      return runTransaction(client, (tx) => scope.run(() => fn(tx)));
    },
    async listen(channel, onPayload) {
      scope.assertOutside("listen");
      return listener.listen(channel, onPayload);
    },
    close() {
      closing ??= (async () => {
        await listener.close();
        await pool.end();
      })();
      return closing;
    },
  };
}

async function runTransaction<T>(client: PoolClient, fn: (tx: Transaction) => Promise<T>): Promise<T> {
  let open = true;
  const committed: Array<() => void> = [];
  const assertOpen = (): void => {
    if (!open) {
      throw new Error("this transaction has ended; tx may only be used inside its db.transaction() callback");
    }
  };
  // One statement at a time, in the order they were asked: callers may issue several at once (a
  // group commit's late steps), and pg deprecates queueing them on a busy client itself. COMMIT
  // and ROLLBACK take their turn too; a statement still waiting when the callback has ended is
  // refused rather than run after them, outside the transaction.
  let last: Promise<unknown> = Promise.resolve();
  const inTurn = <X>(run: () => Promise<X>): Promise<X> => {
    const next = last.then(run, run);
    last = next.catch(() => {});
    return next;
  };
  const statement = (sql: string | ReturnType<typeof extendedQuery>) =>
    inTurn(() => {
      assertOpen();
      return client.query(sql);
    });
  const tx: Transaction = {
    async query<R extends object = Record<string, unknown>>(sql: string, params: readonly unknown[] = []) {
      assertOpen();
      return toResult<R>(await statement(extendedQuery(sql, params)));
    },
    async exec(sql) {
      assertOpen();
      await statement(sql);
    },
    afterCommit(fn) {
      assertOpen();
      committed.push(fn);
    },
  };

  try {
    await client.query("BEGIN");
  } catch (error) {
    client.release(error as Error);
    throw error;
  }
  let result: T;
  try {
    result = await fn(tx);
  } catch (error) {
    open = false;
    try {
      await inTurn(() => client.query("ROLLBACK"));
      client.release();
    } catch (rollbackError) {
      // A connection that cannot roll back is in an unknown state: destroy it, not reuse it.
      client.release(rollbackError as Error);
    }
    throw error;
  }
  open = false;
  let commit: PgQueryResult;
  try {
    commit = await inTurn(() => client.query("COMMIT"));
  } catch (error) {
    client.release(error as Error);
    throw error;
  }
  client.release();
  // PostgreSQL answers COMMIT of a failed transaction with "ROLLBACK" and no error.
  if (commit.command === "ROLLBACK") {
    throw transactionRolledBack();
  }
  runAfterCommit(committed);
  return result;
}

function toResult<R>(result: PgQueryResult): QueryResult<R> {
  return { rows: result.rows as R[], rowCount: result.rowCount ?? 0 };
}

// Without params pg would use the simple protocol, which accepts several statements; PGlite's
// query() never does, so neither may ours. (`queryMode` is missing from @types/pg.)
//
// A statement with parameters is sent as a named prepared statement: PostgreSQL then parses and
// plans it once per connection instead of on every call, which cut the agent pipeline's nonce
// INSERT from ~235 to ~180 µs (DESIGN §4.12). Statements without parameters (BEGIN, COMMIT,
// SAVEPOINT, DDL) stay unnamed: they are cheap to parse and some can't be prepared at all.
function extendedQuery(text: string, params: readonly unknown[]): QueryConfig {
  const name = params.length === 0 ? undefined : statementName(text);
  const config = { text, values: prepareParams(params), queryMode: "extended", ...(name && { name }) };
  return config;
}

// One name per distinct SQL text for the life of the process, so every connection that has
// prepared `cs_7` prepared the same text (pg refuses a known name with another text). The
// server's statements are a fixed set; the cap only guards against a caller that builds SQL text
// dynamically, whose extra statements are then sent unnamed rather than growing every
// connection's statement cache without bound.
const MAX_NAMED_STATEMENTS = 2_000;
const statementNames = new Map<string, string>();

function statementName(text: string): string | undefined {
  const known = statementNames.get(text);
  if (known !== undefined || statementNames.size >= MAX_NAMED_STATEMENTS) return known;
  const name = `cs_${statementNames.size + 1}`;
  statementNames.set(text, name);
  return name;
}

// pg sends a Date in the process's local zone, which a `timestamp` column would keep as is; an
// ISO string in UTC stores the same instant PGlite stores.
function prepareParams(params: readonly unknown[]): unknown[] {
  return params.map(prepareParam);
}

function prepareParam(value: unknown): unknown {
  if (value instanceof Date) {
    return value.toISOString();
  }
  if (Array.isArray(value)) {
    return value.map(prepareParam);
  }
  return value;
}

/**
 * Where a connection URL points, without credentials, for error messages: `host:port/database`,
 * or the socket's path and database when the `host` parameter names a Unix socket directory (pg
 * then ignores the URL's host, and naming it would send the reader to the wrong place).
 */
export function describeDatabaseUrl(databaseUrl: string): string {
  try {
    const url = new URL(databaseUrl);
    const socketDir = url.searchParams.get("host");
    if (socketDir?.startsWith("/") === true) {
      return `${socketDir.replace(/\/$/, "")}/.s.PGSQL.${url.searchParams.get("port") ?? (url.port || "5432")}${url.pathname}`;
    }
    return `${url.hostname || "localhost"}:${url.port || "5432"}${url.pathname}`;
  } catch {
    return "(unparseable DATABASE_URL)";
  }
}
