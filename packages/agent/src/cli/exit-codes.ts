import type { ApprovalStatus } from "../client/approval-state.ts";

/**
 * The CLI's exit codes. A script tells a timeout apart from a denial by the code alone:
 * 0 approved, 1 rejected, 2 expired, 3 canceled, 4 error (nothing was decided), and for
 * `status`, 5 while the request is still open.
 *
 * @example
 * ```ts
 * if (code === EXIT.expired) console.error("nobody approved in time");
 * ```
 */
export const EXIT = Object.freeze({
  approved: 0,
  rejected: 1,
  expired: 2,
  canceled: 3,
  error: 4,
  open: 5,
} as const);

/**
 * The exit code for a request's status.
 *
 * @example
 * ```ts
 * process.exitCode = exitCodeFor(outcome.status); // 2 for "expired"
 * ```
 */
export function exitCodeFor(status: ApprovalStatus): number {
  return status === "pending" || status === "delivered" ? EXIT.open : EXIT[status];
}
