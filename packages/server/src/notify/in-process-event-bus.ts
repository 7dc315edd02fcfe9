import { APPROVAL_ID_PATTERN, type ApprovalEvent, parseApprovalEvent, USER_ID_PATTERN } from "./approval-event.ts";
import type { EventBus, EventBusOptions, EventFilter, EventHandler } from "./event-bus.ts";

interface Subscription {
  readonly onEvent: EventHandler;
  active: boolean;
}

type Index = Map<string, Set<Subscription>>;

/**
 * Finds the index and key a filter selects. The filter type is a union, so TypeScript accepts
 * an object naming both ids; refusing it here keeps a subscription from silently following
 * only one of them.
 */
function resolveFilter(filter: EventFilter): { by: "approval" | "user"; id: string } {
  const { approvalId, userId } = filter as { approvalId?: unknown; userId?: unknown };
  if (approvalId !== undefined && userId !== undefined) {
    throw new TypeError("an event filter names either an approvalId or a userId, not both");
  }
  if (approvalId !== undefined) {
    if (typeof approvalId !== "string" || !APPROVAL_ID_PATTERN.test(approvalId)) {
      throw new TypeError("the event filter's approvalId is not an approval id (apr_…)");
    }
    return { by: "approval", id: approvalId };
  }
  if (typeof userId !== "string" || !USER_ID_PATTERN.test(userId)) {
    throw new TypeError("the event filter's userId is not a user id (usr_…)");
  }
  return { by: "user", id: userId };
}

/**
 * The event bus of one process: `publish` hands the event to the matching subscribers before
 * it returns. Used on its own with the embedded database (one process), and inside the
 * PostgreSQL bus for the local fan-out of what arrives over LISTEN.
 *
 * Fan-out costs O(1) lookups per event (one map keyed by approval id, one by user id) plus one
 * call per matching subscriber, however many streams are open. A subscriber that throws is
 * reported to `onError` and the others still receive the event.
 *
 * @example
 * ```ts
 * const bus = createInProcessEventBus({ onError: (error) => log.warn(error) });
 * const stop = bus.subscribe({ approvalId }, (event) => rereadAndSend(event.approvalId));
 * await bus.publish({ type: "approval.updated", approvalId, userId, agentId, status: "approved", at: Date.now() });
 * stop();
 * ```
 */
export function createInProcessEventBus(options: EventBusOptions = {}): EventBus {
  const byApproval: Index = new Map();
  const byUser: Index = new Map();
  let closed = false;

  const report = (error: unknown): void => {
    try {
      options.onError?.(new Error("an approval event subscriber threw", { cause: error }));
    } catch {
      // A failing error reporter must not stop the fan-out to the remaining subscribers.
    }
  };

  const deliver = (subscriptions: Set<Subscription> | undefined, event: ApprovalEvent): void => {
    if (subscriptions === undefined) return;
    // A copy, because a callback may subscribe or unsubscribe: one that re-subscribes itself
    // would otherwise be visited again, forever. `active` skips those removed meanwhile.
    for (const subscription of [...subscriptions]) {
      if (!subscription.active) continue;
      try {
        subscription.onEvent(event);
      } catch (error) {
        report(error);
      }
    }
  };

  return {
    async start() {
      if (closed) throw new Error("the event bus is closed");
    },
    async publish(event) {
      if (closed) throw new Error("the event bus is closed");
      const parsed = parseApprovalEvent(event);
      if (parsed === null) throw new TypeError("not a valid approval event");
      // Every subscriber gets the same object; frozen, so no one of them can change it for the rest.
      const shared = Object.freeze(parsed);
      deliver(byApproval.get(shared.approvalId), shared);
      deliver(byUser.get(shared.userId), shared);
    },
    subscribe(filter, onEvent) {
      if (closed) throw new Error("the event bus is closed");
      const { by, id } = resolveFilter(filter);
      const index = by === "approval" ? byApproval : byUser;
      let subscriptions = index.get(id);
      if (subscriptions === undefined) {
        subscriptions = new Set();
        index.set(id, subscriptions);
      }
      const subscription: Subscription = { onEvent, active: true };
      subscriptions.add(subscription);
      const owner = subscriptions;
      return () => {
        if (!subscription.active) return;
        subscription.active = false;
        owner.delete(subscription);
        // Empty sets are removed so the maps hold only ids someone is following.
        if (owner.size === 0 && index.get(id) === owner) index.delete(id);
      };
    },
    async close() {
      closed = true;
      for (const index of [byApproval, byUser]) {
        for (const subscriptions of index.values()) {
          for (const subscription of subscriptions) subscription.active = false;
        }
        index.clear();
      }
    },
  };
}
