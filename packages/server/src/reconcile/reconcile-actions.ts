import type { Queryable } from "../db/database.ts";
import { ACTION_CHECKS } from "./action-checks.ts";
import { approvedInWindow, findApprovalsByIds, type ReconcileApproval, type TimeWindow } from "./approval-lookup.ts";
import type { ExecutedAction } from "./executed-action.ts";
import { identifyApproval } from "./identify-approval.ts";
import { isBadLine, parseActionLine } from "./parse-action-line.ts";
import { type ReceiptVerifier, storedReceiptTimes } from "./receipt-verifier.ts";
import {
  FINDING_CODES,
  type FindingCode,
  type ReconcileApprovalSummary,
  type ReconcileFinding,
  type ReconcileReport,
} from "./reconcile-finding.ts";

/** Inputs of {@link reconcileActions}. */
export interface ReconcileOptions {
  readonly db: Queryable;
  /** The actions file, one line at a time (without line terminators). */
  readonly lines: AsyncIterable<string>;
  readonly verifier: ReceiptVerifier;
  /** Actions by `executed_at`, approvals by decision time; `until` is exclusive. */
  readonly window: TimeWindow;
  /** Approvals whose receipt is still valid at this instant (ms) are awaiting execution, not findings. */
  readonly asOf: number;
  /** Action lines checked per database query (default 500). */
  readonly batchSize?: number;
}

/**
 * Reconciles executed actions with approvals (DESIGN §2 T-6): every action must stand for an
 * approved request — its own receipt, valid, for that action and display, executed once while
 * the receipt was valid — and every approval of the window must have been executed.
 *
 * The lines are streamed: only a batch of actions and the set of executed request ids are held.
 * Each batch costs one query for the requests it names; the approvals of the window are read in
 * pages afterwards.
 */
export async function reconcileActions(options: ReconcileOptions): Promise<ReconcileReport> {
  const { db, verifier, window } = options;
  const batchSize = options.batchSize ?? 500;
  const findings: ReconcileFinding[] = [];
  // Request id → the line that executed it first.
  const executed = new Map<string, number>();
  let lines = 0;
  let actions = 0;
  let outsideWindow = 0;
  let reconciled = 0;
  let batch: ExecutedAction[] = [];

  const checkBatch = async (): Promise<void> => {
    const receiptChecks = await Promise.all(
      batch.map((action) => (action.receipt === undefined ? undefined : verifier.verify(action.receipt))),
    );
    const ids = batch.flatMap((action, i) => {
      const check = receiptChecks[i];
      return [check?.ok ? check.claims.jti : undefined, action.requestId].filter((id) => id !== undefined);
    });
    const approvals = await findApprovalsByIds(db, ids);
    for (const [i, action] of batch.entries()) {
      const identified = identifyApproval(action, receiptChecks[i], approvals);
      if ("finding" in identified) {
        findings.push({
          ...identified.finding,
          line: action.line,
          request_id: identified.requestId,
          action: action.record,
        });
        continue;
      }
      const { approval, claims } = identified;
      const lifetime = claims ?? (approval.receipt === null ? undefined : storedReceiptTimes(approval.receipt));
      const matched = { action, approval, claims, lifetime, firstExecutionLine: executed.get(approval.id) };
      if (!executed.has(approval.id)) executed.set(approval.id, action.line);
      let clean = true;
      for (const check of ACTION_CHECKS) {
        const result = check(matched);
        if (result === undefined) continue;
        clean = false;
        findings.push({ ...result, line: action.line, request_id: approval.id, action: action.record });
      }
      if (clean) reconciled += 1;
    }
    batch = [];
  };

  for await (const text of options.lines) {
    lines += 1;
    if (text.trim() === "") continue;
    const parsed = parseActionLine(text, lines);
    if (isBadLine(parsed)) {
      findings.push({
        code: "BAD_LINE",
        line: lines,
        request_id: null,
        message: parsed.reason,
        ...(parsed.record === undefined ? {} : { action: parsed.record }),
        ...(parsed.text === undefined ? {} : { text: parsed.text }),
      });
      continue;
    }
    if (!inWindow(parsed.executedAt, window)) {
      outsideWindow += 1;
      continue;
    }
    actions += 1;
    batch.push(parsed);
    if (batch.length >= batchSize) await checkBatch();
  }
  if (batch.length > 0) await checkBatch();

  // Approvals of the window with no action line.
  let approvalsInWindow = 0;
  let executedInWindow = 0;
  const awaiting: ReconcileApprovalSummary[] = [];
  const notExecuted: ReconcileFinding[] = [];
  for await (const approval of approvedInWindow(db, window)) {
    approvalsInWindow += 1;
    if (executed.has(approval.id)) {
      executedInWindow += 1;
      continue;
    }
    const summary = summarize(approval);
    const expires = summary.receipt_expires_at === null ? undefined : Date.parse(summary.receipt_expires_at);
    if (expires !== undefined && expires > options.asOf) {
      awaiting.push(summary);
      continue;
    }
    notExecuted.push({
      code: "NOT_EXECUTED",
      line: null,
      request_id: approval.id,
      message:
        `${approval.action_type} approved at ${summary.decided_at} for ${approval.agent_id}; ` +
        (summary.receipt_expires_at === null
          ? "no action line names it"
          : `the receipt expired at ${summary.receipt_expires_at} with no action line naming it`),
      approval: summary,
    });
  }

  // Line findings in line order (bad lines were found before their batch was checked), then approvals.
  findings.sort((a, b) => (a.line as number) - (b.line as number));
  findings.push(...notExecuted);
  const byCode: Partial<Record<FindingCode, number>> = {};
  for (const code of FINDING_CODES) {
    const count = findings.filter((finding) => finding.code === code).length;
    if (count > 0) byCode[code] = count;
  }

  return {
    ok: findings.length === 0,
    as_of: new Date(options.asOf).toISOString(),
    window: {
      since: window.since === undefined ? null : new Date(window.since).toISOString(),
      until: window.until === undefined ? null : new Date(window.until).toISOString(),
    },
    counts: {
      lines,
      actions,
      outside_window: outsideWindow,
      reconciled,
      approvals: approvalsInWindow,
      executed: executedInWindow,
      not_executed: notExecuted.length,
      awaiting_execution: awaiting.length,
      findings: findings.length,
      by_code: byCode,
    },
    findings,
    awaiting_execution: awaiting,
  };
}

function inWindow(at: number, window: TimeWindow): boolean {
  return (window.since === undefined || at >= window.since) && (window.until === undefined || at < window.until);
}

function summarize(approval: ReconcileApproval): ReconcileApprovalSummary {
  const times = approval.receipt === null ? undefined : storedReceiptTimes(approval.receipt);
  return {
    request_id: approval.id,
    action_type: approval.action_type,
    agent_id: approval.agent_id,
    user_id: approval.user_id,
    decided_at: approval.decided_at?.toISOString() ?? "",
    receipt_expires_at: times === undefined ? null : new Date(times.exp * 1000).toISOString(),
  };
}
