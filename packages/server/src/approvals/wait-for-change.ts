import type { EventBus, EventFilter } from "../notify/event-bus.ts";

/**
 * Resolves when the bus reports an event for `filter` that `settles` accepts, when `ms` have
 * passed, or when `signal` aborts — whichever comes first; never rejects. Events are hints
 * (a NOTIFY can be lost while a listener reconnects), so callers re-read the row afterwards and
 * bound every wait.
 */
export function waitForChange(
  bus: EventBus,
  filter: EventFilter,
  ms: number,
  options: { signal?: AbortSignal; settles?: (status: string) => boolean } = {},
): Promise<"event" | "timeout" | "aborted"> {
  return new Promise((resolve) => {
    const finish = (outcome: "event" | "timeout" | "aborted") => {
      clearTimeout(timer);
      unsubscribe();
      options.signal?.removeEventListener("abort", onAbort);
      resolve(outcome);
    };
    const onAbort = () => finish("aborted");
    const timer = setTimeout(() => finish("timeout"), Math.max(0, ms));
    const unsubscribe = bus.subscribe(filter, (event) => {
      if (options.settles === undefined || options.settles(event.status)) finish("event");
    });
    if (options.signal?.aborted) finish("aborted");
    else options.signal?.addEventListener("abort", onAbort, { once: true });
  });
}
