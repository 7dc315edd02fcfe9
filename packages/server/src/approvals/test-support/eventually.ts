import assert from "node:assert/strict";

/**
 * Resolves like `promise`, or fails the test after `ms` naming `what`. A bound so that a broken
 * server fails the test instead of hanging it, never a measure of speed: keep it generous.
 */
export function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Waits until `condition()` holds, for what happens after a commit without an answer to wait
 * on (an event published on the bus, a webhook sent); fails the test after `ms`.
 */
export async function eventually(condition: () => boolean, what: string, ms = 5_000): Promise<void> {
  const until = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > until) assert.fail(`${what} did not happen within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
