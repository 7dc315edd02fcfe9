/**
 * Waits `ms` milliseconds, or rejects with `signal.reason` as soon as the signal aborts. Uses only
 * the global timer functions, so it runs in every JavaScript runtime.
 *
 * @example
 * ```ts
 * await abortableSleep(500, AbortSignal.timeout(10_000));
 * ```
 */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(
      () => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      },
      Math.max(0, ms),
    );
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
