import { AGENT_AUTH_MODES, APPROVAL_REASONS, APPROVAL_STATUSES } from "@countersign/protocol";
import { Type } from "typebox";

/** The JSON schemas of the approval routes (OpenAPI at /openapi.json; DESIGN §4.4–4.7). */

export const ErrorRef = { $ref: "ErrorBody#" };

const Timestamp = Type.String({ format: "date-time" });
const NullableTimestamp = Type.Union([Timestamp, Type.Null()]);
const Status = Type.Enum(APPROVAL_STATUSES);
const Reason = Type.Union([Type.Enum(APPROVAL_REASONS), Type.Null()]);
const Hash = Type.String({ pattern: "^sha256:[0-9a-f]{64}$" });
const NullableHash = Type.Union([Hash, Type.Null()], {
  description: "Null on an end-to-end request until the person decides: the server cannot read its context.",
});

/** Longest `context_e2e.ct`: 16 KiB of context (DESIGN §4.4) plus the AEAD tag, base64url, with room. */
export const MAX_E2E_CIPHERTEXT_CHARS = 22_000;

/** `context_e2e` (spec §0): an HPKE ciphertext of the context to the account key set `kid`. */
export const SealedContextSchema = Type.Object(
  {
    v: Type.Literal(1),
    kid: Type.String({ pattern: "^ak_[A-Za-z0-9_-]{22}$", description: "The account key set it is encrypted to." }),
    enc: Type.String({ pattern: "^[A-Za-z0-9_-]{43}$", description: "The 32-byte HPKE encapsulated key, base64url." }),
    ct: Type.String({
      // At least the 16-byte tag; base64url without padding.
      pattern: "^[A-Za-z0-9_-]{22,}$",
      maxLength: MAX_E2E_CIPHERTEXT_CHARS,
      description: "The HPKE ciphertext of the context's JCS, base64url.",
    }),
  },
  {
    additionalProperties: false,
    description: "An end-to-end encrypted context (HPKE to the account key set `kid`); the server cannot read it.",
  },
);

export const ApprovalIdParams = Type.Object(
  { approval_id: Type.String({ pattern: "^apr_[A-Za-z0-9_-]{22}$" }) },
  { additionalProperties: false },
);

export const CreateApprovalBodySchema = Type.Object(
  {
    action_type: Type.String({
      pattern: "^[a-z0-9][a-z0-9._:-]{0,63}$",
      description: "Checked against the agent's allowlist.",
    }),
    title: Type.String({ minLength: 1, maxLength: 120 }),
    body: Type.Optional(Type.String({ maxLength: 2000, description: "Plain text." })),
    context: Type.Optional(
      Type.Object(
        {},
        { additionalProperties: true, description: "A JSON object of at most 16 KiB, shown as a table." },
      ),
    ),
    // Instead of `context`, for an agent created with e2e: encrypted to its pinned account key set.
    context_e2e: Type.Optional(SealedContextSchema),
    binding_message: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    ttl_seconds: Type.Optional(Type.Integer({ minimum: 30, maximum: 1800 })),
    callback_url: Type.Optional(
      Type.String({ minLength: 1, maxLength: 2048, description: "https; signed webhook on decision." }),
    ),
  },
  { additionalProperties: false },
);

export const AgentApprovalSchema = Type.Object({
  id: Type.String(),
  status: Status,
  reason: Reason,
  action_type: Type.String(),
  number_match: Type.Union([Type.String({ pattern: "^[0-9]{6}$" }), Type.Null()], {
    description: "Show it to your person; they type it on their phone. Only in the answer to creation.",
  }),
  display_payload_hash: NullableHash,
  display_payload: Type.Optional(
    Type.Object(
      {
        agent_id: Type.String(),
        agent_name: Type.String(),
        agent_verified: Type.Boolean(),
        action_type: Type.String(),
        title: Type.String(),
        body: Type.String(),
        binding_message: Type.Union([Type.String(), Type.Null()]),
        created_at: Type.String(),
        expires_at: Type.String(),
      },
      {
        description:
          "End-to-end requests, in the answer to creation: the display payload without `context`, to hash locally with the plaintext context.",
      },
    ),
  ),
  created_at: Timestamp,
  expires_at: Timestamp,
  expires_in: Type.Integer(),
  interval: Type.Integer({ description: "Seconds between polls; faster gets 429 slow_down." }),
  decided_at: NullableTimestamp,
  receipt: Type.Union([Type.String(), Type.Null()], { description: "Compact JWS, once approved (DESIGN §4.7)." }),
});

/**
 * `?wait=N`. Query strings reach validation as text and the app's validator does not coerce
 * types (http/build-app.ts, `coerceTypes: false`), so an integer schema here refused every
 * `?wait=5`: numbers in query strings are decimal patterns, converted by the route.
 */
export const PollQuerySchema = Type.Object(
  {
    wait: Type.Optional(
      Type.String({
        pattern: "^(?:[0-9]|[12][0-9]|30)$",
        description: "Long-poll up to N (0–30) seconds for a decision.",
      }),
    ),
  },
  { additionalProperties: false },
);

const DisplayPayloadSchema = Type.Object({
  agent_id: Type.String(),
  agent_name: Type.String(),
  agent_verified: Type.Boolean(),
  action_type: Type.String(),
  title: Type.String(),
  body: Type.String(),
  // Any JSON object: typed as the display payload's `Record<string, unknown>`, not `object`.
  context: Type.Union(
    [Type.Unsafe<Record<string, unknown>>(Type.Object({}, { additionalProperties: true })), Type.Null()],
    {
      description: "Null on an end-to-end request: decrypt `context_e2e` into it.",
    },
  ),
  binding_message: Type.Union([Type.String(), Type.Null()]),
  created_at: Type.String(),
  expires_at: Type.String(),
});

