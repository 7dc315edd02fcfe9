import type { Database, Transaction } from "../src/db/database.ts";

/** Told the SQL of every statement a recording wrapper passes on. */
export type OnStatement = (sql: string) => void;

/**
 * The database with every statement sent on the pool reported to `onStatement` first (tests that
 * count round trips); transactions pass through unrecorded.
 */
export function recordingPool(db: Database, onStatement: OnStatement): Database {
  return {
    ...db,
    query: ((sql: string, params?: readonly unknown[]) => {
      onStatement(sql);
      return db.query(sql, params);
    }) as Database["query"],
  };
}

/** The transaction with every statement reported to `onStatement` first. */
export function recordingTransaction(tx: Transaction, onStatement: OnStatement): Transaction {
  return {
    ...tx,
    afterCommit: (fn) => tx.afterCommit(fn),
    exec: (sql) => tx.exec(sql),
    query: ((sql: string, params?: readonly unknown[]) => {
      onStatement(sql);
      return tx.query(sql, params);
    }) as Transaction["query"],
  };
}

/** The database with the statements of every transaction it opens reported to `onStatement`. */
export function recordingTransactions(db: Database, onStatement: OnStatement): Database {
  return {
    ...db,
    transaction: ((fn: (tx: Transaction) => Promise<unknown>) =>
      db.transaction((tx) => fn(recordingTransaction(tx, onStatement)))) as Database["transaction"],
  };
}
