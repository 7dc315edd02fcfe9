/**
 * Run as a separate Node process by postgres-event-bus.test.ts: opens its own pool and its own
 * PostgreSQL event bus, publishes the events given on the command line, and exits. It shares
 * nothing with the test process but the database, as two server processes would.
 *
 * Usage: node publish-in-child.ts <database url> <JSON array of approval events>
 */
import { openPgDatabase } from "../../db/pg-database.ts";
import { type ApprovalEvent, parseApprovalEvent } from "../approval-event.ts";
import { createPostgresEventBus } from "../postgres-event-bus.ts";

const [databaseUrl, eventsJson] = process.argv.slice(2);
if (databaseUrl === undefined || eventsJson === undefined) {
  throw new Error("usage: publish-in-child.ts <database url> <JSON array of approval events>");
}
const events = (JSON.parse(eventsJson) as unknown[]).map((item): ApprovalEvent => {
  const event = parseApprovalEvent(item);
  if (event === null) throw new Error(`not an approval event: ${JSON.stringify(item)}`);
  return event;
});

const db = await openPgDatabase({ databaseUrl, poolSize: 1 });
const bus = createPostgresEventBus({ db });
try {
  await Promise.all(events.map((event) => bus.publish(event)));
  process.stdout.write(
    `${JSON.stringify({ pid: process.pid, published: events.length, notifies: bus.notifiesSent })}\n`,
  );
} finally {
  await bus.close();
  await db.close();
}
