/**
 * The error both adapters throw when COMMIT finds the transaction aborted: a statement inside
 * `db.transaction()` failed and the callback caught the error and returned normally. It carries
 * SQLSTATE `25P02` (in_failed_sql_transaction) as `code`, like a database error.
 */
export function transactionRolledBack(cause?: unknown): Error & { code: string } {
  return Object.assign(
    new Error(
      "COMMIT rolled the transaction back: a statement inside db.transaction() failed and its error was caught without rethrowing",
      { cause },
    ),
    { code: "25P02" },
  );
}
