import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";

/** Options for {@link openSseStream}. */
export interface SseStreamOptions {
  /** How often a comment line is written so idle proxies keep the stream open (default 15,000 ms). */
  readonly heartbeatMs?: number;
  /** Sent once as the SSE `retry:` field: how long a client waits before reconnecting. */
  readonly retryMs?: number;
  /**
   * The most bytes left unsent to a slow client before the stream is closed (default 1 MiB).
   * The client reconnects and re-reads, which costs less than buffering without bound.
   */
  readonly maxBufferedBytes?: number;
}

/** One open `text/event-stream` response. */
export interface SseStream {
  /**
   * Writes one event: `event:`, `id:` when given, and `data` as JSON on `data:` lines. Returns
   * false when the stream is closed (nothing written). Throws a `TypeError` for an event name or
   * id holding a line break (or an id holding NUL), or data JSON cannot represent.
   */
  send(event: string, data: unknown, id?: string): boolean;
  /** Writes a comment line, which clients ignore; nothing once the stream is closed. */
  comment(text: string): void;
  /** Ends the response. Idempotent. */
  close(): void;
  /** Resolves when the client goes away or {@link SseStream.close} is called. */
  readonly closed: Promise<void>;
}

interface OpenStreams {
  readonly streams: Set<SseStream>;
  /** Set once the app began closing: streams opened after that end at once. */
  closing: boolean;
}

const DEFAULT_HEARTBEAT_MS = 15_000;
const DEFAULT_MAX_BUFFERED_BYTES = 1024 * 1024;
// The largest delay setInterval accepts; longer ones fire at once.
const MAX_TIMER_MS = 2_147_483_647;

// Keyed by the Node HTTP server, which the root app and every encapsulated plugin context
// share (`request.server.server`), so a route registered anywhere finds its app's streams.
const openStreamsByServer = new WeakMap<object, OpenStreams>();

// SSE ends a line at CRLF, a lone CR or a lone LF (HTML, "Parsing an event stream").
const LINE_BREAK = /\r\n|\r|\n/;

function checkInteger(name: string, value: number, min: number, max: number): void {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new RangeError(`${name} must be an integer from ${min} to ${max}`);
  }
}

/**
 * Ends every open SSE stream of `app` when it starts closing (a `preClose` hook, before the
 * server stops accepting connections), so graceful shutdown does not wait for streams that never
 * end by themselves. Clients reconnect, to another process behind the load balancer. Register it
 * before the app is ready; calling it again for the same app does nothing, so every module with
 * SSE routes may call it.
 */
export function registerSseShutdown(app: FastifyInstance): void {
  if (openStreamsByServer.has(app.server)) return;
  const open: OpenStreams = { streams: new Set(), closing: false };
  openStreamsByServer.set(app.server, open);
  app.addHook("preClose", async () => {
    open.closing = true;
    for (const stream of [...open.streams]) stream.close();
  });
}

/**
 * Takes over the response (`reply.hijack()`) and starts a `text/event-stream`
 * (https://html.spec.whatwg.org/multipage/server-sent-events.html) with a heartbeat comment
 * every `heartbeatMs`. A hijacked reply skips Fastify's `onSend` hooks, so the headers set there
 * are set here: `cache-control: no-store`, and `x-request-id`. Headers that `onRequest` hooks
 * put on the reply before the handler ran (the security headers of `http/security-headers.ts`,
 * which helmet writes there) are kept.
 *
 * The app must have called {@link registerSseShutdown}; a stream opened while the app is closing
 * ends at once, and the client reconnects after `retryMs`.
 *
 * @example
 * ```ts
 * app.get("/v1/approvals/:id/events", { config: { surface: "api" } }, async (request, reply) => {
 *   const stream = openSseStream(request, reply, { retryMs: 2000 });
 *   const stop = events.subscribe({ approvalId }, () => void sendCurrentState(stream));
 *   await stream.closed;
 *   stop();
 * });
 * ```
 */
