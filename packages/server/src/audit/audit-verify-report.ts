/** What `audit verify` checks, and how it says what it found. */

/** A kind of problem `audit verify` can find. */
export type AuditProblemKind =
  /** Entries missing: a deleted row, or a removed prefix without a purge anchor. */
  | "gap"
  /** An entry whose stored hash is not SHA-256(previous hash ‖ seq ‖ entry). */
  | "hash"
  /** An entry that is not a version-1 entry. */
  | "entry"
  /** The chain head disagrees with the last entry. */
  | "head"
  /** A purge anchor that disagrees with the Merkle tree. */
  | "anchor"
  /** A checkpoint whose signature, text or root does not hold. */
  | "checkpoint"
  /** Two checkpoints that are not consistent, or a stored tree that does not reproduce them. */
  | "consistency"
  /** A write-once or chain trigger disabled or missing, or the query columns' constraint dropped. */
  | "schema";

/** One problem, naming the entry (seq) or checkpoint (tree size) it concerns. */
export interface AuditProblem {
  readonly kind: AuditProblemKind;
  readonly seq?: number;
  readonly checkpointSize?: number;
  readonly message: string;
}

/** The outcome of `verifyAuditLog`. */
export interface AuditVerifyReport {
  readonly ok: boolean;
  /** The lowest seq named by any problem: the first bad entry. Null when none is named. */
  readonly firstBadSeq: number | null;
  /** Where verification started: 0, or the anchor of the latest purge. */
  readonly startSeq: number;
  readonly anchor: { readonly seq: number; readonly purgedBefore: Date } | null;
  readonly entriesVerified: number;
  readonly lastSeq: number | null;
  /** The chain head's next sequence number: how many entries were ever appended. */
  readonly headNextSeq: number;
  readonly checkpoints: number;
  readonly latestCheckpointSize: number | null;
  /** The first problems found, in the order found (at most {@link MAX_REPORTED_PROBLEMS}). */
  readonly problems: readonly AuditProblem[];
  /** Problems found beyond those listed. */
  readonly omittedProblems: number;
  readonly durationMs: number;
}

/** More than this many problems are counted, not listed. */
export const MAX_REPORTED_PROBLEMS = 100;

/** Collects problems and keeps track of the first bad entry. */
export class ProblemLog {
  readonly problems: AuditProblem[] = [];
  omitted = 0;
  firstBadSeq: number | null = null;

  add(problem: AuditProblem): void {
    if (problem.seq !== undefined && (this.firstBadSeq === null || problem.seq < this.firstBadSeq)) {
      this.firstBadSeq = problem.seq;
    }
    if (this.problems.length < MAX_REPORTED_PROBLEMS) this.problems.push(problem);
    else this.omitted += 1;
  }

  get count(): number {
    return this.problems.length + this.omitted;
  }
}

/** The human-readable report `countersign audit verify` prints, one line per element. */
export function formatAuditVerifyReport(report: AuditVerifyReport): string[] {
  const lines: string[] = [];
  const range =
    report.lastSeq === null
      ? "no entries"
      : `entries ${report.startSeq} … ${report.lastSeq} (${report.entriesVerified} verified)`;
  const from =
    report.anchor === null
      ? "from the genesis hash"
      : `from the purge anchor at seq ${report.anchor.seq} (entries before ${report.anchor.purgedBefore.toISOString()} were purged)`;
  lines.push(`Audit log: ${range}, ${from}; the chain head counts ${report.headNextSeq} entries appended.`);
  lines.push(
    report.checkpoints === 0
      ? "Checkpoints: none signed yet."
      : `Checkpoints: ${report.checkpoints} signed, the latest for ${report.latestCheckpointSize} entries.`,
  );
  if (report.ok) {
    lines.push(
      "OK: every hash links, nothing is missing, every checkpoint signature verifies, consecutive checkpoints are consistent and the entries reproduce every checkpoint they cover.",
    );
  } else {
    const count = report.problems.length + report.omittedProblems;
    const first = report.firstBadSeq === null ? "" : ` First bad entry: seq ${report.firstBadSeq}.`;
    lines.push(`FAILED: ${count} problem${count === 1 ? "" : "s"}.${first}`);
    for (const problem of report.problems) lines.push(`  - [${problem.kind}] ${problem.message}`);
    if (report.omittedProblems > 0) lines.push(`  … and ${report.omittedProblems} more.`);
  }
  lines.push(`(${(report.durationMs / 1000).toFixed(2)} s)`);
  return lines;
}
