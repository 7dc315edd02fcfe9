/**
 * Run by sse-stream.test.ts as `node --experimental-eventsource`: reads an SSE stream with
 * Node's own EventSource (undici's implementation of the HTML standard), an independent parser,
 * and prints what it received as one JSON line once it has `count` events.
 *
 * Usage: node --experimental-eventsource read-with-event-source.ts <url> <count> <event name>…
 */
const [url, countText, ...names] = process.argv.slice(2);
const count = Number(countText);
if (url === undefined || !Number.isInteger(count) || names.length === 0) {
  throw new Error("usage: read-with-event-source.ts <url> <count> <event name>…");
}

const received: { type: string; data: string; lastEventId: string }[] = [];
const source = new EventSource(url);
const onEvent = (event: MessageEvent<string>): void => {
  received.push({ type: event.type, data: event.data, lastEventId: event.lastEventId });
  if (received.length === count) {
    source.close();
    process.stdout.write(`${JSON.stringify(received)}\n`);
  }
};
for (const name of new Set(names)) source.addEventListener(name, onEvent);
source.addEventListener("error", () => {
  source.close();
  process.stderr.write(`the EventSource failed after ${received.length} events\n`);
  process.exitCode = 1;
});
