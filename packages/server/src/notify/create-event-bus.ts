import type { Database } from "../db/database.ts";
import type { EventBus, EventBusOptions } from "./event-bus.ts";
import { createInProcessEventBus } from "./in-process-event-bus.ts";
import { createPostgresEventBus } from "./postgres-event-bus.ts";

/** Options for {@link createEventBus}. */
export interface CreateEventBusOptions extends EventBusOptions {
  /** The server's database; its kind picks the bus. */
  readonly db: Database;
}

/**
 * The event bus that fits the database: LISTEN/NOTIFY on PostgreSQL, where several server
 * processes may share the database; in memory on the embedded PGlite, which one process owns
 * (its data directory is locked), so there is no other process to reach and no round trip to pay.
 *
 * @example
 * ```ts
 * const events = createEventBus({ db, onError: (error) => app.log.warn({ err: error }, "approval events") });
 * await events.start();
 * app.addHook("onClose", () => events.close());
 * ```
 */
export function createEventBus(options: CreateEventBusOptions): EventBus {
  return options.db.kind === "postgres" ? createPostgresEventBus(options) : createInProcessEventBus(options);
}
