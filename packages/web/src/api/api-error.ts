import { isCountersignError, isErrorCode } from "@countersign/protocol";
import { ERROR_MESSAGES } from "../i18n/error-messages.ts";
import { lang, t } from "../i18n/i18n.ts";

/** A failed API call: the server's coded error, or `network` when no answer came. */
export class ApiError extends Error {
  readonly code: string;
  readonly status: number;
  readonly requestId: string | null;
  readonly details: unknown;

  constructor(code: string, status: number, message: string, requestId: string | null = null, details?: unknown) {
    super(message);
    this.name = "ApiError";
    this.code = code;
    this.status = status;
    this.requestId = requestId;
    this.details = details;
  }
}

/** What to tell the person about `error`, in their language. */
export function describeError(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.code === "network") return t("error.network");
    const known = isErrorCode(error.code) ? ERROR_MESSAGES[error.code] : undefined;
    if (known !== undefined) return known[lang.value];
    return error.message || t("error.unknown", { code: error.code });
  }
  // Coded errors raised in the app itself (a wrong recovery secret, a failed pairing, …).
  if (isCountersignError(error)) {
    const known = ERROR_MESSAGES[error.code];
    if (known !== undefined) return known[lang.value];
  }
  if (error instanceof DOMException) {
    if (error.name === "NotAllowedError" || error.name === "AbortError") return t("webauthn.cancelled");
    if (error.name === "NotSupportedError") return t("webauthn.unsupported");
    return t("webauthn.failed", { detail: error.message });
  }
  return t("error.unknown", { code: error instanceof Error ? error.message : String(error) });
}
