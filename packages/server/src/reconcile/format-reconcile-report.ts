import type { ReconcileFinding, ReconcileReport } from "./reconcile-finding.ts";

// Findings quote ids and action types from the file, which anyone could have written: each stays
// one line, with no terminal escapes, and of a readable length (the JSON report has everything).
const MAX_FINDING_CHARS = 400;

/**
 * The human form of a report: a summary, one line per finding starting with its code (so that
 * `grep '^NO_APPROVAL '` finds them), approvals still awaiting execution, and a last line that
 * starts with `OK:` or `FAILED:`.
 */
export function formatReconcileReport(report: ReconcileReport, source: string): string[] {
  const { counts } = report;
  const window =
    report.window.since === null && report.window.until === null
      ? "all time"
      : `${report.window.since ?? "the beginning"} to ${report.window.until ?? "now"}`;
  const lines = [
    `Reconciling ${source} with the approvals of ${window} (as of ${report.as_of}).`,
    `Actions: ${counts.lines} ${plural(counts.lines, "line")} read, ${counts.actions} checked, ` +
      `${counts.outside_window} outside the window, ${counts.reconciled} reconciled.`,
    `Approvals: ${counts.approvals} approved in the window, ${counts.executed} executed, ` +
      `${counts.not_executed} not executed, ${counts.awaiting_execution} awaiting execution.`,
  ];
  for (const finding of report.findings) lines.push(formatFinding(finding));
  for (const approval of report.awaiting_execution) {
    lines.push(
      `awaiting execution: ${approval.request_id} (${approval.action_type}, ${approval.agent_id}), ` +
        `receipt valid until ${approval.receipt_expires_at}`,
    );
  }
  if (report.ok) {
    lines.push("OK: every action matches an approval, and every approval of the window was executed once.");
  } else {
    const byCode = Object.entries(counts.by_code)
      .map(([code, count]) => `${code} ${count}`)
      .join(", ");
    lines.push(`FAILED: ${counts.findings} ${plural(counts.findings, "finding")} (${byCode}).`);
  }
  return lines;
}

/** `CODE line N apr_…: message`, or `CODE apr_…: message` for an approval with no action. */
export function formatFinding(finding: ReconcileFinding): string {
  const where = [
    finding.code,
    ...(finding.line === null ? [] : [`line ${finding.line}`]),
    ...(finding.request_id === null ? [] : [finding.request_id]),
  ].join(" ");
  const line = oneLine(`${where}: ${finding.message}`);
  return line.length <= MAX_FINDING_CHARS ? line : `${line.slice(0, MAX_FINDING_CHARS)}…`;
}

function plural(count: number, word: string): string {
  return count === 1 ? word : `${word}s`;
}

function oneLine(text: string): string {
  return text.replace(/[\p{Cc}\u2028\u2029]/gu, " ");
}
