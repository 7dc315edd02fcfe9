import { createTokenDigester } from "../accounts/token-digest.ts";
import type { Clock } from "../clock.ts";
import type { Config } from "../config/config.ts";
import { createKeyRingFromConfig } from "../crypto/create-key-ring-from-config.ts";
import { createUserDataKeys } from "../crypto/user-data-keys.ts";
import { type AssertionCeremony, createAssertionCeremony } from "./assertion-ceremony.ts";
import { createPasskeyStore, type PasskeyStore } from "./passkey-store.ts";
import { createRegistrationCeremony, type RegistrationCeremony } from "./registration-ceremony.ts";
import { createWebAuthnChallenges, type WebAuthnChallenges } from "./webauthn-challenges.ts";

/** The passkey domain's building blocks (DESIGN §4.9), built once per process. */
export interface PasskeyServices {
  readonly store: PasskeyStore;
  readonly challenges: WebAuthnChallenges;
  readonly registration: RegistrationCeremony;
  readonly assertion: AssertionCeremony;
}

/**
 * Builds the passkey services over the relying party in `config.webauthn`. Passkey names are
 * sealed under the owner's data key; challenges are stored by keyed digest. Both stores keep no
 * state in memory, so building them here as well as in the account services is equivalent.
 *
 * @example
 * ```ts
 * const passkeys = createPasskeyServices({ config, clock });
 * ```
 */
export function createPasskeyServices(deps: { config: Config; clock: Clock }): PasskeyServices {
  const { config, clock } = deps;
  return Object.freeze({
    store: createPasskeyStore({ dataKeys: createUserDataKeys(createKeyRingFromConfig(config)), clock }),
    challenges: createWebAuthnChallenges({ digests: createTokenDigester(config.secrets.masterKey), clock }),
    registration: createRegistrationCeremony(config.webauthn),
    assertion: createAssertionCeremony(config.webauthn),
  });
}
