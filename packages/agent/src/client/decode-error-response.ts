import { CountersignError, type ErrorCode, isErrorCode } from "@countersign/protocol";

/**
 * What {@link decodeErrorResponse} keeps of the HTTP exchange, as the error's `cause`.
 *
 * @example
 * ```ts
 * if (isCountersignError(error)) console.error(error.code, (error.cause as ErrorResponseCause | undefined)?.requestId);
 * ```
 */
export interface ErrorResponseCause {
  /** The HTTP status the server answered with. */
  readonly status: number;
  /** The server's request id, to quote when reporting a problem. */
  readonly requestId: string | undefined;
}

/**
 * Turns an error response into a {@link CountersignError} with the server's code, message,
 * details and `Retry-After`. An answer without a Countersign error body (a proxy's 502 page,
 * say) gets a code from its status, so callers can always switch on `code`.
 *
 * @example
 * ```ts
 * if (!response.ok) throw await decodeErrorResponse(response);
 * ```
 */
export async function decodeErrorResponse(response: Response): Promise<CountersignError> {
  const retryAfter = parseRetryAfter(response.headers.get("retry-after"));
  let body: unknown;
  try {
    body = await response.json();
  } catch {
    body = undefined;
  }
  const error = typeof body === "object" && body !== null ? (body as { error?: unknown }).error : undefined;
  const fields = typeof error === "object" && error !== null ? (error as Record<string, unknown>) : {};
  const requestId = typeof fields.request_id === "string" ? fields.request_id : undefined;
  const cause: ErrorResponseCause = { status: response.status, requestId };
  const options = {
    cause,
    ...(retryAfter === undefined ? {} : { retryAfter }),
  };
  if (isErrorCode(fields.code)) {
    return new CountersignError(fields.code, {
      ...options,
      ...(typeof fields.message === "string" ? { message: fields.message } : {}),
      ...(typeof fields.details === "object" && fields.details !== null
        ? { details: fields.details as Record<string, unknown> }
        : {}),
    });
  }
  return new CountersignError(codeForStatus(response.status), {
    ...options,
    message: `The server answered HTTP ${response.status} without a Countersign error.`,
  });
}

function codeForStatus(status: number): ErrorCode {
  if (status === 502 || status === 503 || status === 504) return "service_unavailable";
  if (status === 429) return "rate_limited";
  if (status === 404) return "not_found";
  if (status === 421) return "misdirected_request";
  if (status >= 400 && status < 500) return "invalid_request";
  return "internal_error";
}

/** `Retry-After` in seconds (RFC 9110 §10.2.3: delay-seconds or an HTTP date), or undefined. */
function parseRetryAfter(value: string | null): number | undefined {
  if (value === null) return undefined;
  if (/^\d{1,9}$/.test(value.trim())) return Number(value.trim());
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - Date.now()) / 1000));
}
