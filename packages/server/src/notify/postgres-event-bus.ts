import { AsyncLocalStorage } from "node:async_hooks";
import { randomUUID } from "node:crypto";
import type { Database } from "../db/database.ts";
import { RELAXED_COMMIT } from "../db/relaxed-commit.ts";
import { type ApprovalEvent, parseApprovalEvent } from "./approval-event.ts";
import type { EventBus, EventBusOptions } from "./event-bus.ts";
import { createInProcessEventBus } from "./in-process-event-bus.ts";

/** The NOTIFY channel approval events travel on between server processes. */
export const APPROVAL_EVENTS_CHANNEL = "countersign_approval_events";

/**
 * The largest payload one NOTIFY carries, in bytes. PostgreSQL refuses a payload of 8,000 bytes
 * or more (BLCKSZ − NAMEDATALEN − 128 with the default 8 KiB pages); this keeps a margin below.
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
 * One NOTIFY in one round trip, committed without waiting for the WAL flush. PostgreSQL gives a
 * transaction that notifies an id, so each NOTIFY commits like a write (measured: ~200 µs each,
 * ~100 µs with this). Nothing is lost by not waiting: listeners get the notification at commit
 * either way, and notifications do not survive a crash whatever the setting.
 */
const NOTIFY_SQL = `SELECT ${RELAXED_COMMIT}, pg_notify($1, $2)`;

/** An event waiting to be sent, serialized once when it is published. */
interface Outgoing {
  readonly json: string;
  readonly bytes: number;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

/**
 * The event bus for PostgreSQL, where several stateless server processes share one database:
 * `publish` delivers the event to this process's subscribers at once and sends a NOTIFY on
 * {@link APPROVAL_EVENTS_CHANNEL}, and every other process's bus delivers what arrives over its
 * LISTEN to its own subscribers. Each event in a notification names the bus that sent it
 * (`origin`, a random id per bus), so the publishing process skips its own when it comes back:
 * it delivers each event exactly once, without waiting for the NOTIFY's round trips (at 500
 * creations/s on bench/approvals, creation → SSE event p50 15–19 ms instead of 20–27).
 * Processes of an earlier version ignore the field, and deliver the event as before.
 *
 * One NOTIFY carries a JSON array of events, at most {@link MAX_NOTIFY_PAYLOAD_BYTES} bytes, and
 * one NOTIFY is in flight at a time. Publishes made in the same turn of the event loop go out
 * together, and so do all those made while the previous NOTIFY was on its way: the busier the
 * process or the slower the database, the larger the batches, so NOTIFYs never queue up behind
 * each other, and with one publish at a time nothing waits beyond the current turn. Sending one
 * after another also keeps order: subscribers everywhere see one process's events in the order
 * it published them. (The tick batcher of src/db batches per turn only, and sends the
 * next turn's batch whether or not the last one is done: one NOTIFY per turn, in parallel, out
 * of order across pool connections.)
 *
 * Delivery is at most once: a notification sent while a process's LISTEN connection is down is
 * lost for that process (the database reconnects, but PostgreSQL does not replay). Subscribers
 * therefore treat an event as a hint to re-read the approval row, as the SSE routes do.
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
  // Names this bus's events in its notifications, so that it can tell its own when they return.
  const origin = randomUUID();
  // Sending runs in the async context the bus was created in, not in that of whichever caller
  // happened to start it: a caller still inside a `db.transaction` callback (publishing too
  // early) would otherwise make `db.query` refuse the batch, everyone's events included.
  const inBusContext = AsyncLocalStorage.snapshot();
  let queue: Outgoing[] = [];
  let sending = false;
  let notifiesSent = 0;
  let starting: Promise<void> | undefined;
  let unlisten: (() => Promise<void>) | undefined;
  let closing: Promise<void> | undefined;
  let drained: Promise<void> = Promise.resolve();

  /** Takes from the front of the queue as many events as one payload holds (at least one). */
  const takePayload = (): { payload: string; events: Outgoing[] } => {
    let bytes = 2; // "[" and "]"
    let count = 0;
    for (const outgoing of queue) {
      const added = (count > 0 ? 1 : 0) + outgoing.bytes;
      if (count > 0 && bytes + added > MAX_NOTIFY_PAYLOAD_BYTES) break;
      bytes += added;
      count++;
    }
    const events = queue.slice(0, count);
    queue = queue.slice(count);
    return { payload: `[${events.map((outgoing) => outgoing.json).join(",")}]`, events };
  };

  const drain = async (): Promise<void> => {
    try {
      // Everything published in this turn is queued by the time this runs.
      await new Promise((resolve) => setImmediate(resolve));
      while (queue.length > 0) {
        const { payload, events } = takePayload();
        try {
          await db.query(NOTIFY_SQL, [APPROVAL_EVENTS_CHANNEL, payload]);
          notifiesSent++;
          for (const outgoing of events) outgoing.resolve();
        } catch (error) {
          const failure = new Error("could not send approval events over NOTIFY", { cause: error });
          for (const outgoing of events) outgoing.reject(failure);
        }
      }
    } finally {
      sending = false;
    }
  };

  const send = (event: ApprovalEvent): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      // Delivers before it returns; it rejects only once the bus is closed.
      local.publish(event).catch(() => {});
      const json = JSON.stringify({ ...event, origin });
      queue.push({ json, bytes: Buffer.byteLength(json), resolve, reject });
      if (sending) return;
      sending = true;
      drained = inBusContext(drain).catch((error: unknown) => {
        report(new Error("sending approval events failed", { cause: error }));
      });
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
      // Delivered here when it was published.
      if ((item as { origin?: unknown } | null)?.origin === origin) continue;
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
      return send(parsed);
    },
    subscribe(filter, onEvent) {
      return local.subscribe(filter, onEvent);
    },
    close() {
      closing ??= (async () => {
        // What was published before close() still goes out; its callers are waiting for it.
        await drained;
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
