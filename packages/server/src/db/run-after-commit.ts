/**
 * Runs a committed transaction's `afterCommit` callbacks in order. A callback that throws does
 * not stop the others, and its error is rethrown on a fresh task: the commit has happened, so the
 * caller must still get its result, but a broken effect must not pass silently either.
 */
export function runAfterCommit(callbacks: readonly (() => void)[]): void {
  for (const fn of callbacks) {
    try {
      fn();
    } catch (error) {
      setImmediate(() => {
        throw error;
      });
    }
  }
}
