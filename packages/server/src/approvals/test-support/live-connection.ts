import assert from "node:assert/strict";
import { request as httpRequest, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import type { FastifyInstance } from "fastify";
import { within } from "./eventually.ts";

/** The app listening on a loopback port, for what `inject` cannot do (SSE over a socket). */
export interface LiveServer {
  readonly port: number;
  /** Closes the socket server and every connection; the app itself stays usable via inject. */
  close(): Promise<void>;
}

/** Starts `app` on 127.0.0.1 with a free port. */
export async function listenOnLoopback(app: FastifyInstance): Promise<LiveServer> {
  await app.listen({ host: "127.0.0.1", port: 0 });
  const { port } = app.server.address() as AddressInfo;
  return {
    port,
    async close() {
      app.server.closeAllConnections();
      await new Promise<void>((resolve) => app.server.close(() => resolve()));
    },
  };
}

/** One server-sent event, its `data` parsed as JSON. */
export interface ReceivedSseEvent {
  readonly event: string;
  readonly id: string | undefined;
  // biome-ignore lint/suspicious/noExplicitAny: test data is inspected field by field
  readonly data: any;
}

/** An open `text/event-stream` response over a real connection. */
export interface SseClient {
  readonly status: number;
  readonly headers: IncomingMessage["headers"];
  /** The next event not yet taken; fails the test after `ms` or if the stream ends first. */
  next(ms?: number): Promise<ReceivedSseEvent>;
  /** Resolves when the server ends the response. */
  readonly ended: Promise<void>;
  close(): void;
}

/**
 * `GET path` on the loopback server with exactly these headers (the Host header among them, as
 * the host check and the signature expect) and reads the answer as an event stream. Comments
 * (heartbeats) are skipped. A non-2xx answer is returned with its JSON body in `errorBody`.
 */
export async function openSse(
  port: number,
  path: string,
  headers: Record<string, string>,
  // biome-ignore lint/suspicious/noExplicitAny: error bodies are inspected field by field
): Promise<SseClient & { errorBody: any }> {
  const req = httpRequest({ host: "127.0.0.1", port, path, method: "GET", headers });
  const res = await within(
    5_000,
    "the stream's response headers",
    new Promise<IncomingMessage>((resolve, reject) => {
      req.once("response", resolve);
      req.once("error", reject);
      req.end();
    }),
  );
  const status = res.statusCode ?? 0;
  if (status < 200 || status > 299) {
    const chunks: Buffer[] = [];
    for await (const chunk of res) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString("utf8");
    return {
      status,
      headers: res.headers,
      errorBody: text === "" ? {} : JSON.parse(text),
      next: () => Promise.reject(new Error(`HTTP ${status}`)),
      ended: Promise.resolve(),
      close: () => req.destroy(),
    };
  }

  const queue: ReceivedSseEvent[] = [];
  const waiting: Array<() => void> = [];
  let buffer = "";
  let done = false;
  const wakeAll = () => {
    for (const wake of waiting.splice(0)) wake();
  };
  res.setEncoding("utf8");
  res.on("data", (chunk: string) => {
    buffer += chunk;
    for (let end = buffer.indexOf("\n\n"); end !== -1; end = buffer.indexOf("\n\n")) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const parsed = parseBlock(block);
      if (parsed !== null) queue.push(parsed);
    }
    wakeAll();
  });
  const ended = new Promise<void>((resolve) => {
    const finish = () => {
      done = true;
      wakeAll();
      resolve();
    };
    res.once("end", finish);
    res.once("close", finish);
  });

  return {
    status,
    headers: res.headers,
    errorBody: undefined,
    ended,
    close: () => req.destroy(),
    async next(ms = 5_000) {
      const until = Date.now() + ms;
      for (;;) {
        const event = queue.shift();
        if (event !== undefined) return event;
        if (done) assert.fail("the stream ended before the next event");
        const left = until - Date.now();
        if (left <= 0) assert.fail(`no event within ${ms} ms`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, left);
          waiting.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
    },
  };
}

function parseBlock(block: string): ReceivedSseEvent | null {
  let event = "message";
  let id: string | undefined;
  const data: string[] = [];
  for (const line of block.split("\n")) {
    if (line === "" || line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    const value = colon === -1 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "event") event = value;
    else if (field === "id") id = value;
    else if (field === "data") data.push(value);
  }
  if (data.length === 0) return null;
  return { event, id, data: JSON.parse(data.join("\n")) };
}
