/** The JOSE `typ` of an approval receipt (DESIGN §4.7); verifiers require it. */
export const RECEIPT_TYPE = "countersign-receipt+jwt";

/**
 * The claims of an approval receipt (DESIGN §4.7): a compact JWS (EdDSA) the server issues when a
 * person approves, which downstream systems verify before acting (T-6).
 */
export interface ReceiptClaims {
  /** The issuing server's public URL. */
  readonly iss: string;
  /** The person who approved, `usr_…`. */
  readonly sub: string;
  /** The agent that asked, `agt_…`: a receipt is only good for its own agent. */
  readonly aud: string;
  /** The approval request's id, `apr_…`; a downstream system executes each one once. */
  readonly jti: string;
  /** When the decision was made, in seconds since the epoch. */
  readonly iat: number;
  /** When the receipt stops authorizing the action, in seconds since the epoch. */
  readonly exp: number;
  /** The approved action type. */
  readonly act: string;
  /** The display payload hash the person approved, `sha256:<hex>`: recompute it from the action. */
  readonly dph: string;
  /** Authentication methods (RFC 8176): a passkey (`hwk`) with user verification (`user`). */
  readonly amr: readonly string[];
}
