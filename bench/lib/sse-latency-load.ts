/**
 * Measures how long an approval takes to reach a person's open event stream (issue 6: "latency
 * from creation to the SSE event at 500 requests/s"). Run in a worker thread so its clock and
 * event loop are its own: it opens the person's `GET /v1/me/events` stream, sends pre-signed
 * creations at a fixed rate over keep-alive sockets (open loop: a slow server does not slow the
 * sender), and for every request takes the time from writing it to the arrival of its
 * `approval.created` event.
 */
import { connect, type Socket } from "node:net";
import { parentPort, workerData } from "node:worker_threads";

/** What the worker is started with. */
export interface SseLatencyOptions {
  readonly port: number;
  /** The raw `GET /v1/me/events` request (with the session cookie). */
  readonly streamRequest: string;
  /** Raw signed creation requests, each sent once. */
  readonly requests: readonly string[];
  readonly ratePerSecond: number;
  readonly connections: number;
  /** Sent at the same rate first and not counted, as the other phases warm up. */
  readonly warmupMs: number;
  /** Measured after the warm-up. */
  readonly durationMs: number;
}

/** What the worker posts back. */
export interface SseLatencyResult {
  /** Requests written after the warm-up. */
  readonly sent: number;
  /** Of those, how many had their event arrive. */
  readonly matched: number;
  readonly statuses: Record<string, number>;
  readonly latencyMs: { readonly p50: number; readonly p99: number; readonly max: number };
}

const HEADER_END = Buffer.from("\r\n\r\n");

async function run(options: SseLatencyOptions): Promise<SseLatencyResult> {
  const sentAt = new Map<string, number>(); // approval id → when its request was written
  const seenAt = new Map<string, number>(); // approval id → when its event arrived
  const latencies: number[] = [];
  let measuredFrom = Number.POSITIVE_INFINITY;
  const statuses: Record<string, number> = {};
  const match = (id: string) => {
    const sent = sentAt.get(id);
    const seen = seenAt.get(id);
    if (sent !== undefined && seen !== undefined) {
      // Requests written during the warm-up are matched (so their events are not left over) but
      // not counted.
      if (sent >= measuredFrom) latencies.push(seen - sent);
      sentAt.delete(id);
      seenAt.delete(id);
    }
  };

  // The person's stream: parse `data:` lines of `approval` events.
  const stream = connect(options.port, "127.0.0.1");
  let streamText = "";
  await new Promise<void>((resolve, reject) => {
    stream.once("connect", () => {
      stream.write(options.streamRequest);
      resolve();
    });
    stream.once("error", reject);
  });
  stream.setEncoding("utf8");
  let ready: () => void = () => {};
  const streamReady = new Promise<void>((resolve) => {
    ready = resolve;
  });
  stream.on("data", (chunk: string) => {
    const now = performance.now();
    streamText += chunk;
    let end = streamText.indexOf("\n\n");
    while (end !== -1) {
      const block = streamText.slice(0, end);
      streamText = streamText.slice(end + 2);
      if (block.includes("event: ready")) ready();
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (block.includes("event: approval") && data !== undefined) {
        const event = JSON.parse(data) as { type: string; approval_id: string };
        if (event.type === "approval.created") {
          seenAt.set(event.approval_id, now);
          match(event.approval_id);
        }
      }
      end = streamText.indexOf("\n\n");
    }
  });
  await streamReady;

  // The senders: each socket keeps a queue of written requests and reads ids from responses.
  const sockets = Array.from({ length: options.connections }, () => {
    const socket: Socket = connect(options.port, "127.0.0.1");
    socket.setNoDelay(true);
    const pending: number[] = [];
    let buffer: Buffer = Buffer.alloc(0);
    socket.on("data", (chunk: Buffer) => {
      buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
      for (;;) {
        const end = buffer.indexOf(HEADER_END);
        if (end === -1) return;
        const head = buffer.toString("latin1", 0, end);
        const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? "0");
        if (buffer.length < end + 4 + length) return;
        const body = buffer.toString("utf8", end + 4, end + 4 + length);
        buffer = buffer.subarray(end + 4 + length);
        const status = head.slice(9, 12);
        statuses[status] = (statuses[status] ?? 0) + 1;
        const written = pending.shift() ?? 0;
        const id = /"id":"(apr_[A-Za-z0-9_-]{22})"/.exec(body)?.[1];
        if (id !== undefined) {
          sentAt.set(id, written);
          match(id);
        }
      }
    });
    return { socket, pending };
  });
  await Promise.all(sockets.map(({ socket }) => new Promise((resolve) => socket.once("connect", resolve))));

  // Open loop: every tick writes however many requests the schedule says are due.
  let sent = 0;
  let measuredSent = 0;
  const started = performance.now();
  measuredFrom = started + options.warmupMs;
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const elapsed = performance.now() - started;
      const due = Math.min(options.requests.length, Math.floor((elapsed / 1000) * options.ratePerSecond));
      while (sent < due) {
        const target = sockets[sent % sockets.length] as { socket: Socket; pending: number[] };
        const now = performance.now();
        if (now >= measuredFrom) measuredSent++;
        target.pending.push(now);
        target.socket.write(options.requests[sent] as string);
        sent++;
      }
      if (elapsed >= options.warmupMs + options.durationMs || sent >= options.requests.length) {
        clearInterval(timer);
        resolve();
      }
    }, 2);
  });
  // Let the last events arrive.
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  for (const { socket } of sockets) socket.destroy();
  stream.destroy();
  const sorted = Float64Array.from(latencies).sort();
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  return {
    sent: measuredSent,
    matched: latencies.length,
    statuses,
    latencyMs: { p50: at(0.5), p99: at(0.99), max: sorted[sorted.length - 1] ?? 0 },
  };
}

if (parentPort !== null) {
  const port = parentPort;
  run(workerData as SseLatencyOptions).then(
    (result) => port.postMessage(result),
    (error: unknown) => {
      throw error;
    },
  );
}
