import type { ApprovalEvent } from "./approval-event.ts";

/** Which events a subscriber receives: those of one approval request, or all of one user's. */
export type EventFilter = { readonly approvalId: string } | { readonly userId: string };

/** Called with each event matching a subscription, in the order the bus received them. */
export type EventHandler = (event: ApprovalEvent) => void;

/** Options every event bus takes. */
export interface EventBusOptions {
  /**
   * Receives what the bus cannot hand back to a caller: an error thrown by a subscriber (the
   * other subscribers still get the event) and, on PostgreSQL, a notification payload that is
   * not a list of valid events. The bus logs nothing itself; without `onError` these are
   * dropped.
   */
  readonly onError?: (error: Error) => void;
}

/**
 * Carries committed approval-request changes to whoever follows them: an agent's SSE stream on
 * one request, the approver's app on all of their requests. On PostgreSQL an event published by
 * one server process reaches subscribers on every process (LISTEN/NOTIFY); on the embedded
 * database there is one process and the bus stays in memory.
 *
 * Events are hints, not records: a notification sent while a process's LISTEN connection is down
 * never reaches that process, so a subscriber re-reads the approval row when an event arrives
 * (and once when it subscribes) instead of trusting the event's fields as the current state.
 */
export interface EventBus {
  /**
   * Starts listening (PostgreSQL: LISTEN). Idempotent. Call it at start-up: until it has
   * resolved, a PostgreSQL bus delivers nothing, not even the events its own process publishes.
   */
  start(): Promise<void>;
  /**
   * Publishes an event that has been committed. Call after the transaction commits: a
   * subscriber that re-reads on an event published earlier would see the old row. Rejects with
   * a `TypeError` for a malformed event, before anything is sent.
   */
  publish(event: ApprovalEvent): Promise<void>;
  /**
   * Subscribes to events for one approval or all of one user's approvals; returns unsubscribe
   * (idempotent). Throws a `TypeError` for a filter that names neither or both, or a malformed id.
   */
  subscribe(filter: EventFilter, onEvent: EventHandler): () => void;
  /** Stops listening and drops every subscription, after sending what was published. Idempotent. */
  close(): Promise<void>;
}
