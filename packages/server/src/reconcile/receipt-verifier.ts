import { RECEIPT_TYPE, type ReceiptClaims } from "@countersign/protocol";
import { compactVerify, createLocalJWKSet, decodeJwt, errors, type JWK } from "jose";
import type { PublicSigningJwk } from "../approvals/receipt-signer.ts";

/** What verifying a receipt found. */
export type ReceiptCheck =
  | { readonly ok: true; readonly claims: ReceiptClaims; readonly kid: string | undefined }
  | { readonly ok: false; readonly reason: string };

/** Verifies approval receipts (DESIGN §4.7) the way a downstream system must, but at any date. */
export interface ReceiptVerifier {
  /**
   * Checks the signature (EdDSA, with a key of the JWKS named by `kid`), `typ`, `iss` and the
   * shape of every claim. Time is not checked here: reconciliation compares `iat` and `exp` with
   * when the action was executed, not with now.
   */
  verify(receipt: string): Promise<ReceiptCheck>;
}

const DISPLAY_HASH = /^sha256:[0-9a-f]{64}$/;

/**
 * Builds a verifier over the server's published keys (`createReceiptSigner(keys).jwks`) for
 * receipts issued by `issuer` (the server's public URL).
 *
 * @example
 * ```ts
 * const verifier = createReceiptVerifier(createReceiptSigner(config.secrets.signingKeys).jwks, config.publicUrl);
 * const check = await verifier.verify(line.receipt);
 * if (!check.ok) console.error(check.reason);
 * ```
 */
export function createReceiptVerifier(
  jwks: { readonly keys: readonly PublicSigningJwk[] },
  issuer: string,
): ReceiptVerifier {
  if (jwks.keys.length === 0) throw new Error("at least one receipt verification key is required");
  const keySet = createLocalJWKSet({ keys: jwks.keys.map((key) => ({ ...key }) as JWK) });
  return {
    async verify(receipt) {
      let verified: Awaited<ReturnType<typeof compactVerify>>;
      try {
        verified = await compactVerify(receipt, keySet, { algorithms: ["EdDSA"] });
      } catch (error) {
        return { ok: false, reason: failureReason(error, receipt) };
      }
      const header = verified.protectedHeader;
      if (header.typ !== RECEIPT_TYPE)
        return { ok: false, reason: `typ is ${String(header.typ)}, not ${RECEIPT_TYPE}` };
      let payload: unknown;
      try {
        payload = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(verified.payload));
      } catch {
        return { ok: false, reason: "the payload is not JSON" };
      }
      const claims = receiptClaims(payload);
      if (typeof claims === "string") return { ok: false, reason: claims };
      if (claims.iss !== issuer) return { ok: false, reason: `issued by ${claims.iss}, not ${issuer}` };
      return { ok: true, claims, kid: header.kid };
    },
  };
}

/**
 * The `iat` and `exp` of a receipt the server stored itself, without verifying it (it came from
 * the database, not from the executor); undefined when it cannot be read.
 */
export function storedReceiptTimes(receipt: string): { iat: number; exp: number } | undefined {
  try {
    const { iat, exp } = decodeJwt(receipt);
    return Number.isSafeInteger(iat) && Number.isSafeInteger(exp)
      ? { iat: iat as number, exp: exp as number }
      : undefined;
  } catch {
    return undefined;
  }
}

/** The claims of DESIGN §4.7 with their types checked, or why they are not. */
function receiptClaims(payload: unknown): ReceiptClaims | string {
  if (typeof payload !== "object" || payload === null || Array.isArray(payload)) return "the payload is not an object";
  const p = payload as Record<string, unknown>;
  for (const name of ["iss", "sub", "aud", "jti", "act", "dph"] as const) {
    if (typeof p[name] !== "string" || p[name] === "") return `the ${name} claim is missing or not a string`;
  }
  for (const name of ["iat", "exp"] as const) {
    if (!Number.isSafeInteger(p[name])) return `the ${name} claim is missing or not an integer`;
  }
  if (!DISPLAY_HASH.test(p.dph as string)) return "the dph claim is not sha256:<hex>";
  if ((p.exp as number) <= (p.iat as number)) return "exp is not after iat";
  const amr = Array.isArray(p.amr) && p.amr.every((m) => typeof m === "string") ? (p.amr as string[]) : [];
  return {
    iss: p.iss as string,
    sub: p.sub as string,
    aud: p.aud as string,
    jti: p.jti as string,
    iat: p.iat as number,
    exp: p.exp as number,
    act: p.act as string,
    dph: p.dph as string,
    amr,
  };
}

function failureReason(error: unknown, receipt: string): string {
  if (error instanceof errors.JWSSignatureVerificationFailed)
    return "the signature does not verify with the server's key";
  if (error instanceof errors.JWKSNoMatchingKey)
    return `signed with a key the server does not have (kid ${kidOf(receipt)})`;
  if (error instanceof errors.JOSEAlgNotAllowed) return "not signed with EdDSA";
  if (error instanceof errors.JWKSMultipleMatchingKeys) return "the kid matches several keys";
  return "not a compact JWS";
}

function kidOf(receipt: string): string {
  try {
    const header = JSON.parse(Buffer.from(receipt.split(".")[0] ?? "", "base64url").toString("utf8"));
    return typeof header?.kid === "string" ? header.kid.slice(0, 64) : "none";
  } catch {
    return "none";
  }
}
