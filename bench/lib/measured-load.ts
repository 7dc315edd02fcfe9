import { Worker } from "node:worker_threads";
import { type CpuSample, cpuPerRequest, sampleCpu } from "./cpu-sampler.ts";
import type { LoadMessage, LoadOptions, LoadResult } from "./keep-alive-load.ts";

/** A load run's result, and the CPU each of its measured requests cost. */
export interface MeasuredLoad {
  readonly result: LoadResult;
  /** CPU between the edges of the measured window, divided by the requests completed in it. */
  readonly cpu: ReturnType<typeof cpuPerRequest>;
}

/**
 * Runs the keep-alive load generator in a worker thread and samples this process's and
 * PostgreSQL's CPU at the edges of its measured window (and calls `onWindow` there, for other
 * figures to sample). Sampling around the whole run instead
 * would charge every request a share of the worker's start-up (copying tens of megabytes of
 * prepared requests into it) and of the warm-up, which skews the figure most for slow phases.
 */
export function measuredLoad(
  options: LoadOptions,
  hooks: { readonly onWindow?: (edge: "start" | "end") => void } = {},
): Promise<MeasuredLoad> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL("./keep-alive-load.ts", import.meta.url), { workerData: options });
    let start: CpuSample | null = null;
    let end: CpuSample | null = null;
    worker.on("message", (message: LoadMessage) => {
      if (message.type === "window") {
        if (message.edge === "start") start = sampleCpu();
        else end = sampleCpu();
        hooks.onWindow?.(message.edge);
        return;
      }
      if (start === null || end === null) {
        reject(new Error("the load generator reported no measured window"));
        return;
      }
      resolve({ result: message.result, cpu: cpuPerRequest(start, end, Math.max(1, message.result.completed)) });
    });
    worker.once("error", reject);
  });
}