export function openSseStream(request: FastifyRequest, reply: FastifyReply, options: SseStreamOptions = {}): SseStream {
  const heartbeatMs = options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
  const maxBufferedBytes = options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES;
  checkInteger("heartbeatMs", heartbeatMs, 1, MAX_TIMER_MS);
  checkInteger("maxBufferedBytes", maxBufferedBytes, 1, Number.MAX_SAFE_INTEGER);
  if (options.retryMs !== undefined) checkInteger("retryMs", options.retryMs, 0, MAX_TIMER_MS);
  const open = openStreamsByServer.get(request.server.server);
  if (open === undefined) {
    throw new Error("call registerSseShutdown(app) before serving SSE, or closing the app would wait for the streams");
  }

  const raw = reply.raw;
  // Headers Fastify holds for the reply (set with reply.header() by earlier hooks) would only
  // be written by Fastify's own send, which a hijacked reply never reaches.
  const held = reply.getHeaders();
  reply.hijack();
  for (const [name, value] of Object.entries(held)) {
    if (value !== undefined && name !== "content-length") raw.setHeader(name, value);
  }
  raw.setHeader("content-type", "text/event-stream; charset=utf-8");
  raw.setHeader("cache-control", "no-store");
  // nginx buffers proxied responses unless told not to, which would hold events back.
  raw.setHeader("x-accel-buffering", "no");
  // A connection-specific header is forbidden in HTTP/2.
  if (request.raw.httpVersionMajor < 2) raw.setHeader("connection", "keep-alive");
  raw.setHeader("x-request-id", request.id);
  raw.writeHead(200);
  raw.flushHeaders();

  let done = false;
  let resolveClosed = (): void => {};
  const closed = new Promise<void>((resolve) => {
    resolveClosed = resolve;
  });

  let overflowCheck: NodeJS.Immediate | undefined;
  const checkOverflow = (): void => {
    overflowCheck = undefined;
    if (raw.writableLength > maxBufferedBytes) stream.close();
  };
  const write = (chunk: string): boolean => {
    if (done) return false;
    raw.write(chunk);
    // Checked once the current turn is over: Node corks the socket for the writes of one turn,
    // so right after a burst everything written counts as waiting, even what the kernel would
    // take at once. What is still waiting after that is the client's backlog.
    if (raw.writableLength > maxBufferedBytes) overflowCheck ??= setImmediate(checkOverflow);
    return true;
  };

  const commentLines = (text: string): string =>
    text
      .split(LINE_BREAK)
      .map((line) => (line === "" ? ":\n" : `: ${line}\n`))
      .join("");

  const heartbeat = setInterval(() => write(":\n"), heartbeatMs);
  // An open socket keeps the process alive anyway; the timer alone should not.
  heartbeat.unref();

  const stream: SseStream = {
    send(event, data, id) {
      if (typeof event !== "string" || event === "" || LINE_BREAK.test(event)) {
        throw new TypeError("an SSE event name must be a non-empty string without line breaks");
      }
      if (id !== undefined && (typeof id !== "string" || LINE_BREAK.test(id) || id.includes("\0"))) {
        // Clients ignore an id holding NUL, and a line break would start a new field.
        throw new TypeError("an SSE event id must be a string without line breaks or NUL");
      }
      const json = JSON.stringify(data) as string | undefined;
      if (json === undefined) throw new TypeError("SSE event data must be representable as JSON");
      let frame = `event: ${event}\n`;
      if (id !== undefined) frame += `id: ${id}\n`;
      // JSON.stringify escapes CR and LF inside strings, but the split keeps the framing right
      // whatever the text: every line of the data becomes its own data: line, and the client
      // joins them back with LF.
      for (const line of json.split(LINE_BREAK)) frame += `data: ${line}\n`;
      return write(`${frame}\n`);
    },
    comment(text) {
      write(commentLines(String(text)));
    },
    close() {
      if (done) return;
      done = true;
      clearInterval(heartbeat);
      clearImmediate(overflowCheck);
      open.streams.delete(stream);
      if (!raw.writableEnded && !raw.destroyed) raw.end();
      resolveClosed();
    },
    closed,
  };

  // 'close' fires when the client disconnects as well as after the response ends.
  raw.once("close", () => stream.close());
  // A write to a reset connection errors; the stream is over, and without a listener the
  // error would be thrown as an uncaught exception.
  raw.on("error", () => stream.close());

  if (options.retryMs !== undefined) write(`retry: ${options.retryMs}\n`);
  // A client that left while the handler was still working (a database read before the
  // stream opened) has already had its 'close' event, which will not come again.
  if (open.closing || raw.destroyed || raw.socket?.destroyed === true) {
    stream.close();
    return stream;
  }
  open.streams.add(stream);
  return stream;
}
