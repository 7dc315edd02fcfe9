import type { ApprovalEvent } from "../approval-event.ts";
import type { EventBus, EventFilter } from "../event-bus.ts";

/** A well-formed id, `apr_`/`usr_`/`agt_` and 22 characters, distinct per `n`. */
export function testId(prefix: "apr" | "usr" | "agt", n: number): string {
  return `${prefix}_${String(n).padStart(22, "0")}`;
}

/** A valid event for approval `n` of user 1, overridable field by field. */
export function sampleApprovalEvent(n: number, overrides: Partial<ApprovalEvent> = {}): ApprovalEvent {
  return {
    type: "approval.updated",
    approvalId: testId("apr", n),
    userId: testId("usr", 1),
    agentId: testId("agt", 1),
    status: "delivered",
    at: 1_700_000_000_000 + n,
    ...overrides,
  };
}

/** A promise with its resolve function, for holding a request, a hook or a query back. */
export function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = (): void => {};
  const promise = new Promise<void>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}

/** Resolves with the first value `subscribe` hands over, or rejects after `ms`. */
export function within<T>(ms: number, what: string, subscribe: (resolve: (value: T) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms);
    subscribe((value) => {
      clearTimeout(timer);
      resolve(value);
    });
  });
}

/** The events one subscription received, in order. */
export interface CollectedEvents {
  readonly events: ApprovalEvent[];
  /** Resolves with `events` once it holds `count` of them; rejects after `timeoutMs`. */
  waitFor(count: number, timeoutMs?: number): Promise<ApprovalEvent[]>;
  stop(): void;
}

/** Subscribes `filter` on `bus` and records what arrives. */
export function collectEvents(bus: EventBus, filter: EventFilter): CollectedEvents {
  const events: ApprovalEvent[] = [];
  const waiters = new Set<() => void>();
  const stop = bus.subscribe(filter, (event) => {
    events.push(event);
    for (const waiter of [...waiters]) waiter();
  });
  return {
    events,
    stop,
    waitFor(count, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          if (events.length < count) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(events);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`expected ${count} events within ${timeoutMs} ms, received ${events.length}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
  };
}
