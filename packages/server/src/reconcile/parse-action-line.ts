import type { ExecutedAction } from "./executed-action.ts";
import { parseInstant } from "./parse-instant.ts";

/** A line longer than this is not parsed (a receipt is under 1 KiB). */
export const MAX_LINE_CHARS = 1_048_576;

const DISPLAY_HASH = /^sha256:[0-9a-f]{64}$/;

/** A line that is not an action: why, and its start if it is not JSON. */
export interface BadLine {
  readonly reason: string;
  readonly record?: Readonly<Record<string, unknown>>;
  readonly text?: string;
}

/**
 * Validates one line of the actions file: a JSON object with `action_type` (a non-empty string),
 * `executed_at` (RFC 3339 with a time zone) and optionally `receipt`, `request_id` (strings or
 * null) and `display_payload_hash` (`sha256:<64 hex>`). Other fields are kept, unread.
 *
 * A line that names neither a receipt nor a request is still an action (an action that claims no
 * approval is exactly what reconciliation looks for); the checks report it.
 */
export function parseActionLine(text: string, line: number): ExecutedAction | BadLine {
  if (text.length > MAX_LINE_CHARS) return { reason: `longer than ${MAX_LINE_CHARS} characters`, text: start(text) };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { reason: "not JSON", text: start(text) };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { reason: "not a JSON object", text: start(text) };
  }
  const record = value as Record<string, unknown>;
  const bad = (reason: string): BadLine => ({ reason, record });

  const { action_type: actionType, executed_at: executedAtText } = record;
  if (typeof actionType !== "string" || actionType === "") return bad("action_type must be a non-empty string");
  if (typeof executedAtText !== "string") return bad("executed_at must be a string");
  const executedAt = parseInstant(executedAtText);
  if (executedAt === undefined) {
    return bad("executed_at must be an RFC 3339 date-time with a time zone, e.g. 2026-11-21T12:03:04Z");
  }
  const receipt = optionalString(record.receipt);
  if (receipt === false) return bad("receipt must be a string");
  const requestId = optionalString(record.request_id);
  if (requestId === false) return bad("request_id must be a string");
  const displayPayloadHash = optionalString(record.display_payload_hash);
  if (displayPayloadHash === false || (displayPayloadHash !== undefined && !DISPLAY_HASH.test(displayPayloadHash))) {
    return bad("display_payload_hash must be sha256: and 64 lowercase hex digits");
  }
  return { line, receipt, requestId, actionType, executedAt, displayPayloadHash, record };
}

/** Whether a parse result is a bad line. */
export function isBadLine(result: ExecutedAction | BadLine): result is BadLine {
  return "reason" in result;
}

// Absent, null and "" all mean "not given"; anything else but a string is an error (false).
function optionalString(value: unknown): string | undefined | false {
  if (value === undefined || value === null || value === "") return undefined;
  return typeof value === "string" ? value : false;
}

function start(text: string): string {
  return text.length <= 200 ? text : `${text.slice(0, 200)}…`;
}
