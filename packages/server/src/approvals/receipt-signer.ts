import { RECEIPT_TYPE, type ReceiptClaims } from "@countersign/protocol";
import { importJWK, type JWK, SignJWT } from "jose";
import type { SigningJwk } from "../config/config.ts";

/** A public signing key as published in the JWKS (RFC 7517 §4, RFC 8037 §2). */
export interface PublicSigningJwk {
  readonly kty: "OKP";
  readonly crv: "Ed25519";
  readonly x: string;
  readonly kid: string;
  readonly alg: "EdDSA";
  readonly use: "sig";
}

/** Signs approval receipts (DESIGN §4.7) and publishes the keys that verify them. */
export interface ReceiptSigner {
  /** A compact JWS (RFC 7515 §7.1), EdDSA, `typ: countersign-receipt+jwt`, with the first key. */
  sign(claims: ReceiptClaims): Promise<string>;
  /**
   * Every configured signing key's public half. Rotation: put a new key first, keep the old one
   * listed until the receipts it signed have expired, then drop it (docs/security.md).
   */
  readonly jwks: { readonly keys: readonly PublicSigningJwk[] };
  /** The key id new receipts carry. */
  readonly currentKeyId: string;
}

/**
 * Builds the signer over `config.secrets.signingKeys` with `jose`. The private key is imported
 * once, non-extractable.
 *
 * @example
 * ```ts
 * const signer = createReceiptSigner(config.secrets.signingKeys);
 * const receipt = await signer.sign({ iss, sub, aud, jti, iat, exp, act, dph, amr: ["hwk", "user"] });
 * ```
 */
export function createReceiptSigner(signingKeys: readonly SigningJwk[]): ReceiptSigner {
  const current = signingKeys[0];
  if (current === undefined) throw new Error("at least one signing key is required");
  const privateKey = importJWK({ ...current, alg: "EdDSA" } as JWK, "EdDSA");
  // Keeps a bad key from being an unhandled rejection at start; every sign() still sees the error.
  privateKey.catch(() => undefined);
  const jwks = Object.freeze({
    keys: Object.freeze(
      signingKeys.map((jwk) =>
        Object.freeze({ kty: "OKP", crv: "Ed25519", x: jwk.x, kid: jwk.kid, alg: "EdDSA", use: "sig" } as const),
      ),
    ),
  });
  return Object.freeze({
    jwks,
    currentKeyId: current.kid,
    async sign(claims: ReceiptClaims) {
      return new SignJWT({ act: claims.act, dph: claims.dph, amr: [...claims.amr] })
        .setProtectedHeader({ alg: "EdDSA", typ: RECEIPT_TYPE, kid: current.kid })
        .setIssuer(claims.iss)
        .setSubject(claims.sub)
        .setAudience(claims.aud)
        .setJti(claims.jti)
        .setIssuedAt(claims.iat)
        .setExpirationTime(claims.exp)
        .sign(await privateKey);
    },
  });
}
