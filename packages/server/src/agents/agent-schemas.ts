import { AGENT_AUTH_MODES, AGENT_STATUSES } from "@countersign/protocol";
import { Type } from "typebox";
import { ALLOWED_ACTION_SOURCE } from "./action-types.ts";
import { BEARER_TOKEN_MAX_DAYS } from "./agent-secrets.ts";

/** The JSON schemas of the agent routes (OpenAPI at /openapi.json). */

const Timestamp = Type.String({ format: "date-time" });
const NullableTimestamp = Type.Union([Timestamp, Type.Null()]);
const AuthMode = Type.Enum(AGENT_AUTH_MODES, {
  description: "`signed` (default): every request is signed with the agent's Ed25519 key. `bearer_only`: a token.",
});

export const ErrorRef = { $ref: "ErrorBody#" };

export const AgentIdParams = Type.Object(
  { agent_id: Type.String({ pattern: "^agt_[A-Za-z0-9_-]{22}$" }) },
  { additionalProperties: false },
);

/** The account key set an end-to-end agent is pinned to (DESIGN §4.11). */
export const AgentE2eKeySchema = Type.Union(
  [
    Type.Object(
      {
        account_key_id: Type.String({ pattern: "^ak_[A-Za-z0-9_-]{22}$" }),
        public_key: Type.String({ description: "X25519, 32 raw bytes, base64url without padding." }),
        fingerprint: Type.String({ description: "Compare it with the one the app shows before trusting the pin." }),
      },
      { additionalProperties: false },
    ),
    Type.Null(),
  ],
  { description: "Set when the agent encrypts its context end to end to this account key set." },
);

export const AgentViewSchema = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    auth_mode: AuthMode,
    verified: Type.Boolean({ description: "True for signed agents; bearer agents are shown unverified (T-7)." }),
    status: Type.Enum(AGENT_STATUSES),
    enrolled: Type.Boolean({ description: "A key is enrolled under the current credentials version." }),
    allowed_actions: Type.Array(Type.String()),
    ip_allowlist: Type.Array(Type.String()),
    default_ttl_seconds: Type.Union([Type.Integer(), Type.Null()], {
      description: "Approval lifetime when a request names none; null: the person's setting applies.",
    }),
    credentials_version: Type.Integer(),
    created_at: Timestamp,
    enrolled_at: NullableTimestamp,
    last_used_at: Type.Union([Timestamp, Type.Null()], { description: "Updated at most once a minute." }),
    bearer_token_expires_at: NullableTimestamp,
    e2e: AgentE2eKeySchema,
  },
  { additionalProperties: false },
);

export const CreateAgentBodySchema = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 64 }),
    auth_mode: Type.Optional(AuthMode),
    allowed_actions: Type.Array(Type.String({ pattern: ALLOWED_ACTION_SOURCE }), {
      minItems: 1,
      maxItems: 64,
      description: "Exact action types, or `prefix.*` for every action type under `prefix.`.",
    }),
    ip_allowlist: Type.Optional(
      Type.Array(Type.String({ maxLength: 64 }), {
        maxItems: 32,
        description: "IPv4/IPv6 addresses and CIDR ranges. Required (and /16, /48 or narrower) for bearer agents.",
      }),
    ),
    default_ttl_seconds: Type.Optional(
      Type.Integer({ minimum: 30, maximum: 1800, description: "Omit to follow the person's default TTL setting." }),
    ),
    bearer_token_ttl_days: Type.Optional(
      Type.Integer({ minimum: 1, maximum: BEARER_TOKEN_MAX_DAYS, description: "Bearer agents only; default 30." }),
    ),
    e2e: Type.Optional(
      Type.Boolean({
        description:
          "Signed agents only: pin the account's active key set; the agent must encrypt its context to it (409 account_key_missing without one).",
      }),
    ),
  },
  { additionalProperties: false },
);

export const IssuedCredentialSchema = Type.Union([
  Type.Object(
    {
      kind: Type.Literal("enrollment_code"),
      code: Type.String({ description: "Shown once; single use; give it to `countersign-agent enroll`." }),
      expires_at: Timestamp,
      api_base_url: Type.String({ description: "The agent API's origin: `countersign-agent enroll --server`." }),
    },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      kind: Type.Literal("bearer_token"),
      token: Type.String({ description: "Shown once: `Authorization: Bearer cs_agt_…`." }),
      expires_at: Timestamp,
    },
    { additionalProperties: false },
  ),
]);

export const AgentWithCredentialSchema = Type.Object(
  { agent: AgentViewSchema, credential: IssuedCredentialSchema },
  { additionalProperties: false },
);

export const AgentEnvelopeSchema = Type.Object({ agent: AgentViewSchema }, { additionalProperties: false });

export const AgentListSchema = Type.Object({ agents: Type.Array(AgentViewSchema) }, { additionalProperties: false });

export const EnrollBodySchema = Type.Object(
  {
    code: Type.String({ minLength: 1, maxLength: 128, description: "The enrolment code the person was shown." }),
    public_key: Type.String({
      pattern: "^[A-Za-z0-9_-]{43}$",
      description: "The agent's Ed25519 public key: 32 raw bytes, base64url without padding.",
    }),
  },
  { additionalProperties: false },
);

export const EnrollResponseSchema = Type.Object(
  {
    agent_id: Type.String(),
    key_id: Type.String({ description: "RFC 7638 thumbprint of the key; the `keyid` of every signature." }),
    api_base_url: Type.String(),
    auth_mode: Type.Literal("signed"),
    credentials_version: Type.Integer(),
    e2e: AgentE2eKeySchema,
  },
  { additionalProperties: false },
);

export const WhoamiSchema = Type.Object(
  {
    agent_id: Type.String(),
    name: Type.String(),
    auth_mode: AuthMode,
    verified: Type.Boolean(),
    allowed_actions: Type.Array(Type.String()),
    default_ttl_seconds: Type.Union([Type.Integer(), Type.Null()]),
    credentials_version: Type.Integer(),
    key_id: Type.Union([Type.String(), Type.Null()]),
    e2e: AgentE2eKeySchema,
  },
  { additionalProperties: false },
);
