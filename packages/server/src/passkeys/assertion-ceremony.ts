import {
  type AuthenticationResponseJSON,
  generateAuthenticationOptions,
  type PublicKeyCredentialRequestOptionsJSON,
  verifyAuthenticationResponse,
} from "@simplewebauthn/server";
import type { Config } from "../config/config.ts";
import { CEREMONY_TIMEOUT_MS } from "./registration-ceremony.ts";

/** The stored credential an assertion is checked against. */
export interface AssertedCredential {
  readonly credentialId: string;
  readonly publicKey: Uint8Array;
  readonly signCount: number;
  /** The owner's account id; its UTF-8 bytes are the credential's user handle. */
  readonly userId: string;
}

/** The outcome of {@link AssertionCeremony.verify}. */
export type AssertionResult =
  | {
      readonly ok: true;
      readonly signCount: number;
      readonly backedUp: boolean;
    }
  | {
      readonly ok: false;
      /**
       * The signature verified but the signature counter did not advance: a possible clone
       * (WebAuthn L3 §6.1.1, §7.2 signCount step). The caller flags the passkey.
       */
      readonly counterRegressed: boolean;
      readonly error: unknown;
    };

/** The WebAuthn authentication ceremony (WebAuthn L3 §7.2), always with user verification. */
export interface AssertionCeremony {
  /**
   * `PublicKeyCredentialRequestOptions` as JSON. With no credentials listed the browser offers
   * every discoverable credential for the relying party (sign-in without a username); the
   * options then look the same for every caller, so they reveal nothing about any account.
   */
  options(init: {
    challenge: string;
    allowCredentials?: readonly { id: string; transports: readonly string[] }[];
  }): Promise<PublicKeyCredentialRequestOptionsJSON>;
  /** Verifies an assertion by `credential` against the challenge already consumed for it. */
  verify(response: unknown, challenge: string, credential: AssertedCredential): Promise<AssertionResult>;
}

/** The credential id an assertion claims to come from, to look the passkey up; null if malformed. */
export function credentialIdFromResponse(response: unknown): string | null {
  const id = (response as { id?: unknown } | null)?.id;
  return typeof id === "string" && /^[A-Za-z0-9_-]{1,1366}$/.test(id) ? id : null;
}

/**
 * Builds the assertion ceremony over `config.webauthn`.
 *
 * @example
 * ```ts
 * const ceremony = createAssertionCeremony(config.webauthn);
 * const result = await ceremony.verify(response, challenge, { credentialId, publicKey, signCount, userId });
 * ```
 */
export function createAssertionCeremony(webauthn: Config["webauthn"]): AssertionCeremony {
  const encoder = new TextEncoder();

  return Object.freeze({
    options(init: { challenge: string; allowCredentials?: readonly { id: string; transports: readonly string[] }[] }) {
      return generateAuthenticationOptions({
        rpID: webauthn.rpId,
        // As bytes: a string would be taken as UTF-8 text and encoded a second time.
        challenge: new Uint8Array(Buffer.from(init.challenge, "base64url")),
        timeout: CEREMONY_TIMEOUT_MS,
        userVerification: "required",
        allowCredentials: (init.allowCredentials ?? []).map((credential) => ({
          id: credential.id,
          transports: [...credential.transports],
        })),
      });
    },

    async verify(response: unknown, challenge: string, credential: AssertedCredential): Promise<AssertionResult> {
      const json = response as AuthenticationResponseJSON;
      try {
        if (json?.id !== credential.credentialId || json.rawId !== credential.credentialId) {
          return { ok: false, counterRegressed: false, error: new Error("credential id mismatch") };
        }
        // WebAuthn L3 §7.2 step 6: the user handle, when the authenticator returns one, must be
        // the credential owner's. Discoverable credentials always return it; one that names
        // another account is refused even though the signature would verify.
        const userHandle = json.response?.userHandle;
        if (userHandle !== undefined && userHandle !== null) {
          const expected = Buffer.from(encoder.encode(credential.userId)).toString("base64url");
          if (userHandle !== expected) {
            return { ok: false, counterRegressed: false, error: new Error("user handle mismatch") };
          }
        }
        // Steps 7–20 (client data type, challenge, origin, RP id hash, UP and UV flags, the
        // signature) are done by @simplewebauthn/server. It is given a stored counter of 0 so
        // that it never refuses on the counter before checking the signature: the counter step
        // is ours, below, and only means something once the signature is known to be genuine.
        const result = await verifyAuthenticationResponse({
          response: json,
          expectedChallenge: challenge,
          expectedOrigin: webauthn.origin,
          expectedRPID: webauthn.rpId,
          expectedType: "webauthn.get",
          credential: { id: credential.credentialId, publicKey: new Uint8Array(credential.publicKey), counter: 0 },
          requireUserVerification: true,
        });
        if (!result.verified) return { ok: false, counterRegressed: false, error: new Error("signature invalid") };
        const info = result.authenticationInfo;
        // §7.2 signCount step (step 21): when either counter is non-zero, the new one must be
        // greater than the stored one; otherwise two copies of the private key may exist. Our
        // decision (docs/security.md): the assertion is refused, the passkey is flagged and the
        // event audited, and the stored counter is left as it was. Authenticators that keep the
        // counter at 0 (most synced passkeys) never trip this.
        if ((info.newCounter > 0 || credential.signCount > 0) && info.newCounter <= credential.signCount) {
          return {
            ok: false,
            counterRegressed: true,
            error: new Error(`signature counter ${info.newCounter} did not exceed ${credential.signCount}`),
          };
        }
        return { ok: true, signCount: info.newCounter, backedUp: info.credentialBackedUp };
      } catch (error) {
        return { ok: false, counterRegressed: false, error };
      }
    },
  });
}
