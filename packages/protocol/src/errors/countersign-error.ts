import { ERROR_CODES, type ErrorCode, isErrorCode } from "./error-codes.ts";

/** Options for {@link CountersignError}. */
export interface CountersignErrorOptions {
  /** The lower-level error that led to this one. Always pass it when there is one. */
  cause?: unknown;
  /** A public description that replaces the registry's default message. Must be safe to show. */
  message?: string;
  /** Public, structured detail for the client (for example which fields failed validation). */
  details?: Readonly<Record<string, unknown>>;
  /** Seconds after which a retry may succeed; the server sends it as `Retry-After`. */
  retryAfter?: number;
}

/** The JSON body of every error response. */
export interface ErrorBody {
  error: {
    code: ErrorCode;
    message: string;
    request_id?: string;
    details?: Readonly<Record<string, unknown>>;
  };
}

/**
 * The one error type of Countersign. Every package throws it with a `code` from the shared
 * registry, so callers switch on `code`, never on message text.
 *
 * @example
 * ```ts
 * throw new CountersignError("nonce_replay");
 * ```
 */
export class CountersignError extends Error {
  override readonly name = "CountersignError";
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: Readonly<Record<string, unknown>> | undefined;
  readonly retryAfter: number | undefined;

  constructor(code: ErrorCode, options: CountersignErrorOptions = {}) {
    super(options.message ?? ERROR_CODES[code].message, { cause: options.cause });
    this.code = code;
    this.status = ERROR_CODES[code].status;
    this.details = options.details;
    this.retryAfter = options.retryAfter;
  }

  /** The public JSON body for this error. */
  toBody(requestId?: string): ErrorBody {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(requestId === undefined ? {} : { request_id: requestId }),
        ...(this.details === undefined ? {} : { details: this.details }),
      },
    };
  }

  /**
   * Rebuilds an error from a response body received over the wire. Unknown or malformed bodies
   * become `internal_error`, so a client never trusts a code the registry does not know.
   */
  static fromBody(body: unknown, options: { cause?: unknown; retryAfter?: number } = {}): CountersignError {
    const error = typeof body === "object" && body !== null ? (body as { error?: unknown }).error : undefined;
    const code = typeof error === "object" && error !== null ? (error as { code?: unknown }).code : undefined;
    const message = typeof error === "object" && error !== null ? (error as { message?: unknown }).message : undefined;
    if (!isErrorCode(code)) return new CountersignError("internal_error", { cause: options.cause ?? body });
    return new CountersignError(code, {
      cause: options.cause,
      ...(typeof message === "string" ? { message } : {}),
      ...(options.retryAfter === undefined ? {} : { retryAfter: options.retryAfter }),
    });
  }
}

/** Whether `value` is a {@link CountersignError}, optionally with the given code. */
export function isCountersignError(value: unknown, code?: ErrorCode): value is CountersignError {
  return value instanceof CountersignError && (code === undefined || value.code === code);
}
