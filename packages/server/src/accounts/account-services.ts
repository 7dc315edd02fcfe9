import type { Clock } from "../clock.ts";
import type { Config } from "../config/config.ts";
import { createBlindIndexer } from "../crypto/blind-index.ts";
import { createKeyRingFromConfig } from "../crypto/create-key-ring-from-config.ts";
import { createUserDataKeys, type UserDataKeys } from "../crypto/user-data-keys.ts";
import { type AuthTickets, createAuthTickets } from "./auth-tickets.ts";
import { createEmailCodes, type EmailCodes } from "./email-codes.ts";
import { createPasswordHasher, type PasswordHasher } from "./password-hasher.ts";
import { createRecoveryCodes, type RecoveryCodes } from "./recovery-codes.ts";
import { createTokenDigester, type TokenDigester } from "./token-digest.ts";
import { createUserStore, type UserStore } from "./user-store.ts";

/** The account domain's building blocks (DESIGN §4.9), built once per process. */
export interface AccountServices {
  readonly users: UserStore;
  readonly emailCodes: EmailCodes;
  readonly tickets: AuthTickets;
  readonly recoveryCodes: RecoveryCodes;
  /** Argon2id under `config.auth.argon2`, for passwords and recovery codes. */
  readonly hasher: PasswordHasher;
  /** Keyed digests of codes, tickets and challenges (shared with the passkey domain). */
  readonly digests: TokenDigester;
  /** Per-user data keys that seal addresses and passkey names (shared with the passkey domain). */
  readonly dataKeys: UserDataKeys;
}

/**
 * Builds the account services from the configuration: the key ring and the derived keys are
 * checked here, at start-up, not per request.
 *
 * @example
 * ```ts
 * const accounts = createAccountServices({ config, clock });
 * ```
 */
export function createAccountServices(deps: { config: Config; clock: Clock }): AccountServices {
  const { config, clock } = deps;
  const digests = createTokenDigester(config.secrets.masterKey);
  const dataKeys = createUserDataKeys(createKeyRingFromConfig(config));
  const hasher = createPasswordHasher(config.auth.argon2);
  return Object.freeze({
    users: createUserStore({ dataKeys, indexer: createBlindIndexer(config.secrets.masterKey), clock }),
    emailCodes: createEmailCodes({ digests, clock }),
    tickets: createAuthTickets({ digests, clock }),
    recoveryCodes: createRecoveryCodes({ hasher, digests, clock }),
    hasher,
    digests,
    dataKeys,
  });
}
