import { CountersignError, utf8 } from "@countersign/protocol";

/**
 * What to ask the person to approve (DESIGN §4.4). Everything here is shown to them.
 *
 * @example
 * ```ts
 * const input: ApprovalInput = {
 *   actionType: "deploy.production",
 *   title: "Deploy api v2.3.1",
 *   context: { commit: "a1b2c3", regions: 3 },
 *   ttlSeconds: 300,
 * };
 * ```
 */
export interface ApprovalInput {
  /** `[a-z0-9][a-z0-9._:-]{0,63}`, e.g. `deploy.production`; must be in the agent's allowlist. */
  readonly actionType: string;
  /** One line, at most 120 characters. */
  readonly title: string;
  /** Plain text, at most 2,000 characters. */
  readonly body?: string;
  /** A JSON object of at most 16 KiB, shown as a table. */
  readonly context?: Readonly<Record<string, unknown>>;
  /** A short string the person can compare with what the agent shows, at most 64 characters. */
  readonly bindingMessage?: string;
  /** 30–1,800 seconds; the agent's (or the person's) default when left out. */
  readonly ttlSeconds?: number;
  /** An https URL that receives a signed webhook when the request ends (docs/webhooks.md). */
  readonly callbackUrl?: string | URL;
}

const ACTION_TYPE = /^[a-z0-9][a-z0-9._:-]{0,63}$/;
const MAX_CONTEXT_BYTES = 16 * 1024;

/**
 * Checks an {@link ApprovalInput} against the server's rules and returns the JSON body of
 * `POST /v1/approvals`. Checking here gives a clear error before anything is signed or sent; the
 * server checks again.
 *
 * @throws CountersignError `validation_failed`, with `details.issues` like the server's.
 *
 * @example
 * ```ts
 * approvalRequestBody({ actionType: "deploy.production", title: "Deploy api v2.3.1" });
 * // { action_type: "deploy.production", title: "Deploy api v2.3.1" }
 * ```
 */
export function approvalRequestBody(input: ApprovalInput): Record<string, unknown> {
  const issues: Array<{ path: string; message: string }> = [];
  const check = (ok: boolean, path: string, message: string): void => {
    if (!ok) issues.push({ path, message });
  };
  check(
    typeof input.actionType === "string" && ACTION_TYPE.test(input.actionType),
    "/action_type",
    "must match [a-z0-9][a-z0-9._:-]{0,63}",
  );
  check(
    typeof input.title === "string" && input.title.length >= 1 && input.title.length <= 120,
    "/title",
    "must be 1 to 120 characters",
  );
  if (input.body !== undefined)
    check(typeof input.body === "string" && input.body.length <= 2000, "/body", "must be at most 2000 characters");
  if (input.context !== undefined) {
    const isObject = typeof input.context === "object" && input.context !== null && !Array.isArray(input.context);
    check(isObject, "/context", "must be a JSON object");
    if (isObject) {
      let size = Number.POSITIVE_INFINITY;
      try {
        size = utf8(JSON.stringify(input.context)).length;
      } catch {
        issues.push({ path: "/context", message: "must be JSON" });
      }
      if (Number.isFinite(size))
        check(size <= MAX_CONTEXT_BYTES, "/context", `must be at most ${MAX_CONTEXT_BYTES} bytes as JSON`);
    }
  }
  if (input.bindingMessage !== undefined) {
    const message = input.bindingMessage;
    check(
      typeof message === "string" && message.length >= 1 && message.length <= 64,
      "/binding_message",
      "must be 1 to 64 characters",
    );
  }
  if (input.ttlSeconds !== undefined) {
    const ttl = input.ttlSeconds;
    check(Number.isInteger(ttl) && ttl >= 30 && ttl <= 1800, "/ttl_seconds", "must be an integer from 30 to 1800");
  }
  if (issues.length > 0) {
    throw new CountersignError("validation_failed", {
      message: `The approval request is not valid: ${issues.map((i) => `${i.path.slice(1)} ${i.message}`).join("; ")}.`,
      details: { issues },
    });
  }
  return {
    action_type: input.actionType,
    title: input.title,
    ...(input.body === undefined ? {} : { body: input.body }),
    ...(input.context === undefined ? {} : { context: input.context }),
    ...(input.bindingMessage === undefined ? {} : { binding_message: input.bindingMessage }),
    ...(input.ttlSeconds === undefined ? {} : { ttl_seconds: input.ttlSeconds }),
    ...(input.callbackUrl === undefined ? {} : { callback_url: String(input.callbackUrl) }),
  };
}
