import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { get, type IncomingMessage } from "node:http";
import type { Socket } from "node:net";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import Fastify, { type FastifyRequest } from "fastify";
import { createTestApp } from "../../test-support/test-app.ts";
import { createTestDatabase } from "../../test-support/test-database.ts";
import { openSseStream, registerSseShutdown, type SseStreamOptions } from "./sse-stream.ts";
import { deferred, within } from "./test-support/event-fixtures.ts";
import { connectSse, startSseTestServer } from "./test-support/sse-test-server.ts";

const EVENT_SOURCE_READER = fileURLToPath(new URL("./test-support/read-with-event-source.ts", import.meta.url));

describe("openSseStream", () => {
  it("answers 200 text/event-stream, not cached nor buffered, with the headers every response gets", async (t) => {
    const server = await startSseTestServer(t);
    const plain = await fetch(`${server.url}/plain`);
    await plain.arrayBuffer();
    const client = await connectSse(`${server.url}/events`);
    const { stream, request } = await server.nextStream();
    t.after(() => stream.close());

    const headers = client.response.headers;
    assert.equal(client.response.status, 200);
    assert.equal(headers.get("content-type"), "text/event-stream; charset=utf-8");
    assert.equal(headers.get("cache-control"), "no-store");
    assert.equal(headers.get("x-accel-buffering"), "no");
    assert.equal(headers.get("connection"), "keep-alive");
    assert.equal(headers.get("x-request-id"), request.id);
    assert.equal(headers.get("x-set-by-hook"), "kept");
    assert.equal(headers.get("content-length"), null);
    assert.match(headers.get("content-security-policy") ?? "", /default-src 'self'/);
    assert.equal(headers.get("x-content-type-options"), "nosniff");
    // Every header of an ordinary response, with the same value, except those about its body.
    const aboutTheBody = new Set(["content-type", "content-length", "date", "keep-alive", "connection"]);
    for (const [name, value] of plain.headers) {
      if (aboutTheBody.has(name)) continue;
      assert.equal(headers.get(name), value, name);
    }
  });

  it("frames events, ids, multi-line comments and the retry field as the SSE format says", async (t) => {
    const server = await startSseTestServer(t, { retryMs: 2500 });
    const client = await connectSse(`${server.url}/events`);
    const { stream } = await server.nextStream();
    t.after(() => stream.close());

    const data = { title: "line one\nline two\r\nthree\r", separator: "\u2028", quote: '"', n: 1 };
    assert.equal(stream.send("approval.updated", data, "7"), true);
    assert.equal(stream.send("approval.created", ["no", "id"]), true);
    stream.comment("two\nlines");
    stream.send("approval.updated", null, "");

    const expected =
      "retry: 2500\n" +
      `event: approval.updated\nid: 7\ndata: ${JSON.stringify(data)}\n\n` +
      'event: approval.created\ndata: ["no","id"]\n\n' +
      ": two\n: lines\n" +
      "event: approval.updated\nid: \ndata: null\n\n";
    assert.equal(await client.readUntil((text) => text.length >= expected.length), expected);
    // JSON keeps line breaks escaped: each event's data is a single line.
    assert.equal(expected.split("\n").filter((line) => line.startsWith("data:")).length, 3);
  });

  it("is read back intact by an EventSource", { timeout: 30_000 }, async (t) => {
    const events: [string, unknown, string | undefined][] = [
      ["approval.created", { id: "apr_1", status: "pending", title: "Deploy\nto prod\r\n" }, "1"],
      ["approval.updated", { separators: "\u2028\u2029", emoji: "✅" }, "2"],
      ["approval.updated", [1, 2, 3], undefined],
    ];
    const server = await startSseTestServer(t, { retryMs: 60_000 });
    server.nextStream().then(({ stream }) => {
      for (const [name, data, id] of events) stream.send(name, data, id);
    });
    const child = spawn(
      process.execPath,
      [
        "--experimental-eventsource",
        "--no-warnings",
        EVENT_SOURCE_READER,
        `${server.url}/events`,
        "3",
        ...events.map((e) => e[0]),
      ],
      { env: { PATH: process.env.PATH ?? "" }, stdio: ["ignore", "pipe", "pipe"] },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
    });
    const code = await new Promise<number | null>((resolve, reject) => {
      child.on("error", reject);
      child.on("close", resolve);
    });
    assert.equal(code, 0, stderr);
    const received = JSON.parse(stdout) as { type: string; data: string; lastEventId: string }[];
    assert.deepEqual(
      received.map((event) => ({ ...event, data: JSON.parse(event.data) as unknown })),
      // An event without an id keeps the last id seen, as the standard says.
      events.map(([type, data, id], i) => ({ type, data, lastEventId: id ?? events[i - 1]?.[2] })),
    );
  });

  it("refuses an event name or id that would break the framing, and writes nothing for it", async (t) => {
    const server = await startSseTestServer(t);
    const client = await connectSse(`${server.url}/events`);
    const { stream } = await server.nextStream();
    t.after(() => stream.close());

    for (const name of ["", "approval\nupdated", "approval\rupdated"]) {
      assert.throws(() => stream.send(name, {}), TypeError, JSON.stringify(name));
    }
    for (const id of ["1\n2", "1\r", "1\0"]) {
      assert.throws(() => stream.send("approval.updated", {}, id), TypeError, JSON.stringify(id));
    }
    assert.throws(() => stream.send("approval.updated", undefined), TypeError);
    assert.throws(() => stream.send("approval.updated", () => {}), TypeError);
    stream.send("approval.updated", { after: "the refusals" });
    const expected = 'event: approval.updated\ndata: {"after":"the refusals"}\n\n';
    assert.equal(await client.readUntil((text) => text.length >= expected.length), expected);
  });

  it("writes a heartbeat comment every heartbeatMs", async (t) => {
    const server = await startSseTestServer(t, { heartbeatMs: 20 });
    const client = await connectSse(`${server.url}/events`);
    const { stream } = await server.nextStream();
    t.after(() => stream.close());
    assert.equal(await client.readUntil((text) => text.length >= 4), ":\n:\n");
  });

  it("refuses a heartbeat, retry or buffer limit that is not a sensible integer", () => {
    const invalid: SseStreamOptions[] = [
      { heartbeatMs: 0 },
      { heartbeatMs: 1.5 },
      { heartbeatMs: 2 ** 31 },
      { retryMs: -1 },
      { maxBufferedBytes: 0 },
    ];
    for (const options of invalid) {
      const reply = { hijack: () => assert.fail("must not take over the response") };
      assert.throws(
        () => openSseStream({} as FastifyRequest, reply as never, options),
        RangeError,
        JSON.stringify(options),
      );
    }
  });

  it("resolves closed when the client goes away, and stops writing", async (t) => {
    const server = await startSseTestServer(t, { heartbeatMs: 10 });
    const abort = new AbortController();
    const client = await connectSse(`${server.url}/events`, abort.signal);
    const { stream } = await server.nextStream();
    await client.readUntil((text) => text.length > 0);
    abort.abort();
    await within<void>(5000, "closed to resolve", (resolve) => {
      void stream.closed.then(resolve);
    });
    assert.equal(stream.send("approval.updated", {}), false);
  });

  it("resolves closed at once when the client left before the stream opened", async (t) => {
    const held = deferred();
    const handlerEntered = deferred();
    const server = await startSseTestServer(t, {
      heartbeatMs: 60_000,
      beforeOpen: () => {
        handlerEntered.resolve();
        return held.promise;
      },
    });
    const socketClosed = new Promise<void>((resolve) => {
      server.app.server.once("connection", (socket: Socket) => socket.once("close", () => resolve()));
    });
    const abort = new AbortController();
    const client = fetch(`${server.url}/events`, { signal: abort.signal }).catch(() => "aborted");
    await handlerEntered.promise;
    abort.abort();
    assert.equal(await client, "aborted");
    await socketClosed;
    held.resolve();
    const { stream } = await server.nextStream();
    await within<void>(5000, "closed to resolve", (resolve) => {
      void stream.closed.then(resolve);
    });
    assert.equal(stream.send("approval.updated", {}), false);
  });

  it("ends the response on close() and resolves closed", async (t) => {
    const server = await startSseTestServer(t);
    const client = await connectSse(`${server.url}/events`);
    const { stream } = await server.nextStream();
    stream.send("approval.updated", { last: true });
    stream.close();
    stream.close();
    await stream.closed;
    assert.equal(await client.readToEnd(), 'event: approval.updated\ndata: {"last":true}\n\n');
    assert.equal(stream.send("approval.updated", {}), false);
    stream.comment("ignored");
  });

  it("closes the stream of a client that stops reading once too much is waiting for it", {
    timeout: 30_000,
  }, async (t) => {
    const server = await startSseTestServer(t, { maxBufferedBytes: 64 * 1024 });
    // A client that never reads: Node stops reading the socket once its own buffer is full.
    const response = await new Promise<IncomingMessage>((resolve, reject) => {
      get(`${server.url}/events`, resolve).on("error", reject);
    });
    t.after(() => response.destroy());
    const { stream } = await server.nextStream();
    let closed = false;
    void stream.closed.then(() => {
      closed = true;
    });
    const chunk = "x".repeat(4 * 1024);
    let sent = 0;
    // Loopback socket buffers hold a few MiB; 16,000 chunks (64 MiB) is far beyond them.
    while (sent < 16_000 && !closed) {
      stream.send("approval.updated", chunk);
      sent++;
      await new Promise((resolve) => setImmediate(resolve));
    }
    assert.ok(closed, "the stream was closed");
    t.diagnostic(`closed after ${sent} chunks of 4 KiB`);
    // What the kernel took is not waiting: the limit was reached only once the socket was full.
    assert.ok(sent * chunk.length > 256 * 1024, `closed after ${sent} chunks`);
    assert.equal(stream.send("approval.updated", {}), false);
  });

  it("keeps the stream of a client that reads as fast as events come", { timeout: 30_000 }, async (t) => {
    const server = await startSseTestServer(t, { maxBufferedBytes: 64 * 1024 });
    const client = await connectSse(`${server.url}/events`);
    const { stream } = await server.nextStream();
    t.after(() => stream.close());
    const chunk = "x".repeat(4 * 1024);
    const frame = `event: approval.updated\ndata: ${JSON.stringify(chunk)}\n\n`;
    for (let i = 0; i < 256; i++) {
      assert.equal(stream.send("approval.updated", chunk), true);
      await client.readUntil((text) => text.length >= (i + 1) * frame.length);
    }
    assert.equal(client.text().length, 256 * frame.length);
  });

  it("ends every open stream when the app closes, so closing does not wait for them", async (t) => {
    const server = await startSseTestServer(t, { heartbeatMs: 60_000 });
    const first = await connectSse(`${server.url}/events`);
    const second = await connectSse(`${server.url}/events`);
    const streams = [await server.nextStream(), await server.nextStream()];
    await within<void>(5000, "app.close() to finish", (resolve) => {
      void server.app.close().then(resolve);
    });
    await within<void>(5000, "every stream to end", (resolve) => {
      void Promise.all(streams.map(({ stream }) => stream.closed)).then(() => resolve());
    });
    assert.equal(await first.readToEnd(), "");
    assert.equal(await second.readToEnd(), "");
  });

  it("ends at once a stream opened after the app began closing, telling the client when to retry", async (t) => {
    const held = deferred();
    const handlerEntered = deferred();
    const preCloseRan = deferred();
    const server = await startSseTestServer(t, {
      retryMs: 1000,
      beforeOpen: () => {
        handlerEntered.resolve();
        return held.promise;
      },
      afterShutdownHook: preCloseRan.resolve,
    });
    const client = connectSse(`${server.url}/events`);
    await handlerEntered.promise;
    const closing = server.app.close();
    await preCloseRan.promise;
    held.resolve();
    const { stream } = await server.nextStream();
    await within<void>(5000, "the late stream to end", (resolve) => {
      void stream.closed.then(resolve);
    });
    assert.equal(await (await client).readToEnd(), "retry: 1000\n");
    await closing;
  });

  it("refuses to stream for an app that has not registered the shutdown hook", async (t) => {
    const server = await startSseTestServer(t, { shutdown: false });
    const response = await fetch(`${server.url}/events`);
    assert.equal(response.status, 500);
    assert.match(await response.text(), /registerSseShutdown/);
  });
});

