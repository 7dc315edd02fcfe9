import { AsyncLocalStorage } from "node:async_hooks";
import { createTickBatcher } from "../agent-auth/tick-batcher.ts";
import type { Database } from "../db/database.ts";
import { type ApprovalEvent, parseApprovalEvent } from "./approval-event.ts";
import type { EventBus, EventBusOptions } from "./event-bus.ts";
import { createInProcessEventBus } from "./in-process-event-bus.ts";

/** The NOTIFY channel approval events travel on between server processes. */
export const APPROVAL_EVENTS_CHANNEL = "countersign_approval_events";

/**
 * The largest payload one NOTIFY carries, in bytes. PostgreSQL refuses payloads of 8,000 bytes
 * or more by default; the margin leaves room for a server built with another limit's rounding.
 */
export const MAX_NOTIFY_PAYLOAD_BYTES = 7_900;

/** Options for {@link createPostgresEventBus}. */
export interface PostgresEventBusOptions extends EventBusOptions {
  /** The database to NOTIFY through and LISTEN on. */
  readonly db: Database;
}

/** The PostgreSQL bus, with the count of NOTIFY statements it sent (for tests and metrics). */
export interface PostgresEventBus extends EventBus {
  /** NOTIFY statements that succeeded since the bus was created. */
  readonly notifiesSent: number;
}

/**
 * Packs events into JSON arrays of at most {@link MAX_NOTIFY_PAYLOAD_BYTES} bytes each, in order.
 * Returns, per payload, the events it holds, so a failed NOTIFY fails only those publishes.
 */
function packPayloads(events: readonly ApprovalEvent[]): { payload: string; count: number }[] {
  const packed: { payload: string; count: number }[] = [];
  let parts: string[] = [];
  let bytes = 2; // "[" and "]"
  for (const event of events) {
    const json = JSON.stringify(event);
    const size = Buffer.byteLength(json);
    if (parts.length > 0 && bytes + 1 + size > MAX_NOTIFY_PAYLOAD_BYTES) {
      packed.push({ payload: `[${parts.join(",")}]`, count: parts.length });
      parts = [];
      bytes = 2;
    }
    bytes += (parts.length > 0 ? 1 : 0) + size;
    parts.push(json);
  }
  if (parts.length > 0) packed.push({ payload: `[${parts.join(",")}]`, count: parts.length });
  return packed;
}

/**
 * The event bus for PostgreSQL, where several stateless server processes share one database:
 * `publish` sends a NOTIFY on {@link APPROVAL_EVENTS_CHANNEL}, and every process's bus (this one
 * included) delivers what arrives over its LISTEN to its own subscribers. The publishing process
 * hears its own notification, so it delivers each event exactly once, and only from there.
 *
 * Publishes made in the same turn of the event loop go out together (the tick batcher of
 * src/agent-auth): one NOTIFY carries a JSON array of events, split into several NOTIFYs when it
 * would pass {@link MAX_NOTIFY_PAYLOAD_BYTES}. At ~2,500 approvals/s that is a few dozen small
 * statements per second instead of thousands. NOTIFYs are sent one after another, so subscribers
 * everywhere see one process's events in the order it published them.
 *
 * Delivery is at most once: a notification sent while a process's LISTEN connection is down is
 * lost for that process (the database reconnects, but PostgreSQL does not replay), and a
 * rejected `publish` may still have reached some subscribers. Subscribers therefore treat an
 * event as a hint to re-read the approval row, as the SSE routes do.
 */
export function createPostgresEventBus(options: PostgresEventBusOptions): PostgresEventBus {
  const { db } = options;
  const report = (error: Error): void => {
    try {
      options.onError?.(error);
    } catch {
      // A failing error reporter must not break the LISTEN callback for the events after it.
    }
  };
  const local = createInProcessEventBus(options);
  // Sending runs in the async context the bus was created in, not in that of whichever caller
  // happened to start the batch: a caller still inside a `db.transaction` callback (publishing
  // too early) would otherwise make `db.query` refuse the whole batch, everyone's events included.
  const inBusContext = AsyncLocalStorage.snapshot();
  let sendQueue: Promise<unknown> = Promise.resolve();
  let notifiesSent = 0;
  let starting: Promise<void> | undefined;
  let unlisten: (() => Promise<void>) | undefined;
  let closing: Promise<void> | undefined;
  const pending = new Set<Promise<void>>();

  const sendBatch = async (events: readonly ApprovalEvent[]): Promise<(Error | undefined)[]> => {
    const outcomes: (Error | undefined)[] = [];
    for (const { payload, count } of packPayloads(events)) {
      let outcome: Error | undefined;
      try {
        await db.query("SELECT pg_notify($1, $2)", [APPROVAL_EVENTS_CHANNEL, payload]);
        notifiesSent++;
      } catch (error) {
        outcome = new Error("could not send approval events over NOTIFY", { cause: error });
      }
      for (let i = 0; i < count; i++) outcomes.push(outcome);
    }
    return outcomes;
  };

  const batch = createTickBatcher<ApprovalEvent, Error | undefined>((events) => {
    // Batches wait for the previous one: two NOTIFYs in flight on two pool connections could
    // commit in either order, and subscribers would see events out of order.
    const sent = sendQueue.then(() => inBusContext(sendBatch, events));
    sendQueue = sent.catch(() => {});
    return sent;
  });

  const onPayload = (payload: string): void => {
    let decoded: unknown;
    try {
      decoded = JSON.parse(payload);
    } catch (error) {
      report(new Error(`a notification on ${APPROVAL_EVENTS_CHANNEL} is not JSON; dropped`, { cause: error }));
      return;
    }
    if (!Array.isArray(decoded)) {
      report(new Error(`a notification on ${APPROVAL_EVENTS_CHANNEL} is not a list of events; dropped`));
      return;
    }
    for (const item of decoded) {
      const event = parseApprovalEvent(item);
      if (event === null) {
        report(new Error(`a notification on ${APPROVAL_EVENTS_CHANNEL} held a malformed approval event; dropped`));
        continue;
      }
      // Delivers before it returns; it rejects only once the bus is closed.
      local.publish(event).catch(() => {});
    }
  };

  return {
    get notifiesSent() {
      return notifiesSent;
    },
    start() {
      if (closing !== undefined) return Promise.reject(new Error("the event bus is closed"));
      starting ??= db.listen(APPROVAL_EVENTS_CHANNEL, onPayload).then(
        (stop) => {
          unlisten = stop;
        },
        (error: unknown) => {
          // Let a later start() try again.
          starting = undefined;
          throw error;
        },
      );
      return starting;
    },
    publish(event) {
      if (closing !== undefined) return Promise.reject(new Error("the event bus is closed"));
      const parsed = parseApprovalEvent(event);
      if (parsed === null) return Promise.reject(new TypeError("not a valid approval event"));
      const sent = batch(parsed).then((failure) => {
        if (failure !== undefined) throw failure;
      });
      const settle = (): void => {
        pending.delete(sent);
      };
      pending.add(sent);
      sent.then(settle, settle);
      return sent;
    },
    subscribe(filter, onEvent) {
      return local.subscribe(filter, onEvent);
    },
    close() {
      closing ??= (async () => {
        // What was published before close() still goes out; its callers are waiting for it.
        await Promise.allSettled([...pending]);
        await starting?.catch(() => {});
        const stop = unlisten;
        unlisten = undefined;
        await stop?.().catch(() => {});
        await local.close();
      })();
      return closing;
    },
  };
}
