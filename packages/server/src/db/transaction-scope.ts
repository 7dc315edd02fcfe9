import { AsyncLocalStorage } from "node:async_hooks";

/** Tracks which async calls run inside one database's transaction callbacks. */
export interface TransactionScope {
  /** Runs `fn` marked as inside a transaction; the mark ends when `fn` settles. */
  run<T>(fn: () => Promise<T>): Promise<T>;
  /** Throws when called from inside a transaction callback of the same database. */
  assertOutside(method: string): void;
}

/**
 * Creates the guard against nested misuse: `db.query` (or `db.transaction`, `db.listen`) called
 * from inside `db.transaction(fn)`. PGlite serves one transaction at a time, so such a call
 * would wait forever for the transaction that is waiting for it; on PostgreSQL it would run on
 * another connection, outside the transaction. Both adapters throw instead, so code that works
 * on one works on the other.
 */
export function createTransactionScope(): TransactionScope {
  // The store is a mutable flag, not a bare marker: work started inside a transaction (a
  // timer, an un-awaited promise) keeps the async context after the transaction has ended,
  // and may then use the database freely.
  const storage = new AsyncLocalStorage<{ open: boolean }>();
  return {
    async run(fn) {
      const state = { open: true };
      try {
        return await storage.run(state, fn);
      } finally {
        state.open = false;
      }
    },
    assertOutside(method) {
      if (storage.getStore()?.open === true) {
        throw new Error(
          `db.${method}() was called inside db.transaction() on the same database; use the transaction's tx.query()/tx.exec() instead (on PGlite this call would deadlock, on PostgreSQL it would run outside the transaction)`,
        );
      }
    },
  };
}
