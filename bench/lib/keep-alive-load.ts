/**
 * A minimal HTTP/1.1 keep-alive load generator for the benchmarks, run in a worker thread so it
 * has an event loop of its own. It writes prepared request bytes (nothing is built or signed
 * while measuring) over `connections` sockets, one request in flight per socket, and counts the
 * responses by status. Each prepared request is sent at most once, so requests carrying
 * single-use nonces are never replayed; the run ends early when they run out — unless `cycle`
 * says the requests may be sent again (they carry nothing single-use).
 */
import { connect, type Socket } from "node:net";
import { parentPort, workerData } from "node:worker_threads";

/** What the worker is started with. */
export interface LoadOptions {
  readonly port: number;
  readonly requests: readonly string[];
  readonly connections: number;
  readonly warmupMs: number;
  readonly durationMs: number;
  /** Start over from the first request when all have been sent (default: stop). */
  readonly cycle?: boolean;
}

/**
 * What the worker posts: the edges of the measured window as they happen (so the caller can
 * sample CPU over exactly that window, without the worker's start-up or the warm-up), then the
 * result.
 */
export type LoadMessage =
  | { readonly type: "window"; readonly edge: "start" | "end" }
  | { readonly type: "result"; readonly result: LoadResult };

/** What the worker reports at the end. */
export interface LoadResult {
  readonly requestsPerSecond: number;
  readonly completed: number;
  readonly statuses: Record<string, number>;
  readonly exhausted: boolean;
  /** Response times of the measured requests (send to full response), in milliseconds. */
  readonly latencyMs: { readonly p50: number; readonly p99: number; readonly max: number };
}

const HEADER_END = Buffer.from("\r\n\r\n");

async function run(options: LoadOptions): Promise<LoadResult> {
  const requests = options.requests.map((text) => Buffer.from(text, "latin1"));
  let next = 0;
  let measuring = false;
  let stopping = false;
  let completed = 0;
  const statuses: Record<string, number> = {};
  const latencies: number[] = [];

  const startSocket = () =>
    new Promise<void>((resolve, reject) => {
      const socket: Socket = connect(options.port, "127.0.0.1");
      socket.setNoDelay(true);
      let buffer: Buffer = Buffer.alloc(0);
      let sentAt = 0;
      const send = () => {
        if (options.cycle === true && next >= requests.length) next = 0;
        if (stopping || next >= requests.length) {
          socket.end();
          return;
        }
        sentAt = performance.now();
        socket.write(requests[next++] as Buffer);
      };
      socket.on("connect", send);
      socket.on("data", (chunk: Buffer) => {
        buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
        for (;;) {
          const end = buffer.indexOf(HEADER_END);
          if (end === -1) return;
          const head = buffer.toString("latin1", 0, end);
          const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? "0");
          const total = end + 4 + length;
          if (buffer.length < total) return;
          const status = head.slice(9, 12);
          buffer = buffer.subarray(total);
          if (measuring) {
            latencies.push(performance.now() - sentAt);
            completed++;
            statuses[status] = (statuses[status] ?? 0) + 1;
          }
          send();
        }
      });
      socket.on("close", () => resolve());
      socket.on("error", reject);
    });

  const sockets = Array.from({ length: options.connections }, startSocket);
  await new Promise((resolve) => setTimeout(resolve, options.warmupMs));
  measuring = true;
  post({ type: "window", edge: "start" });
  const started = performance.now();
  await new Promise((resolve) => setTimeout(resolve, options.durationMs));
  measuring = false;
  post({ type: "window", edge: "end" });
  const seconds = (performance.now() - started) / 1000;
  stopping = true;
  await Promise.all(sockets);
  return {
    requestsPerSecond: completed / seconds,
    completed,
    statuses,
    exhausted: options.cycle !== true && next >= requests.length,
    latencyMs: percentiles(latencies),
  };
}

function percentiles(values: number[]): LoadResult["latencyMs"] {
  const sorted = Float64Array.from(values).sort();
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  return { p50: at(0.5), p99: at(0.99), max: sorted[sorted.length - 1] ?? 0 };
}

function post(message: LoadMessage): void {
  parentPort?.postMessage(message);
}

if (parentPort !== null) {
  run(workerData as LoadOptions).then(
    (result) => post({ type: "result", result }),
    (error: unknown) => {
      throw error;
    },
  );
}
