import type { MetricsRegistry } from "../metrics/metrics-registry.ts";
import type { GroupCommitReport } from "./grouped-audit-transactions.ts";

/** The group commit's totals, as `/metrics` serves them. */
export interface GroupCommitTotals {
  /** Transactions that committed. */
  readonly transactions: number;
  /** Units (requests' audited writes) they carried: divided by `transactions`, the mean batch. */
  readonly units: number;
  /** Their time from connection to commit, summed: divided by `transactions`, the mean. */
  readonly seconds: number;
}

// Counters, not histograms (the registry has only counters): sums and counts, from which a
// dashboard takes means over any window, as from a Prometheus histogram's _sum and _count.
const counters = (metrics: MetricsRegistry) => ({
  transactions: metrics.counter(
    "countersign_group_commit_transactions_total",
    "Transactions of the audited-write group commit that committed; each may carry many requests.",
    [],
  ),
  units: metrics.counter(
    "countersign_group_commit_units_total",
    "Requests' audited writes carried by those transactions (divided by the transactions: the mean batch).",
    [],
  ),
  seconds: metrics.counter(
    "countersign_group_commit_seconds_total",
    "Time those transactions took, from connection to commit, summed. They run one at a time: near one " +
      "second per second, audited writes wait for them.",
    [],
  ),
});

/**
 * Counts the group commit's transactions on `/metrics` (DESIGN §4.12): its batches run one at a
 * time, so how long they take and how many requests each carries set how fast audited writes
 * (creations, decisions) can go.
 */
export function groupCommitMetrics(metrics: MetricsRegistry): (report: GroupCommitReport) => void {
  const { transactions, units, seconds } = counters(metrics);
  return (report) => {
    transactions.inc({});
    units.inc({}, report.units);
    seconds.inc({}, report.ms / 1000);
  };
}

/** The totals so far (bench/approvals.ts takes the difference over a phase). */
export function readGroupCommitTotals(metrics: MetricsRegistry): GroupCommitTotals {
  const { transactions, units, seconds } = counters(metrics);
  return { transactions: transactions.get({}), units: units.get({}), seconds: seconds.get({}) };
}
