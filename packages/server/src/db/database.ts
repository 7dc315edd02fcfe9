/**
 * The database interface every part of the server uses. Two adapters implement it, one for
 * PostgreSQL (`pg-database.ts`) and one for embedded PGlite (`pglite-database.ts`), and both
 * return the same JavaScript types (see `type-parsers.ts`), so code and tests cannot tell them
 * apart.
 *
 * Value mapping, the same on both:
 * - `int2`, `int4`, `float4`, `float8`, `oid` → `number`; `int8` → `number` (a value outside
 *   the safe integer range throws rather than losing precision)
 * - `numeric` → `string` (exact); `date` → `"YYYY-MM-DD"` string
 * - `timestamptz`, `timestamp` → `Date` (a `timestamp` is read as UTC; microseconds are cut to
 *   milliseconds; `infinity` throws)
 * - `bytea` → plain `Uint8Array` (never a `Buffer`)
 * - `json`, `jsonb` → parsed value; `bool` → `boolean`; anything else → its text form
 * - arrays of the types above → JS arrays
 *
 * Parameters: `Date`, `Uint8Array`, numbers, strings, booleans, `bigint` and `null` work on
 * both. Pass a JSON value as `JSON.stringify(value)` (PostgreSQL's client would send a JS array
 * as an SQL array literal, not as JSON).
 */

/** The rows a statement returned and how many rows it returned or changed. */
export interface QueryResult<R> {
  rows: R[];
  /** Rows returned by a SELECT, or changed by an INSERT/UPDATE/DELETE; 0 for other commands. */
  rowCount: number;
}

/** Something SQL can be sent to: the database itself or an open transaction. */
export interface Queryable {
  /** Runs ONE statement with `$1…$n` parameters (extended protocol on both databases). */
  query<R extends object = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>>;
  /** Runs several statements separated by `;`, without parameters (migrations, fixtures). */
  exec(sql: string): Promise<void>;
}

/**
 * An open transaction, handed to the {@link Database.transaction} callback. It may not be used
 * after the callback settles.
 */
export interface Transaction extends Queryable {
  /**
   * Runs `fn` once the transaction has committed, and never if it rolls back: the place for
   * effects that must not be seen before the data is (publishing an event, waking a worker).
   * Callbacks run in order right after COMMIT, before `transaction()` resolves. They must not
   * throw; one that does is rethrown asynchronously, as an uncaught error, so the bug is loud.
   */
  afterCommit(fn: () => void): void;
}

/** A connection to the Countersign database (a PostgreSQL pool or an embedded PGlite). */
export interface Database extends Queryable {
  readonly kind: "postgres" | "pglite";
  /**
   * Runs `fn` inside BEGIN … COMMIT; ROLLBACK when it throws, then rethrows its error. Calling
   * `db.query`, `db.exec`, `db.transaction` or `db.listen` from inside `fn` (instead of
   * `tx.query`) throws, on both databases: on PGlite it would deadlock, on PostgreSQL it would
   * silently run outside the transaction. When a statement failed inside `fn` and `fn` caught
   * the error and returned anyway, COMMIT cannot commit and the call throws (code `25P02`).
   */
  transaction<T>(fn: (tx: Transaction) => Promise<T>): Promise<T>;
  /**
   * Subscribes to `NOTIFY` on `channel` (the exact, case-sensitive name given to
   * `pg_notify(channel, payload)`). Resolves once the subscription is active; the returned
   * function unsubscribes. On PostgreSQL a dedicated connection listens and reconnects when it
   * drops; notifications sent while it was down are lost, so treat them as hints to re-read.
   */
  listen(channel: string, onPayload: (payload: string) => void): Promise<() => Promise<void>>;
  /** Closes the pool or the embedded database. Idempotent. */
  close(): Promise<void>;
}