describe("registerSseShutdown", () => {
  it("can be called by several modules of one app, adding one hook", async () => {
    const app = Fastify({ logger: false });
    let hooks = 0;
    const addHook = app.addHook.bind(app) as (...args: unknown[]) => unknown;
    (app as unknown as { addHook: typeof addHook }).addHook = (...args) => {
      if (args[0] === "preClose") hooks++;
      return addHook(...args);
    };
    registerSseShutdown(app);
    registerSseShutdown(app);
    assert.equal(hooks, 1);
    await app.close();
  });
});

describe("openSseStream on the Countersign app", () => {
  it("carries the headers the app puts on every response, and its request id", async (t) => {
    const database = await createTestDatabase("pglite");
    t.after(() => database.dispose());
    const app = await createTestApp(database.db);
    t.after(() => app.close());
    registerSseShutdown(app);
    app.get("/test-sse", { config: { surface: "any" } }, async (request, reply) => {
      const stream = openSseStream(request, reply);
      stream.send("ping", { ok: true });
      stream.close();
    });
    const host = "localhost:8787";
    const sse = await app.inject({ url: "/test-sse", headers: { host } });
    const plain = await app.inject({ url: "/healthz", headers: { host } });

    assert.equal(sse.statusCode, 200);
    assert.equal(sse.body, 'event: ping\ndata: {"ok":true}\n\n');
    assert.equal(sse.headers["content-type"], "text/event-stream; charset=utf-8");
    assert.equal(sse.headers["cache-control"], "no-store");
    assert.match(String(sse.headers["x-request-id"]), /^[0-9a-f-]{36}$/);
    assert.notEqual(sse.headers["x-request-id"], plain.headers["x-request-id"]);
    const aboutTheBody = new Set([
      "content-type",
      "content-length",
      "date",
      "keep-alive",
      "connection",
      "x-request-id",
    ]);
    for (const [name, value] of Object.entries(plain.headers)) {
      if (aboutTheBody.has(name)) continue;
      assert.deepEqual(sse.headers[name], value, name);
    }
  });
});
