import type { ApprovalInput } from "../client/approval-input.ts";
import { usageError } from "./cli-error.ts";
import type { CliIo } from "./cli-io.ts";
import { readJsonArgument } from "./read-json-argument.ts";

/**
 * The `parseArgs` options that describe an approval request (`request` and `exec`).
 *
 * @example
 * ```ts
 * const { values } = parseArgs({ args, options: APPROVAL_OPTIONS, strict: true });
 * ```
 */
export const APPROVAL_OPTIONS = {
  action: { type: "string" },
  title: { type: "string" },
  body: { type: "string" },
  context: { type: "string" },
  ttl: { type: "string" },
  "binding-message": { type: "string" },
  "callback-url": { type: "string" },
  "key-file": { type: "string" },
  server: { type: "string" },
  json: { type: "boolean" },
} as const;

/**
 * The values of {@link APPROVAL_OPTIONS}.
 *
 * @example
 * ```ts
 * const values: ApprovalArguments = { action: "deploy.production", title: "Deploy", ttl: "300" };
 * ```
 */
export interface ApprovalArguments {
  readonly action?: string | undefined;
  readonly title?: string | undefined;
  readonly body?: string | undefined;
  readonly context?: string | undefined;
  readonly ttl?: string | undefined;
  readonly "binding-message"?: string | undefined;
  readonly "callback-url"?: string | undefined;
}

/**
 * Turns the command line into an {@link ApprovalInput}; the SDK checks the values themselves.
 *
 * @throws CountersignError `validation_failed` for a missing `--action`/`--title` or a bad `--ttl`/`--context`.
 *
 * @example
 * ```ts
 * const input = await approvalInputFrom({ action: "deploy.production", title: "Deploy", ttl: "120" }, io);
 * ```
 */
export async function approvalInputFrom(
  values: ApprovalArguments,
  io: CliIo,
  extraContext: Record<string, unknown> = {},
): Promise<ApprovalInput> {
  if (values.action === undefined) throw usageError("--action TYPE is required");
  if (values.title === undefined) throw usageError("--title TEXT is required");
  let ttlSeconds: number | undefined;
  if (values.ttl !== undefined) {
    if (!/^\d{1,5}$/.test(values.ttl)) throw usageError("--ttl must be a number of seconds (30 to 1800)");
    ttlSeconds = Number(values.ttl);
  }
  const given = values.context === undefined ? undefined : await readJsonArgument(values.context, "--context", io.cwd);
  for (const key of Object.keys(extraContext)) {
    if (given !== undefined && Object.hasOwn(given, key)) throw usageError(`--context may not set "${key}" here`);
  }
  const context =
    given === undefined && Object.keys(extraContext).length === 0 ? undefined : { ...given, ...extraContext };
  return {
    actionType: values.action,
    title: values.title,
    ...(values.body === undefined ? {} : { body: values.body }),
    ...(context === undefined ? {} : { context }),
    ...(ttlSeconds === undefined ? {} : { ttlSeconds }),
    ...(values["binding-message"] === undefined ? {} : { bindingMessage: values["binding-message"] }),
    ...(values["callback-url"] === undefined ? {} : { callbackUrl: values["callback-url"] }),
  };
}
