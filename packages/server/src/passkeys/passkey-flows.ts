import { CountersignError, isCountersignError } from "@countersign/protocol";
import type {
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
} from "@simplewebauthn/server";
import type { AppServices } from "../app-services.ts";
import type { Queryable, Transaction } from "../db/database.ts";
import { credentialIdFromResponse } from "./assertion-ceremony.ts";
import type { NewPasskey, PasskeyRow, PasskeyStore } from "./passkey-store.ts";
import type { RegistrationUser } from "./registration-ceremony.ts";
import { type ChallengeScope, challengeFromResponse } from "./webauthn-challenges.ts";

/**
 * The passkey ceremonies as the routes of both domains run them: a challenge is made and stored
 * with the options, then consumed — once, whatever the outcome — before the response is verified
 * against it. Failures all become `passkey_verification_failed`, with the reason only in
 * the error's cause (the log).
 */

type Deps = Pick<AppServices, "db" | "passkeys" | "auditSink">;

/** Registration options for `user`, excluding the passkeys the account already has. */
export async function beginRegistration(
  services: Pick<AppServices, "passkeys">,
  q: Queryable,
  init: { scope: ChallengeScope; user: RegistrationUser; existingUser: boolean },
): Promise<PublicKeyCredentialCreationOptionsJSON> {
  const { store, challenges, registration } = services.passkeys;
  const existing = init.existingUser ? await store.listActive(q, init.user.id) : [];
  const challenge = await challenges.create(q, init.scope);
  return registration.options({
    user: init.user,
    challenge,
    excludeCredentials: existing.map((passkey) => ({ id: passkey.credentialId, transports: passkey.transports })),
  });
}

/**
 * Consumes the response's challenge in `scope` and verifies the registration (WebAuthn L3 §7.1).
 *
 * @throws CountersignError `passkey_verification_failed` when the challenge is not ours, the
 *   response does not verify, or the credential is already registered (§7.1: an RP must refuse a
 *   credential id registered to anyone).
 */
export async function finishRegistration(
  services: Pick<AppServices, "db" | "passkeys">,
  scope: ChallengeScope,
  response: unknown,
): Promise<NewPasskey> {
  const { store, challenges, registration } = services.passkeys;
  const challenge = challengeFromResponse(response);
  if (challenge === null || !(await challenges.consume(services.db, scope, challenge))) {
    throw new CountersignError("passkey_verification_failed", { cause: new Error("unknown or used challenge") });
  }
  const result = await registration.verify(response, challenge);
  if ("error" in result) throw new CountersignError("passkey_verification_failed", { cause: result.error });
  if ((await store.findByCredentialId(services.db, result.passkey.credentialId)) !== null) {
    throw new CountersignError("passkey_verification_failed", { cause: new Error("credential already registered") });
  }
  return result.passkey;
}

/**
 * Assertion options. With a `userId` (step-up) they list that account's passkeys; without one
 * (sign-in) they list none, so they are the same for everyone.
 */
export async function beginAssertion(
  services: Pick<AppServices, "passkeys">,
  q: Queryable,
  scope: ChallengeScope,
): Promise<PublicKeyCredentialRequestOptionsJSON> {
  const { store, challenges, assertion } = services.passkeys;
  const allowed = scope.userId ? await store.listActive(q, scope.userId) : [];
  const challenge = await challenges.create(q, scope);
  return assertion.options({
    challenge,
    allowCredentials: allowed.map((passkey) => ({ id: passkey.credentialId, transports: passkey.transports })),
  });
}

/** What {@link finishAssertion} reports. */
export type AssertionOutcome<T> =
  | { readonly ok: true; readonly value: T; readonly passkey: PasskeyRow }
  | { readonly ok: false; readonly userId: string | null; readonly error: CountersignError };

/**
 * Consumes the challenge, verifies the assertion (WebAuthn L3 §7.2) by an active passkey — of
 * `scope.userId` when given — and on success runs `onVerified` in the transaction that records
 * the new signature counter and last use. A counter that went backwards flags the passkey and is
 * audited in a transaction of its own, which commits although the ceremony fails.
 */
export async function finishAssertion<T>(
  services: Deps,
  scope: ChallengeScope,
  response: unknown,
  onVerified: (tx: Transaction, passkey: PasskeyRow) => Promise<T>,
): Promise<AssertionOutcome<T>> {
  const { db } = services;
  const { store, challenges, assertion } = services.passkeys;
  const fail = (userId: string | null, cause: unknown): AssertionOutcome<T> => ({
    ok: false,
    userId,
    error: new CountersignError("passkey_verification_failed", { cause }),
  });

  const challenge = challengeFromResponse(response);
  if (challenge === null || !(await challenges.consume(db, scope, challenge))) {
    return fail(scope.userId ?? null, new Error("unknown or used challenge"));
  }
  const credentialId = credentialIdFromResponse(response);
  const passkey = credentialId === null ? null : await store.findByCredentialId(db, credentialId);
  // §7.2 steps 5–6: the credential must be one we know, and the identified user's.
  if (passkey === null || passkey.revokedAt !== null) return fail(scope.userId ?? null, new Error("unknown passkey"));
  if (scope.userId && passkey.userId !== scope.userId)
    return fail(scope.userId, new Error("another account's passkey"));

  const result = await assertion.verify(response, challenge, passkey);
  if (!result.ok) {
    if (result.counterRegressed) await flagClone(services, store, passkey);
    return fail(passkey.userId, result.error);
  }
  try {
    const value = await db.transaction(async (tx) => {
      if (!(await store.recordUse(tx, passkey.id, { signCount: result.signCount, backedUp: result.backedUp }))) {
        throw new CountersignError("passkey_verification_failed", { cause: new Error("counter raced or revoked") });
      }
      return onVerified(tx, passkey);
    });
    return { ok: true, value, passkey };
  } catch (error) {
    if (isCountersignError(error)) return { ok: false, userId: passkey.userId, error };
    throw error;
  }
}

async function flagClone(services: Deps, store: PasskeyStore, passkey: PasskeyRow): Promise<void> {
  await services.db.transaction(async (tx) => {
    await store.flagCounterRegression(tx, passkey.id);
    await services.auditSink.append(tx, {
      type: "passkey.counter_regressed",
      userId: passkey.userId,
      actor: { kind: "system" },
      subject: { kind: "passkey", id: passkey.id },
      context: { stored_sign_count: passkey.signCount },
    });
  });
}

/** A passkey as the API shows it, with its name opened. */
export async function passkeyBody(store: PasskeyStore, q: Queryable, passkey: PasskeyRow) {
  return {
    id: passkey.id,
    name: (await store.readName(q, passkey)) ?? "",
    created_at: passkey.createdAt.toISOString(),
    last_used_at: passkey.lastUsedAt?.toISOString() ?? null,
    backup_eligible: passkey.backupEligible,
    backed_up: passkey.backedUp,
    transports: [...passkey.transports],
    counter_regressed_at: passkey.counterRegressedAt?.toISOString() ?? null,
  };
}

/** Appends `passkey.added` for a new passkey. */
export function auditPasskeyAdded(
  services: Pick<AppServices, "auditSink">,
  tx: Transaction,
  passkey: PasskeyRow,
  how: "signup" | "add" | "recovery",
): Promise<void> {
  return services.auditSink.append(tx, {
    type: "passkey.added",
    userId: passkey.userId,
    actor: { kind: "user", id: passkey.userId },
    subject: { kind: "passkey", id: passkey.id },
    context: { via: how, backup_eligible: passkey.backupEligible },
  });
}
