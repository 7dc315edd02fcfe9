import { CountersignError } from "@countersign/protocol";
import type { ErrorResponseCause } from "../client/decode-error-response.ts";

/** Hints for the errors a person at a terminal can fix. */
const HINTS: Record<string, string> = {
  signature_expired: "check this machine's clock: it must be within 5 minutes of the server's",
  misdirected_request: "use the API address the server gave at enrolment (the key file's server)",
  agent_credentials_rotated: "the agent was rotated: enrol a new key with the new code",
  action_not_allowed: "the agent's allowed action types are set in the app",
  cooldown_active: "a recent rejection of this action type blocks new requests for a while",
  account_key_changed:
    "the account's end-to-end key changed since this agent enrolled: check the new fingerprint in the app, rotate the agent there, and enrol again with the new code",
  e2e_context_required:
    "this agent must encrypt its context end to end: enrol it again so its key file holds the account key pin",
  e2e_not_enabled:
    "this agent was not created for end-to-end context: create one with it in the app, or remove the pin",
  display_hash_mismatch: "the approval does not cover what this agent asked for: do not act on it",
};

/**
 * One line describing an error for the terminal: its code, its public message, a hint when there
 * is one, and the server's request id to quote in a report. Never the key, never a stack.
 *
 * @example
 * ```ts
 * io.stderr.write(describeError(error)); // "countersign-agent: action_not_allowed: The agent may not …\n"
 * ```
 */
export function describeError(error: unknown): string {
  if (!(error instanceof CountersignError)) {
    return `countersign-agent: ${error instanceof Error ? error.message : String(error)}\n`;
  }
  const cause = error.cause as Partial<ErrorResponseCause> | undefined;
  const requestId = typeof cause?.requestId === "string" ? ` (request id ${cause.requestId})` : "";
  const hint = HINTS[error.code] ? `\n  hint: ${HINTS[error.code]}` : "";
  return `countersign-agent: ${error.code}: ${error.message}${requestId}${hint}\n`;
}

/**
 * A usage error: bad or missing arguments. Exits 4 like every other error.
 *
 * @example
 * ```ts
 * throw usageError("--action is required");
 * ```
 */
export function usageError(message: string): CountersignError {
  return new CountersignError("validation_failed", { message: `${message}. See countersign-agent --help.` });
}
