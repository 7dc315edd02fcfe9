import type { FastifyInstance } from "fastify";

/** How often expired rows are swept: often enough to keep tables small, rarely enough to cost nothing. */
export const SWEEP_INTERVAL_MS = 60_000;

/**
 * Runs `sweep` every {@link SWEEP_INTERVAL_MS} while the app is up: started when it is ready,
 * stopped when it closes, never keeping the process alive. Expired rows are refused when read in
 * any case; sweeping only bounds how long they stay on disk. A failure is logged and retried at
 * the next tick.
 */
export function registerPeriodicSweep(
  app: FastifyInstance,
  what: string,
  sweep: () => Promise<unknown>,
  options: { intervalMs?: number } = {},
): void {
  let timer: NodeJS.Timeout | undefined;
  let running = false;
  app.addHook("onReady", async () => {
    timer = setInterval(() => {
      // A sweep slower than the interval is not started twice over.
      if (running) return;
      running = true;
      sweep()
        .catch((err: unknown) => app.log.warn({ err }, `sweeping ${what} failed`))
        .finally(() => {
          running = false;
        });
    }, options.intervalMs ?? SWEEP_INTERVAL_MS);
    timer.unref();
  });
  app.addHook("onClose", async () => {
    clearInterval(timer);
  });
}
