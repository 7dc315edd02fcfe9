import type { Queryable, Transaction } from "./database.ts";
import { createTickBatcherPer } from "./tick-batcher.ts";

/** How {@link createBatchedLookup} reads rows. */
export interface BatchedLookupOptions<K, R> {
  /** Reads the rows of many keys; `$1` is the array of distinct keys. At most one row per key. */
  readonly sql: string;
  /** A key as a string, to match rows to callers (a hex digest, the id itself). */
  readonly idOf: (key: K) => string;
  /** The key of a row read, as `idOf` gives it. */
  readonly rowId: (row: R) => string;
}

/**
 * Looks rows up by a unique key, the "DataLoader" pattern: the lookups concurrent requests make
 * on one pool in one turn of the event loop are answered by one statement. Every answer still
 * comes from a statement that ran after its caller asked, so nothing is served stale; only the
 * number of round trips changes. Inside a transaction the statement runs at once for its one
 * key: a transaction's statements run one after another anyway.
 */
export function createBatchedLookup<K, R extends object>(
  options: BatchedLookupOptions<K, R>,
): (q: Queryable, key: K) => Promise<R | undefined> {
  const { sql, idOf, rowId } = options;
  const read = async (q: Queryable, keys: readonly K[]) => {
    const distinct = new Map(keys.map((key) => [idOf(key), key]));
    const { rows } = await q.query<R>(sql, [[...distinct.values()]]);
    const byId = new Map(rows.map((row) => [rowId(row), row]));
    return keys.map((key) => byId.get(idOf(key)));
  };
  const readInTurn = createTickBatcherPer(read);
  return async (q, key) => {
    if (typeof (q as Partial<Transaction>).afterCommit === "function") return (await read(q, [key]))[0];
    return readInTurn(q, key);
  };
}
