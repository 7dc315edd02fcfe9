import { readdirSync, readFileSync } from "node:fs";

/**
 * CPU time used so far, in microseconds: this process (every thread), its main thread, and the
 * local PostgreSQL.
 */
export interface CpuSample {
  readonly process: number;
  /**
   * The thread that runs the servers' JavaScript: if it were busy all the time, it would bound
   * the rate, whatever the cores had left.
   */
  readonly mainThread: number;
  /** The machine's CPU time so far, all cores, in ticks: total, and idle (with I/O wait); null off Linux. */
  readonly machine: { readonly total: number; readonly idle: number } | null;
  /**
   * Per process id, every process named `postgres` on this machine (backends, WAL writer,
   * checkpointer); null off Linux.
   */
  readonly postgres: ReadonlyMap<string, number> | null;
}

const TICK_US = 10_000; // USER_HZ is 100 on Linux: /proc reports CPU time in 10 ms ticks.

/**
 * Reads the CPU time of this process and of the local PostgreSQL server, so a benchmark can print
 * where each request's CPU goes. On a 2-core machine shared by the server, its thread pool, the
 * load generator and PostgreSQL, throughput follows total CPU per request, not main-thread time.
 * The PostgreSQL figure counts every `postgres` process, so other databases' load adds to it: run
 * it on a quiet machine.
 */
export function sampleCpu(): CpuSample {
  const usage = process.cpuUsage();
  const main = process.threadCpuUsage();
  return {
    process: usage.user + usage.system,
    mainThread: main.user + main.system,
    postgres: postgresCpu(),
    machine: machineCpu(),
  };
}

function machineCpu(): CpuSample["machine"] {
  try {
    // proc(5): "cpu  user nice system idle iowait irq softirq steal …", summed over all cores.
    const line = readFileSync("/proc/stat", "latin1").split("\n", 1)[0] ?? "";
    const ticks = line.trim().split(/\s+/).slice(1, 9).map(Number);
    return { total: ticks.reduce((a, b) => a + b, 0), idle: (ticks[3] ?? 0) + (ticks[4] ?? 0) };
  } catch {
    return null;
  }
}

function postgresCpu(): Map<string, number> | null {
  let pids: string[];
  try {
    pids = readdirSync("/proc").filter((name) => /^\d+$/.test(name));
  } catch {
    return null;
  }
  const used = new Map<string, number>();
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
      const close = stat.lastIndexOf(")");
      if (stat.slice(stat.indexOf("(") + 1, close) !== "postgres") continue;
      // Fields after the command: state is field 3, utime 14 and stime 15 (proc(5)).
      const fields = stat.slice(close + 2).split(" ");
      used.set(pid, (Number(fields[11]) + Number(fields[12])) * TICK_US);
    } catch {
      // The process ended between listing and reading: its time is gone either way.
    }
  }
  return used;
}

/** CPU microseconds per request between two samples, for `requests` requests. */
export function cpuPerRequest(before: CpuSample, after: CpuSample, requests: number) {
  return {
    process: (after.process - before.process) / requests,
    mainThread: (after.mainThread - before.mainThread) / requests,
    /**
     * The share of the machine's CPU time left idle over the window. A throughput figure means
     * most when this is near zero: otherwise the load, not the server, set the rate.
     */
    machineIdle:
      before.machine === null || after.machine === null || after.machine.total === before.machine.total
        ? null
        : (after.machine.idle - before.machine.idle) / (after.machine.total - before.machine.total),
    postgres:
      before.postgres === null || after.postgres === null
        ? null
        : postgresDelta(before.postgres, after.postgres) / requests,
  };
}

/**
 * What the PostgreSQL processes alive at the end used between the samples; one started meanwhile
 * counts from zero. One that exited meanwhile (a closed connection's backend, an autovacuum
 * worker) took its time with it: it is left out rather than subtracted, which made the figure
 * negative.
 */
function postgresDelta(before: ReadonlyMap<string, number>, after: ReadonlyMap<string, number>): number {
  let used = 0;
  for (const [pid, time] of after) used += time - (before.get(pid) ?? 0);
  return used;
}
