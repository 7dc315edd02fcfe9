import {
  CountersignError,
  type DisplayPayload,
  displayPayloadHash,
  type ErrorCode,
  RECEIPT_TYPE,
  type ReceiptClaims,
} from "@countersign/protocol";
import { errors, jwtVerify } from "jose";
import { type JwksSource, jwksKeyResolver } from "./jwks-key-set.ts";

/**
 * Options of {@link verifyReceipt}: where the keys are, and what the receipt must say.
 *
 * @example
 * ```ts
 * const options: VerifyReceiptOptions = {
 *   jwksUrl: "https://countersign.example/.well-known/jwks.json",
 *   issuer: "https://countersign.example",
 *   actionType: "deploy.production",
 *   displayPayload,
 * };
 * ```
 */
export interface VerifyReceiptOptions extends JwksSource {
  /** The server's public URL (`COUNTERSIGN_PUBLIC_URL`): the receipt's `iss`. */
  readonly issuer: string;
  /** The action about to be performed: the receipt's `act` must be exactly this. */
  readonly actionType: string;
  /** The agent that must have asked (`aud`); any agent when left out. */
  readonly audience?: string;
  /**
   * What the person was shown, rebuilt from the action about to be performed; its hash must be the
   * receipt's `dph`. Strongly recommended: without it (or `displayPayloadHash`) the receipt proves
   * that *an* action of this type was approved, not that this one was.
   */
  readonly displayPayload?: DisplayPayload;
  /** The display payload hash, when the caller computed it already. */
  readonly displayPayloadHash?: string;
  /** The time to check `exp` against; now by default. */
  readonly currentDate?: Date;
  /** Leeway for clock differences, in seconds; 30 by default. */
  readonly clockToleranceSeconds?: number;
}

/**
 * A receipt that passed {@link verifyReceipt}.
 *
 * @example
 * ```ts
 * const { claims } = await verifyReceipt(token, options);
 * await markExecuted(claims.jti);
 * ```
 */
export interface VerifiedReceipt {
  readonly claims: ReceiptClaims;
  /** The `kid` of the key that signed it. */
  readonly keyId: string | undefined;
}

/**
 * Verifies an approval receipt (DESIGN §4.7) the way a downstream system must before acting:
 * the EdDSA signature against the server's JWKS, `typ: countersign-receipt+jwt`, `iss`, `aud`
 * (when given), `exp`, `act` equal to the action type, and `dph` equal to the hash of the display
 * payload (T-6, T-9). Then execute each receipt once: remember its `jti`.
 *
 * The error codes say which kind of check failed and nothing more: `invalid_signature` (signature,
 * format, type, issuer or audience), `signature_expired` (too old), `action_not_allowed` (another
 * action type), `display_hash_mismatch` (another action), `service_unavailable` (the JWKS could
 * not be fetched — no verdict).
 *
 * @example
 * ```ts
 * const { claims } = await verifyReceipt(process.env.COUNTERSIGN_RECEIPT, {
 *   jwksUrl: "https://countersign.example/.well-known/jwks.json",
 *   issuer: "https://countersign.example",
 *   actionType: "deploy.production",
 *   displayPayload,
 * });
 * if (await alreadyExecuted(claims.jti)) throw new Error("receipt already used");
 * ```
 */
export async function verifyReceipt(token: string, options: VerifyReceiptOptions): Promise<VerifiedReceipt> {
  if (typeof options.issuer !== "string" || options.issuer === "" || typeof options.actionType !== "string") {
    throw new CountersignError("validation_failed", { message: "verifyReceipt needs issuer and actionType." });
  }
  const resolve = jwksKeyResolver(options);
  let unavailable: CountersignError | undefined;
  let verified: Awaited<ReturnType<typeof jwtVerify>>;
  try {
    verified = await jwtVerify(
      typeof token === "string" ? token : "",
      async (header) => {
        try {
          const key = await resolve(header);
          if (key === null) throw new CountersignError("invalid_signature");
          return key;
        } catch (error) {
          if (error instanceof CountersignError && error.code === "service_unavailable") unavailable = error;
          throw error;
        }
      },
      {
        algorithms: ["EdDSA"],
        typ: RECEIPT_TYPE,
        issuer: options.issuer,
        ...(options.audience === undefined ? {} : { audience: options.audience }),
        requiredClaims: ["iss", "sub", "aud", "jti", "iat", "exp", "act", "dph"],
        clockTolerance: options.clockToleranceSeconds ?? 30,
        ...(options.currentDate === undefined ? {} : { currentDate: options.currentDate }),
      },
    );
  } catch (error) {
    if (unavailable !== undefined) throw unavailable;
    throw invalid(error instanceof errors.JWTExpired ? "signature_expired" : "invalid_signature", error);
  }
  const claims = verified.payload as unknown as ReceiptClaims;
  if (typeof claims.act !== "string" || typeof claims.dph !== "string" || typeof claims.aud !== "string") {
    throw invalid("invalid_signature");
  }
  if (claims.act !== options.actionType) throw invalid("action_not_allowed");
  const expectedHash =
    options.displayPayload === undefined
      ? options.displayPayloadHash
      : await displayPayloadHash(options.displayPayload);
  if (expectedHash !== undefined && claims.dph !== expectedHash) throw invalid("display_hash_mismatch");
  return { claims, keyId: verified.protectedHeader.kid };
}

const MESSAGES: Partial<Record<ErrorCode, string>> = {
  invalid_signature: "The receipt is not valid.",
  signature_expired: "The receipt has expired.",
  action_not_allowed: "The receipt is for another action type.",
  display_hash_mismatch: "The receipt is for another action: what was approved does not match.",
};

function invalid(code: ErrorCode, cause?: unknown): CountersignError {
  const message = MESSAGES[code];
  return new CountersignError(code, { ...(message ? { message } : {}), cause });
}
