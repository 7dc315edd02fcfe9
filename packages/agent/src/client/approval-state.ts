import {
  APPROVAL_REASONS,
  APPROVAL_STATUSES,
  type ApprovalReason,
  type ApprovalStatus,
  CountersignError,
  isTerminalStatus,
} from "@countersign/protocol";

// The states and reasons, and which are final, are the protocol package's, shared with the
// server and the app.
export { type ApprovalReason, type ApprovalStatus, isTerminalStatus };

/**
 * An approval request as its agent sees it: the server's answer to create, poll, stream and cancel.
 *
 * @example
 * ```ts
 * const state: ApprovalState = await client.get(id);
 * console.log(state.status, state.expiresAt.toISOString());
 * ```
 */
export interface ApprovalState {
  /** `apr_…`. */
  readonly id: string;
  readonly status: ApprovalStatus;
  readonly reason: ApprovalReason | null;
  readonly actionType: string;
  /** The 6-digit number to show the person; only in the answer to creation, null once decided. */
  readonly numberMatch: string | null;
  /**
   * `sha256:<hex>` of everything the person is shown (DESIGN §4.5). The server sends null for an
   * end-to-end request until the person decides (it cannot read the context); the client fills in
   * the hash it computed itself in {@link PendingApproval.approval}.
   */
  readonly displayPayloadHash: string | null;
  readonly createdAt: Date;
  readonly expiresAt: Date;
  /** Seconds left when the server answered; 0 once decided or expired. */
  readonly expiresIn: number;
  /** Seconds between plain polls; polling faster gets 429 `slow_down`. */
  readonly interval: number;
  readonly decidedAt: Date | null;
  /** The signed receipt (a compact JWS, DESIGN §4.7), once approved. */
  readonly receipt: string | null;
}

const STATUSES: ReadonlySet<string> = new Set(APPROVAL_STATUSES);
const REASONS: ReadonlySet<string> = new Set(APPROVAL_REASONS);

/**
 * Reads the server's JSON view of an approval (`AgentApprovalSchema`) into an {@link ApprovalState}.
 *
 * @throws CountersignError `internal_error` when the answer does not have the documented shape.
 *
 * @example
 * ```ts
 * const state = parseApprovalState(await response.json());
 * ```
 */
export function parseApprovalState(body: unknown): ApprovalState {
  const view = typeof body === "object" && body !== null ? (body as Record<string, unknown>) : {};
  const status = view.status;
  const reason = view.reason ?? null;
  const receipt = view.receipt ?? null;
  const number = view.number_match ?? null;
  const ok =
    typeof view.id === "string" &&
    typeof status === "string" &&
    STATUSES.has(status) &&
    (reason === null || (typeof reason === "string" && REASONS.has(reason))) &&
    typeof view.action_type === "string" &&
    (number === null || (typeof number === "string" && /^[0-9]{6}$/.test(number))) &&
    (typeof view.display_payload_hash === "string" || view.display_payload_hash === null) &&
    typeof view.expires_in === "number" &&
    typeof view.interval === "number" &&
    (receipt === null || typeof receipt === "string") &&
    // An approved request always carries its receipt; without one there is nothing to act on.
    (status !== "approved" || typeof receipt === "string");
  const createdAt = date(view.created_at);
  const expiresAt = date(view.expires_at);
  const decidedAt = view.decided_at === null || view.decided_at === undefined ? null : date(view.decided_at);
  if (!ok || createdAt === null || expiresAt === null || (view.decided_at != null && decidedAt === null)) {
    throw new CountersignError("internal_error", {
      message: "The server's answer is not an approval request.",
      cause: body,
    });
  }
  return Object.freeze({
    id: view.id as string,
    status: status as ApprovalStatus,
    reason: reason as ApprovalReason | null,
    actionType: view.action_type as string,
    numberMatch: number as string | null,
    displayPayloadHash: view.display_payload_hash as string | null,
    createdAt,
    expiresAt,
    expiresIn: view.expires_in as number,
    interval: view.interval as number,
    decidedAt,
    receipt: receipt as string | null,
  });
}

function date(value: unknown): Date | null {
  if (typeof value !== "string") return null;
  const parsed = new Date(value);
  return Number.isNaN(parsed.getTime()) ? null : parsed;
}
