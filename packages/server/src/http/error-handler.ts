import { CountersignError, type ErrorCode } from "@countersign/protocol";
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";

/** Fastify's own errors that are the client's fault, mapped to registry codes. */
const FASTIFY_CODES: Readonly<Record<string, ErrorCode>> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: "unsupported_media_type",
  FST_ERR_CTP_BODY_TOO_LARGE: "payload_too_large",
  FST_ERR_CTP_EMPTY_JSON_BODY: "invalid_json",
  FST_ERR_CTP_INVALID_JSON_BODY: "invalid_json",
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: "invalid_request",
  FST_ERR_CTP_INVALID_TYPE: "unsupported_media_type",
  FST_ERR_BAD_URL: "invalid_request",
  FST_ERR_ASYNC_CONSTRAINT: "invalid_request",
};

/**
 * Turns every failure into a coded error body with the request id (node-oidc-provider's
 * `err_out`). Public descriptions come from the registry; internal detail goes to the log only,
 * and anything unexpected becomes a detail-free 500 `internal_error`.
 */
export function registerErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | CountersignError | Error, request, reply) => {
    const coded = toCountersignError(error);
    if (coded.code === "internal_error") {
      request.log.error({ err: error }, "unhandled error");
    } else if (coded.status >= 500) {
      request.log.warn({ err: error, code: coded.code }, "request failed");
    } else {
      request.log.info({ code: coded.code, cause: (error as Error).message }, "request refused");
    }
    return sendError(request, reply, coded);
  });

  app.setNotFoundHandler((request, reply) => sendError(request, reply, new CountersignError("not_found")));
}

function sendError(request: FastifyRequest, reply: FastifyReply, error: CountersignError) {
  if (error.retryAfter !== undefined) reply.header("retry-after", String(Math.max(1, Math.ceil(error.retryAfter))));
  return reply.code(error.status).type("application/json; charset=utf-8").send(error.toBody(request.id));
}

function toCountersignError(error: unknown): CountersignError {
  if (error instanceof CountersignError) return error;
  const fastifyError = error as Partial<FastifyError>;
  if (fastifyError.validation) {
    return new CountersignError("validation_failed", {
      cause: error,
      details: {
        in: fastifyError.validationContext ?? "body",
        issues: fastifyError.validation.map((issue) => ({
          path: issue.instancePath || "/",
          message: issue.message ?? "is invalid",
        })),
      },
    });
  }
  const mapped = fastifyError.code === undefined ? undefined : FASTIFY_CODES[fastifyError.code];
  if (mapped) return new CountersignError(mapped, { cause: error });
  const status = fastifyError.statusCode;
  if (status === 404) return new CountersignError("not_found", { cause: error });
  if (status === 405) return new CountersignError("method_not_allowed", { cause: error });
  if (status === 413) return new CountersignError("payload_too_large", { cause: error });
  if (status === 415) return new CountersignError("unsupported_media_type", { cause: error });
  if (status === 503) return new CountersignError("service_unavailable", { cause: error });
  if (status !== undefined && status >= 400 && status < 500)
    return new CountersignError("invalid_request", { cause: error });
  return new CountersignError("internal_error", { cause: error });
}