export const PersonApprovalSchema = Type.Object({
  id: Type.String(),
  status: Status,
  reason: Reason,
  agent_id: Type.String(),
  auth_mode: Type.Enum(AGENT_AUTH_MODES),
  action_type: Type.String(),
  display_payload: Type.Union([DisplayPayloadSchema, Type.Null()]),
  display_payload_hash: NullableHash,
  e2e: Type.Boolean({ description: "The context is end-to-end encrypted: only the app can read it." }),
  context_e2e: Type.Union([SealedContextSchema, Type.Null()]),
  number_attempts_remaining: Type.Integer(),
  created_at: Timestamp,
  expires_at: Timestamp,
  delivered_at: NullableTimestamp,
  decided_at: NullableTimestamp,
  receipt: Type.Union([Type.String(), Type.Null()]),
  has_evidence: Type.Boolean(),
});

export const PersonListQuerySchema = Type.Object(
  {
    state: Type.Optional(
      Type.Union([Type.Literal("open"), Type.Literal("closed"), Type.Literal("all")], { default: "all" }),
    ),
    status: Type.Optional(Status),
    agent_id: Type.Optional(Type.String({ pattern: "^agt_[A-Za-z0-9_-]{22}$" })),
    // Text, like PollQuerySchema's `wait`: query strings are not coerced to integers.
    limit: Type.Optional(Type.String({ pattern: "^(?:[1-9][0-9]?|100)$", description: "1–100; default 25." })),
    cursor: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false },
);

export const PersonListSchema = Type.Object({
  approvals: Type.Array(PersonApprovalSchema),
  next_cursor: Type.Union([Type.String(), Type.Null()]),
});

export const PersonApprovalDetailSchema = Type.Object({
  approval: PersonApprovalSchema,
  decision: Type.Union([
    Type.Object({
      nonce: Type.String({ description: "Single use; goes into the WebAuthn challenge (DESIGN §4.6)." }),
      nonce_expires_at: Timestamp,
      rp_id: Type.String(),
      user_verification: Type.Literal("required"),
      allow_credentials: Type.Array(
        Type.Object({ id: Type.String(), type: Type.Literal("public-key"), transports: Type.Array(Type.String()) }),
      ),
    }),
    Type.Null(),
  ]),
});

export const DecisionBodySchema = Type.Object(
  {
    decision: Type.Union([Type.Literal("approve"), Type.Literal("reject")]),
    number: Type.Optional(Type.String({ pattern: "^[0-9]{6}$" })),
    display_payload_hash: Hash,
    nonce: Type.String({ pattern: "^[A-Za-z0-9_-]{43}$" }),
    credential: Type.Object(
      {
        id: Type.String({ maxLength: 1366 }),
        rawId: Type.String({ maxLength: 1366 }),
        type: Type.Literal("public-key"),
        response: Type.Object(
          {
            authenticatorData: Type.String({ maxLength: 8192 }),
            clientDataJSON: Type.String({ maxLength: 8192 }),
            signature: Type.String({ maxLength: 2048 }),
            userHandle: Type.Optional(Type.Union([Type.String({ maxLength: 128 }), Type.Null()])),
          },
          { additionalProperties: true },
        ),
        clientExtensionResults: Type.Optional(Type.Object({}, { additionalProperties: true })),
        authenticatorAttachment: Type.Optional(Type.Union([Type.String(), Type.Null()])),
      },
      { additionalProperties: false },
    ),
    not_requested: Type.Optional(Type.Boolean({ description: '"I didn\'t ask for this": suspends the agent.' })),
    context_unread: Type.Optional(
      Type.Boolean({
        description:
          "Reject only, end-to-end requests only: this device could not decrypt the context; display_payload_hash is then over the payload with `context: null`.",
      }),
    ),
  },
  { additionalProperties: false },
);

export const EvidenceSchema = Type.Object({
  v: Type.Literal(1),
  request_id: Type.String(),
  decision: Type.Union([Type.Literal("approve"), Type.Literal("reject")]),
  display_payload_hash: Hash,
  nonce: Type.String(),
  challenge: Type.String(),
  rp_id: Type.String(),
  origin: Type.String(),
  credential_id: Type.String(),
  public_key_cose: Type.String(),
  sign_count: Type.Integer(),
  assertion: Type.Object({
    authenticator_data: Type.String(),
    client_data_json: Type.String(),
    signature: Type.String(),
    user_handle: Type.Union([Type.String(), Type.Null()]),
  }),
  decided_at: Timestamp,
  context_unread: Type.Optional(
    Type.Literal(true, { description: "Rejected on a device that could not decrypt the end-to-end context." }),
  ),
});

export const SettingsSchema = Type.Object({
  default_ttl_seconds: Type.Union([Type.Integer({ minimum: 30, maximum: 1800 }), Type.Null()]),
  notifications_enabled: Type.Boolean(),
});

export const SettingsBodySchema = Type.Object(
  {
    default_ttl_seconds: Type.Optional(Type.Union([Type.Integer({ minimum: 30, maximum: 1800 }), Type.Null()])),
    notifications_enabled: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

export const JwksSchema = Type.Object({
  keys: Type.Array(
    Type.Object({
      kty: Type.Literal("OKP"),
      crv: Type.Literal("Ed25519"),
      x: Type.String(),
      kid: Type.String(),
      alg: Type.Literal("EdDSA"),
      use: Type.Literal("sig"),
    }),
  ),
});
