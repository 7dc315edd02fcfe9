import { CountersignError } from "@countersign/protocol";
import type { AgentAuthMode } from "../agent-auth/agent-request.ts";
import { ipRangePrefixLength, normalizeIpRange } from "../net/ip-allowlist.ts";
import { isAllowedActionPattern } from "./action-types.ts";
import { BEARER_TOKEN_DEFAULT_DAYS, BEARER_TOKEN_MAX_DAYS } from "./agent-secrets.ts";

/** The body of `POST /v1/agents`, after the route's schema accepted its shape. */
export interface CreateAgentBody {
  name: string;
  auth_mode?: AgentAuthMode;
  allowed_actions: string[];
  ip_allowlist?: string[];
  default_ttl_seconds?: number;
  bearer_token_ttl_days?: number;
  e2e?: boolean;
}

/** A validated, normalized agent to create. */
export interface CreateAgentInput {
  readonly name: string;
  readonly authMode: AgentAuthMode;
  readonly allowedActions: readonly string[];
  readonly ipAllowlist: readonly string[];
  /** Null: approvals follow the person's default TTL setting. */
  readonly defaultTtlSeconds: number | null;
  /** Bearer agents only. */
  readonly bearerTokenTtlDays: number;
  /** Pin the account's active key set: the agent must encrypt its context to it (DESIGN §4.11). */
  readonly e2e: boolean;
}

/** Narrowest ranges a bearer agent's allowlist may hold (DESIGN §4.2 asks for "a single IP or a narrow CIDR"). */
export const BEARER_MIN_PREFIX = { ipv4: 16, ipv6: 48 } as const;

// C0/C1 controls, and the bidirectional overrides and isolates (Unicode TR9) that could make a
// name render as something else in the approver's app (T-9's concern, applied to names).
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const UNSAFE_NAME = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

type Issue = { path: string; message: string };

/**
 * Checks and normalizes a new agent (DESIGN §4.3): a visible name; allowed action types as exact
 * names or `prefix.*`; IPv4/IPv6 addresses and CIDR ranges; a default TTL of 30–1,800 s. Bearer
 * agents (DESIGN §4.2) only while the server allows them, with a mandatory allowlist of narrow
 * ranges and a token lifetime of at most 90 days. End-to-end context (`e2e`) is for signed agents.
 *
 * @throws CountersignError `bearer_not_allowed`, or `validation_failed` listing every problem.
 */
export function parseCreateAgentBody(body: CreateAgentBody, options: { bearerOnlyAllowed: boolean }): CreateAgentInput {
  const authMode = body.auth_mode ?? "signed";
  if (authMode === "bearer_only" && !options.bearerOnlyAllowed) throw new CountersignError("bearer_not_allowed");
  const issues: Issue[] = [];

  const name = typeof body.name === "string" ? body.name.trim().normalize("NFC") : "";
  if (name.length === 0 || name.length > 64) issues.push({ path: "/name", message: "must be 1 to 64 characters" });
  else if (UNSAFE_NAME.test(name)) issues.push({ path: "/name", message: "must not contain control characters" });

  const allowedActions = [...new Set(body.allowed_actions)];
  if (allowedActions.length === 0) issues.push({ path: "/allowed_actions", message: "must not be empty" });
  body.allowed_actions.forEach((pattern, i) => {
    if (!isAllowedActionPattern(pattern)) {
      issues.push({ path: `/allowed_actions/${i}`, message: "must be an action type or a prefix followed by .*" });
    }
  });

  const ipAllowlist: string[] = [];
  (body.ip_allowlist ?? []).forEach((entry, i) => {
    const normalized = normalizeIpRange(entry);
    if (normalized === null) {
      issues.push({ path: `/ip_allowlist/${i}`, message: "must be an IPv4 or IPv6 address or CIDR range" });
      return;
    }
    if (authMode === "bearer_only") {
      const { family, bits } = ipRangePrefixLength(normalized);
      if (bits < BEARER_MIN_PREFIX[family]) {
        issues.push({
          path: `/ip_allowlist/${i}`,
          message: `must be /${BEARER_MIN_PREFIX[family]} or narrower for a bearer-only agent`,
        });
        return;
      }
    }
    if (!ipAllowlist.includes(normalized)) ipAllowlist.push(normalized);
  });
  if (authMode === "bearer_only" && (body.ip_allowlist ?? []).length === 0) {
    issues.push({ path: "/ip_allowlist", message: "is required for a bearer-only agent" });
  }

  const defaultTtlSeconds = body.default_ttl_seconds ?? null;
  if (
    defaultTtlSeconds !== null &&
    (!Number.isInteger(defaultTtlSeconds) || defaultTtlSeconds < 30 || defaultTtlSeconds > 1800)
  ) {
    issues.push({ path: "/default_ttl_seconds", message: "must be an integer from 30 to 1800" });
  }
  const bearerTokenTtlDays = body.bearer_token_ttl_days ?? BEARER_TOKEN_DEFAULT_DAYS;
  if (body.bearer_token_ttl_days !== undefined && authMode !== "bearer_only") {
    issues.push({ path: "/bearer_token_ttl_days", message: "applies to bearer-only agents only" });
  } else if (
    !Number.isInteger(bearerTokenTtlDays) ||
    bearerTokenTtlDays < 1 ||
    bearerTokenTtlDays > BEARER_TOKEN_MAX_DAYS
  ) {
    issues.push({ path: "/bearer_token_ttl_days", message: `must be an integer from 1 to ${BEARER_TOKEN_MAX_DAYS}` });
  }

  // The pin reaches the agent with its enrolment answer and the person compares its fingerprint
  // there; a bearer agent never enrols, so nothing would carry the pin to it.
  const e2e = body.e2e === true;
  if (e2e && authMode === "bearer_only") {
    issues.push({ path: "/e2e", message: "applies to signed agents only (the key is pinned at enrolment)" });
  }

  if (issues.length > 0) {
    throw new CountersignError("validation_failed", { details: { in: "body", issues } });
  }
  return Object.freeze({
    name,
    authMode,
    allowedActions: Object.freeze(allowedActions),
    ipAllowlist: Object.freeze(ipAllowlist),
    defaultTtlSeconds,
    bearerTokenTtlDays,
    e2e,
  });
}
