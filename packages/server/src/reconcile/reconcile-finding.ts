/** What `countersign audit reconcile` reports (DESIGN §2 T-6, docs/reconciliation.md). */

/**
 * The kinds of finding, as printed at the start of each finding line so that they can be grepped.
 * Any finding makes the reconciliation fail (exit 1).
 */
export const FINDING_CODES = [
  /** The line is not a JSON object with a valid `action_type` and `executed_at`. */
  "BAD_LINE",
  /** The action names no approval, an unknown request, or a request that was not approved. */
  "NO_APPROVAL",
  /** The receipt does not verify with the server's keys (signature, `typ`, `iss`, claims). */
  "INVALID_RECEIPT",
  /** A valid receipt whose claims disagree with the stored request, or with the line's `request_id`. */
  "RECEIPT_MISMATCH",
  /** The executed action type is not the approved one. */
  "ACTION_MISMATCH",
  /** The executed display payload hash is not the approved one. */
  "HASH_MISMATCH",
  /** Executed at or after the receipt's `exp`. */
  "EXPIRED_RECEIPT",
  /** Executed before the receipt's `iat`: before the person approved. */
  "EXECUTED_BEFORE_APPROVAL",
  /** A second execution of one approval (a receipt is good for one execution). */
  "DUPLICATE_EXECUTION",
  /** An approval in the window whose receipt has expired with no execution recorded. */
  "NOT_EXECUTED",
] as const;

/** One of {@link FINDING_CODES}. */
export type FindingCode = (typeof FINDING_CODES)[number];

/** The approval a `NOT_EXECUTED` finding (or an approval awaiting execution) is about. */
export interface ReconcileApprovalSummary {
  readonly request_id: string;
  readonly action_type: string;
  readonly agent_id: string;
  readonly user_id: string;
  /** ISO-8601. */
  readonly decided_at: string;
  /** When the receipt stops authorizing the action, ISO-8601; null if the stored receipt is unreadable. */
  readonly receipt_expires_at: string | null;
}

/** One thing that does not reconcile. */
export interface ReconcileFinding {
  readonly code: FindingCode;
  /** The 1-based line of the actions file, or null for an approval with no action. */
  readonly line: number | null;
  /** The approval request concerned, when one is known. */
  readonly request_id: string | null;
  readonly message: string;
  /** The action line as given, every field kept (JSON lines only). */
  readonly action?: Readonly<Record<string, unknown>>;
  /** The start of a line that is not JSON, at most 200 characters. */
  readonly text?: string;
  /** The approval that was never executed (`NOT_EXECUTED`). */
  readonly approval?: ReconcileApprovalSummary;
}

/** The outcome of a reconciliation, as `--json` prints it. */
export interface ReconcileReport {
  /** True when there is no finding. */
  readonly ok: boolean;
  /** Approvals whose receipt was still valid at this instant are awaiting execution, not findings. ISO-8601. */
  readonly as_of: string;
  /** The window, ISO-8601; null for an open end. Actions by `executed_at`, approvals by decision time. */
  readonly window: { readonly since: string | null; readonly until: string | null };
  readonly counts: {
    /** Lines read, blank ones included. */
    readonly lines: number;
    /** Action lines inside the window that were checked. */
    readonly actions: number;
    /** Valid action lines whose `executed_at` is outside the window (not checked). */
    readonly outside_window: number;
    /** Checked action lines with no finding. */
    readonly reconciled: number;
    /** Approvals decided in the window. */
    readonly approvals: number;
    /** Of those, how many have at least one action line. */
    readonly executed: number;
    readonly not_executed: number;
    readonly awaiting_execution: number;
    readonly findings: number;
    /** Findings per code, codes with none left out. */
    readonly by_code: Readonly<Partial<Record<FindingCode, number>>>;
  };
  /** In line order; approvals with no action last. */
  readonly findings: readonly ReconcileFinding[];
  /** Approvals in the window not executed yet whose receipt was still valid `as_of`: not findings. */
  readonly awaiting_execution: readonly ReconcileApprovalSummary[];
}
