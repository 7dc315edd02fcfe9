/**
 * The one registry of error codes that the server, the SDK, the CLI and the app share.
 *
 * Each code is the stable, machine-readable `code` of an error body; `status` is the HTTP status
 * the server answers with; `message` is the public description, safe to show to anyone. Internal
 * detail never goes here: it stays in the server's logs, keyed by request id.
 *
 * Codes are lowercase snake case on the wire (DESIGN §4.1 names `invalid_signature`,
 * `cooldown_active`, …). Add codes here, never inline in a package.
 */
export const ERROR_CODES = {
  // ── Generic request errors ─────────────────────────────────────────────────────────────────
  invalid_request: { status: 400, message: "The request is not valid." },
  validation_failed: { status: 400, message: "The request body, query or headers failed validation." },
  invalid_json: { status: 400, message: "The request body is not valid JSON." },
  unsupported_media_type: { status: 415, message: "The request body must be application/json." },
  payload_too_large: { status: 413, message: "The request body is too large." },
  not_found: { status: 404, message: "Nothing was found at this address." },
  method_not_allowed: { status: 405, message: "This method is not allowed here." },
  misdirected_request: { status: 421, message: "This host does not serve this route." },
  rate_limited: { status: 429, message: "Too many requests. Retry later." },
  internal_error: { status: 500, message: "Something went wrong on the server." },
  service_unavailable: { status: 503, message: "The service is not ready." },

  // ── Agent request authentication (DESIGN §4.1, §4.2) ───────────────────────────────────────
  signature_missing: { status: 401, message: "The request is not signed." },
  invalid_signature: { status: 401, message: "The request signature is not valid." },
  signature_expired: { status: 401, message: "The request signature is outside the allowed time window." },
  nonce_replay: { status: 401, message: "The request signature was already used." },
  digest_mismatch: { status: 400, message: "The Content-Digest does not match the body." },
  unknown_agent: { status: 401, message: "The agent credentials are not recognized." },
  agent_revoked: { status: 403, message: "The agent has been revoked." },
  agent_suspended: { status: 403, message: "The agent is suspended." },
  agent_credentials_rotated: { status: 401, message: "The agent's credentials were rotated; enrol again." },
  ip_not_allowed: { status: 403, message: "The request comes from an address the agent may not use." },
  action_not_allowed: { status: 403, message: "The agent may not request this action type." },
  bearer_not_allowed: { status: 403, message: "Bearer-only agents are disabled on this server." },
  idempotency_key_required: { status: 400, message: "An Idempotency-Key header is required." },
  idempotency_key_reused: { status: 422, message: "The Idempotency-Key was already used with a different request." },
  idempotency_key_in_progress: {
    status: 409,
    message: "A request with this Idempotency-Key is still being processed. Retry shortly.",
  },
  enrollment_code_invalid: { status: 400, message: "The enrolment code is not valid or has expired." },
  agent_key_in_use: { status: 409, message: "This public key is already enrolled. Generate a new key pair." },

  // ── Approvals (DESIGN §4.4 – §4.7) ─────────────────────────────────────────────────────────
  approval_not_found: { status: 404, message: "No such approval request." },
  approval_not_pending: { status: 409, message: "The approval request is no longer open." },
  approval_expired: { status: 410, message: "The approval request has expired." },
  number_mismatch: { status: 400, message: "The number does not match." },
  display_hash_mismatch: { status: 409, message: "What was shown does not match the request." },
  decision_nonce_invalid: { status: 400, message: "The decision nonce is not valid; reload the request." },
  cooldown_active: { status: 429, message: "A recent rejection blocks this request for a while." },
  slow_down: { status: 429, message: "Polling too fast; honour the interval." },
  throttled: { status: 429, message: "Too many approval requests. Retry later." },

  // ── People: accounts, sessions, passkeys (DESIGN §4.9) ─────────────────────────────────────
  unauthenticated: { status: 401, message: "Sign in first." },
  session_expired: { status: 401, message: "The session has expired; sign in again." },
  step_up_required: { status: 401, message: "Confirm with your passkey to continue." },
  forbidden: { status: 403, message: "You may not do this." },
  origin_mismatch: { status: 403, message: "The request origin is not allowed." },
  code_invalid: { status: 400, message: "The code is not valid or has expired." },
  too_many_attempts: { status: 429, message: "Too many attempts. Retry later." },
  passkey_verification_failed: { status: 400, message: "The passkey could not be verified." },
  last_passkey: { status: 409, message: "The last passkey of an account cannot be removed." },
  recovery_failed: { status: 400, message: "Recovery could not be completed." },
  invalid_credentials: { status: 401, message: "The email address or password is not correct." },

  // ── Devices and pairing (DESIGN §4.11) ─────────────────────────────────────────────────────
  device_not_found: { status: 404, message: "No such device." },
  device_revoked: { status: 403, message: "This device was removed from the account." },
  device_required: { status: 409, message: "Register this browser as a device first." },
  device_signature_invalid: { status: 401, message: "The device could not prove it holds its key." },
  bundle_not_available: { status: 404, message: "This device holds no unlock key for the account." },
  account_key_exists: { status: 409, message: "The account already has a key set." },
  account_key_missing: { status: 409, message: "The account has no key set yet; open the app on a device first." },
  account_key_changed: {
    status: 409,
    message: "The account key set changed; check its fingerprint in the app and enrol the agent again.",
  },
  e2e_context_required: { status: 422, message: "This agent must encrypt its context end to end." },
  e2e_not_enabled: { status: 422, message: "This agent is not set up for end-to-end encrypted context." },
  e2e_decrypt_failed: { status: 400, message: "The end-to-end encrypted data could not be opened." },
  recovery_secret_invalid: { status: 400, message: "That is not a valid recovery secret." },
  pairing_failed: { status: 400, message: "Pairing failed; start again." },
  pairing_code_invalid: { status: 400, message: "That is not a valid pairing code." },
  pairing_message_invalid: { status: 400, message: "The pairing message is not valid." },
  pairing_not_found: { status: 404, message: "No pairing is waiting; start one on your other device." },
  pairing_closed: { status: 409, message: "This pairing has already been used or ended; start a new one." },
  pairing_expired: { status: 410, message: "This pairing has expired; start a new one." },
  pairing_rate_limited: { status: 429, message: "Too many pairings this hour. Retry later." },
  pairing_role_mismatch: { status: 403, message: "This device has no part in this pairing." },

  // ── Push notifications (DESIGN §4.10) ───────────────────────────────────────────────────────
  push_not_configured: { status: 404, message: "This server does not send this kind of push notification." },
  push_subscription_invalid: { status: 400, message: "The push subscription is not valid." },
  push_subscription_not_found: { status: 404, message: "No such push subscription." },
  push_subscription_limit: { status: 409, message: "Too many push subscriptions; remove one first." },

  // ── Audit log (DESIGN §4.8) ────────────────────────────────────────────────────────────────
  audit_index_out_of_range: { status: 400, message: "That log index or tree size is out of range." },
} as const satisfies Record<string, { status: number; message: string }>;

/** A code from the shared registry. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** Whether `value` names a code in the registry (for parsing error bodies from the wire). */
export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === "string" && Object.hasOwn(ERROR_CODES, value);
}
