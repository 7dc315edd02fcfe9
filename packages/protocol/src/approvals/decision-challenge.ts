import { digest } from "#digest";
import { utf8 } from "../encoding/bytes.ts";
import { canonicalize } from "../jcs/canonicalize.ts";

/** What a person decides about an approval request (DESIGN §4.6). */
export type Decision = "approve" | "reject";

/** The fields the passkey signature commits to (DESIGN §4.6 step 3, T-4, T-9). */
export interface DecisionChallengeInput {
  /** The approval request's id, `apr_…`. */
  readonly requestId: string;
  readonly decision: Decision;
  /** The display payload hash the app computed from what it rendered, `sha256:<hex>`. */
  readonly displayPayloadHash: string;
  /** The single-use decision nonce the server handed out with the request. */
  readonly nonce: string;
}

/** The challenge format's version, the `v` member; a new format gets a new number. */
export const DECISION_CHALLENGE_VERSION = 1;

/**
 * The WebAuthn challenge of a decision (DESIGN §4.6 step 3):
 * SHA-256(JCS({v: 1, request_id, decision, display_payload_hash, nonce})).
 *
 * The passkey signature over it binds the person's gesture to this request, this decision and
 * exactly what was shown, so a signed approval cannot be replayed onto another request, turned
 * into the other decision, or claimed for a different display (T-4, T-9). The nonce makes every
 * challenge single use. The app and the server compute it independently; an auditor recomputes
 * it from the stored evidence.
 *
 * @example
 * ```ts
 * const challenge = await decisionChallenge({ requestId, decision: "approve", displayPayloadHash, nonce });
 * await navigator.credentials.get({ publicKey: { challenge, rpId, userVerification: "required" } });
 * ```
 */
export async function decisionChallenge(input: DecisionChallengeInput): Promise<Uint8Array> {
  const json = canonicalize({
    v: DECISION_CHALLENGE_VERSION,
    request_id: input.requestId,
    decision: input.decision,
    display_payload_hash: input.displayPayloadHash,
    nonce: input.nonce,
  });
  return digest("SHA-256", utf8(json));
}
