import assert from "node:assert/strict";
import type { TestContext } from "node:test";
import Fastify, { type FastifyInstance, type FastifyRequest } from "fastify";
import { registerSecurityHeaders } from "../../http/security-headers.ts";
import { openSseStream, registerSseShutdown, type SseStream, type SseStreamOptions } from "../sse-stream.ts";
import { within } from "./event-fixtures.ts";

/** A stream the test server opened, with the request it answers. */
export interface OpenedStream {
  readonly stream: SseStream;
  readonly request: FastifyRequest;
}

/** The running test server. */
export interface SseTestServer {
  readonly app: FastifyInstance;
  readonly url: string;
  /** Resolves with the next stream the server opens. */
  nextStream(): Promise<OpenedStream>;
}

/**
 * A bare Fastify app with the server's security headers, serving `GET /events` as SSE and
 * `GET /plain` as JSON, on a loopback port. `beforeOpen` lets a test hold a request back.
 */
export async function startSseTestServer(
  t: TestContext,
  options: SseStreamOptions & {
    beforeOpen?: () => Promise<void>;
    /** A preClose hook added after registerSseShutdown's: when it runs, that one has run. */
    afterShutdownHook?: () => void;
    shutdown?: boolean;
  } = {},
): Promise<SseTestServer> {
  const { beforeOpen, afterShutdownHook, shutdown = true, ...streamOptions } = options;
  const app = Fastify({ logger: false });
  await registerSecurityHeaders(app, { https: false });
  if (shutdown) registerSseShutdown(app);
  if (afterShutdownHook) app.addHook("preClose", async () => afterShutdownHook());
  // A header set the ordinary way by a hook: Fastify holds it until its own send.
  app.addHook("onRequest", async (_request, reply) => {
    reply.header("x-set-by-hook", "kept");
  });
  const opened: OpenedStream[] = [];
  const waiting: ((value: OpenedStream) => void)[] = [];
  app.get("/events", async (request, reply) => {
    await beforeOpen?.();
    const stream = openSseStream(request, reply, streamOptions);
    const waiter = waiting.shift();
    if (waiter) waiter({ stream, request });
    else opened.push({ stream, request });
  });
  app.get("/plain", async () => ({ ok: true }));
  await app.listen({ host: "127.0.0.1", port: 0 });
  t.after(async () => {
    // If streams were left open (a broken shutdown hook), end them so the failure is reported
    // instead of the test run hanging.
    const force = setTimeout(() => app.server.closeAllConnections(), 5000);
    await app.close();
    clearTimeout(force);
  });
  const address = app.server.address();
  assert.ok(address !== null && typeof address === "object");
  return {
    app,
    url: `http://127.0.0.1:${address.port}`,
    nextStream() {
      const ready = opened.shift();
      if (ready) return Promise.resolve(ready);
      return within<OpenedStream>(5000, "a stream to open", (resolve) => waiting.push(resolve));
    },
  };
}

/** An SSE client over fetch that keeps everything it has read as text. */
export async function connectSse(url: string, signal?: AbortSignal) {
  const response = await fetch(url, signal ? { signal } : {});
  assert.ok(response.body);
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let text = "";
  let ended = false;
  const readOnce = async (): Promise<void> => {
    const chunk = await within<ReadableStreamReadResult<Uint8Array>>(5000, "more of the stream", (resolve) => {
      void reader.read().then(resolve);
    });
    if (chunk.done) ended = true;
    else text += decoder.decode(chunk.value, { stream: true });
  };
  return {
    response,
    text: () => text,
    /** Reads until `predicate(text)` holds; fails if the stream ends first. */
    async readUntil(predicate: (text: string) => boolean): Promise<string> {
      while (!predicate(text)) {
        if (ended) assert.fail(`the stream ended while waiting; read: ${JSON.stringify(text)}`);
        await readOnce();
      }
      return text;
    },
    /** Reads until the server ends the response. */
    async readToEnd(): Promise<string> {
      while (!ended) await readOnce();
      return text;
    },
  };
}
