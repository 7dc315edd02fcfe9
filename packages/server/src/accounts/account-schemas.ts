import { Type } from "typebox";

/**
 * Request and response schemas shared by the account and passkey routes. Bodies are strict
 * (`additionalProperties: false`) except the WebAuthn credential, whose JSON form browsers extend.
 */

/** An error body, by reference to the shared `ErrorBody` schema. */
export const ErrorRef = { $ref: "ErrorBody#" };
/** Routes that need the session cookie. */
export const SESSION_SECURITY = [{ sessionCookie: [] }];

export const Timestamp = Type.String({ format: "date-time" });

/** An address as typed; `normalizeEmail` decides whether it is one. */
export const EmailInput = Type.String({ minLength: 3, maxLength: 320, description: "The email address." });

/** A 6-digit email code. */
export const EmailCodeInput = Type.String({ pattern: "^[0-9]{6}$", description: "The 6-digit code from the email." });

/** A ticket from an earlier step of the same flow. */
export const TicketInput = Type.String({
  pattern: "^[A-Za-z0-9_-]{43}$",
  description: "The ticket returned by the previous step.",
});

/** A passkey's display name. */
export const PasskeyNameInput = Type.String({ minLength: 1, maxLength: 64 });

/**
 * A `PublicKeyCredential` in its JSON form (`toJSON()`, WebAuthn L3 §5.1.8/§5.1.9), as the
 * browser returns it from `navigator.credentials.create()` or `.get()`. Only the envelope is
 * checked here; `@simplewebauthn/server` parses and verifies the inside.
 */
export const CredentialInput = Type.Object(
  {
    id: Type.String({ minLength: 1, maxLength: 1400 }),
    rawId: Type.String({ minLength: 1, maxLength: 1400 }),
    type: Type.Literal("public-key"),
    response: Type.Object(
      {
        clientDataJSON: Type.String({ minLength: 1, maxLength: 8192 }),
      },
      { additionalProperties: true },
    ),
    clientExtensionResults: Type.Optional(Type.Object({}, { additionalProperties: true })),
    authenticatorAttachment: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  },
  { additionalProperties: true },
);

/** WebAuthn options for `navigator.credentials.create()` / `.get()`, as JSON (WebAuthn L3 §5.4, §5.5). */
export const WebAuthnOptions = Type.Object(
  { challenge: Type.String(), timeout: Type.Optional(Type.Integer()) },
  { additionalProperties: true, description: "Pass to PublicKeyCredential.parse…OptionsFromJSON()." },
);

/** A ticket handed to the next step. */
export const TicketResponse = Type.Object(
  { ticket: Type.String(), expires_at: Timestamp },
  { additionalProperties: false },
);

/** The same answer, whatever the address: see the start endpoints. */
export const SentResponse = Type.Object(
  {
    status: Type.Literal("sent"),
    message: Type.String(),
  },
  { additionalProperties: false },
);

/** A passkey as the API shows it. */
export const PasskeyBody = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    created_at: Timestamp,
    last_used_at: Type.Union([Timestamp, Type.Null()]),
    backup_eligible: Type.Boolean(),
    backed_up: Type.Boolean(),
    transports: Type.Array(Type.String()),
    counter_regressed_at: Type.Union([Timestamp, Type.Null()], {
      description: "Set when the signature counter went backwards: a possible cloned authenticator.",
    }),
  },
  { additionalProperties: false },
);
