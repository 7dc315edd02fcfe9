import {
  generateRegistrationOptions,
  type PublicKeyCredentialCreationOptionsJSON,
  type RegistrationResponseJSON,
  verifyRegistrationResponse,
} from "@simplewebauthn/server";
import type { Config } from "../config/config.ts";
import type { NewPasskey } from "./passkey-store.ts";

/**
 * COSE algorithms offered and accepted (IANA COSE registry): Ed25519 (-8), ES256 (-7) and
 * RS256 (-257), the set every platform authenticator supports.
 */
export const SUPPORTED_ALGORITHM_IDS = [-8, -7, -257];
/** The browser's timeout; the stored challenge lives a little longer than this. */
export const CEREMONY_TIMEOUT_MS = 4 * 60 * 1000;

const TRANSPORTS = new Set(["ble", "cable", "hybrid", "internal", "nfc", "smart-card", "usb"]);
// WebAuthn L3 §7.1 (registration), credential id step: an id longer than 1023 bytes is refused.
const MAX_CREDENTIAL_ID_BYTES = 1023;

/** Whom the new credential is for. */
export interface RegistrationUser {
  /** The account id; its UTF-8 bytes are the WebAuthn user handle (random, no personal data). */
  readonly id: string;
  /** The name the authenticator shows in its account picker: the person's address. */
  readonly name: string;
}

/** The WebAuthn registration ceremony (WebAuthn L3 §7.1) for a discoverable, user-verified passkey. */
export interface RegistrationCeremony {
  /** `PublicKeyCredentialCreationOptions` for `navigator.credentials.create()`, as JSON. */
  options(init: {
    user: RegistrationUser;
    challenge: string;
    excludeCredentials: readonly { id: string; transports: readonly string[] }[];
  }): Promise<PublicKeyCredentialCreationOptionsJSON>;
  /**
   * Verifies a registration response against the challenge already consumed for it: the new
   * passkey, or the reason it did not verify (for the log only; never a throw).
   */
  verify(response: unknown, challenge: string): Promise<{ passkey: NewPasskey } | { error: unknown }>;
}

/**
 * Builds the registration ceremony over `config.webauthn` (relying party id, name and origin).
 *
 * @example
 * ```ts
 * const ceremony = createRegistrationCeremony(config.webauthn);
 * const options = await ceremony.options({ user, challenge, excludeCredentials: [] });
 * ```
 */
export function createRegistrationCeremony(webauthn: Config["webauthn"]): RegistrationCeremony {
  return Object.freeze({
    options(init: {
      user: RegistrationUser;
      challenge: string;
      excludeCredentials: readonly { id: string; transports: readonly string[] }[];
    }) {
      return generateRegistrationOptions({
        rpName: webauthn.rpName,
        rpID: webauthn.rpId,
        userName: init.user.name,
        userDisplayName: init.user.name,
        userID: new TextEncoder().encode(init.user.id),
        // As bytes: a string would be taken as UTF-8 text and encoded a second time.
        challenge: new Uint8Array(Buffer.from(init.challenge, "base64url")),
        timeout: CEREMONY_TIMEOUT_MS,
        // No attestation: we do not restrict authenticator models, so it would only be personal
        // data about the device (WebAuthn L3 §14.4.1).
        attestationType: "none",
        excludeCredentials: init.excludeCredentials.map((credential) => ({
          id: credential.id,
          transports: [...credential.transports],
        })),
        // A discoverable credential so sign-in needs no username, and user verification so a
        // passkey is two factors in one (issue 4 part 1).
        authenticatorSelection: { residentKey: "required", requireResidentKey: true, userVerification: "required" },
        supportedAlgorithmIDs: SUPPORTED_ALGORITHM_IDS,
      });
    },

    async verify(response: unknown, challenge: string) {
      try {
        const json = response as RegistrationResponseJSON;
        // WebAuthn L3 §7.1 steps 5–27 (client data, RP id hash, UP and UV flags, algorithm,
        // attestation statement) are done by @simplewebauthn/server.
        const result = await verifyRegistrationResponse({
          response: json,
          expectedChallenge: challenge,
          expectedOrigin: webauthn.origin,
          expectedRPID: webauthn.rpId,
          expectedType: "webauthn.create",
          requireUserPresence: true,
          requireUserVerification: true,
          supportedAlgorithmIDs: SUPPORTED_ALGORITHM_IDS,
        });
        if (!result.verified) return { error: new Error("attestation statement did not verify") };
        const info = result.registrationInfo;
        const credentialId = info.credential.id;
        if (Buffer.from(credentialId, "base64url").length > MAX_CREDENTIAL_ID_BYTES) {
          return { error: new Error("credential id longer than 1023 bytes") };
        }
        // The id the client reports must be the one inside the signed authenticator data.
        if (json.id !== credentialId || json.rawId !== credentialId) {
          return { error: new Error("credential id does not match the authenticator data") };
        }
        const transports = (Array.isArray(json.response.transports) ? json.response.transports : [])
          .filter((transport): transport is string => typeof transport === "string" && TRANSPORTS.has(transport))
          .slice(0, TRANSPORTS.size);
        return {
          passkey: {
            credentialId,
            publicKey: new Uint8Array(info.credential.publicKey),
            signCount: info.credential.counter,
            transports: [...new Set(transports)],
            aaguid: info.aaguid,
            attestationFormat: info.fmt,
            backupEligible: info.credentialDeviceType === "multiDevice",
            backedUp: info.credentialBackedUp,
          },
        };
      } catch (error) {
        return { error };
      }
    },
  });
}
