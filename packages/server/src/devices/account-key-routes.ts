import { accountKeyFingerprint, CountersignError, fromBase64Url, toBase64Url } from "@countersign/protocol";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { FastifyInstance } from "fastify";
import type { Static } from "typebox";
import type { Queryable } from "../db/database.ts";
import { currentSession } from "../sessions/session-auth-hook.ts";
import {
  type AccountKeyRow,
  accountKeyIdTaken,
  findActiveAccountKey,
  insertAccountKey,
  retireAccountKey,
} from "./account-key-store.ts";
import { auditDeviceEvent } from "./device-audit.ts";
import type { DeviceDeps } from "./device-deps.ts";
import {
  AccountKeyBody,
  AccountKeyInput,
  type AccountKeyView,
  ErrorRef,
  RecoveryBody,
  SESSION_SECURITY,
} from "./device-schemas.ts";
import { requireSessionDevice } from "./device-session.ts";
import { cancelOpenPairings } from "./pairing-store.ts";

/** The public part of a key set, as every route shows it. */
export function accountKeyView(key: AccountKeyRow): Static<typeof AccountKeyView> {
  return {
    id: key.id,
    public_key: toBase64Url(key.publicKey),
    fingerprint: key.fingerprint,
    created_at: key.createdAt.toISOString(),
    has_recovery: key.recoveryWrappedAuk !== null,
  };
}

/** Serializes changes to an account's key set and pairings on the account's row. */
async function lockAccount(q: Queryable, userId: string): Promise<void> {
  const { rowCount } = await q.query("SELECT 1 FROM users WHERE id = $1 FOR UPDATE", [userId]);
  if (rowCount === 0) throw new CountersignError("unauthenticated");
}

/**
 * The account key set (issue 9 parts 2 and 5, DESIGN §4.11): the X25519 key pair agents encrypt
 * context to. The client creates everything (key pair, AUK, recovery secret) and sends only the
 * public key and ciphertexts sealed under keys the server never sees; the server computes the
 * fingerprint people compare, and keeps the creating device's credential bundle.
 */
export function registerAccountKeyRoutes(app: FastifyInstance, deps: DeviceDeps): void {
  const { db, clock, audit, devices } = deps;
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();

  /** Checks and stores a new active key set and this device's bundle for it. */
  const storeKeySet = async (tx: Queryable, userId: string, deviceId: string, body: Static<typeof AccountKeyInput>) => {
    const publicKey = fromBase64Url(body.public_key);
    if (publicKey === null || publicKey.length !== 32) {
      throw new CountersignError("invalid_request", { message: "public_key must be a raw X25519 key, 32 bytes." });
    }
    // An all-zero key is X25519's neutral element: encrypting to it would give away the context.
    if (publicKey.every((byte) => byte === 0)) {
      throw new CountersignError("invalid_request", { message: "public_key is not a usable X25519 key." });
    }
    if (await accountKeyIdTaken(tx, body.id)) {
      throw new CountersignError("invalid_request", { message: "This account key id is taken; pick a new one." });
    }
    const key = await insertAccountKey(tx, {
      id: body.id,
      userId,
      publicKey,
      fingerprint: accountKeyFingerprint(publicKey),
      encryptedPrivateKey: body.encrypted_private_key,
      recoveryWrappedAuk: body.recovery_wrapped_auk ?? null,
      createdAt: new Date(clock.now()),
    });
    await devices.setBundle(tx, deviceId, body.bundle, key.id);
    return key;
  };

  typed.get(
    "/v1/me/account-key",
    {
      config: { surface: "app", auth: "session" },
      schema: {
        tags: ["devices"],
        summary: "The account's active key set (public part), or null",
        security: SESSION_SECURITY,
        response: { 200: AccountKeyBody, 401: ErrorRef },
      },
    },
    async (request) => {
      const key = await findActiveAccountKey(db, currentSession(request).userId);
      return { account_key: key === null ? null : accountKeyView(key) };
    },
  );

  typed.post(
    "/v1/me/account-key",
    {
      config: { surface: "app", auth: "step-up" },
      schema: {
        tags: ["devices"],
        summary: "Create the account key set from this device (needs a fresh passkey confirmation)",
        security: SESSION_SECURITY,
        body: AccountKeyInput,
        response: { 201: AccountKeyBody, 400: ErrorRef, 401: ErrorRef, 403: ErrorRef, 409: ErrorRef },
      },
    },
    async (request, reply) => {
      const session = currentSession(request);
      const body = await db.transaction(async (tx) => {
        await lockAccount(tx, session.userId);
        const device = await requireSessionDevice(tx, devices, session, { lock: true });
        if ((await findActiveAccountKey(tx, session.userId)) !== null) {
          throw new CountersignError("account_key_exists");
        }
        const key = await storeKeySet(tx, session.userId, device.id, request.body);
        await auditDeviceEvent(audit, tx, request, {
          type: "account_key.created",
          userId: session.userId,
          subject: { type: "account_key", id: key.id },
          details: { fingerprint: key.fingerprint, has_recovery: key.recoveryWrappedAuk !== null },
        });
        return { account_key: accountKeyView(key) };
      });
      return reply.code(201).send(body);
    },
  );

  typed.post(
    "/v1/me/account-key/reset",
    {
      config: { surface: "app", auth: "step-up" },
      schema: {
        tags: ["devices"],
        summary:
          "Replace the account key set: retire the active one, drop every device's bundle, store the new set (needs a fresh passkey confirmation)",
        security: SESSION_SECURITY,
        body: AccountKeyInput,
        response: { 201: AccountKeyBody, 400: ErrorRef, 401: ErrorRef, 403: ErrorRef, 409: ErrorRef },
      },
    },
    async (request, reply) => {
      const session = currentSession(request);
      const body = await db.transaction(async (tx) => {
        await lockAccount(tx, session.userId);
        const device = await requireSessionDevice(tx, devices, session, { lock: true });
        const previous = await findActiveAccountKey(tx, session.userId);
        await retireAccountKey(tx, session.userId, new Date(clock.now()));
        // Every bundle wraps the old AUK, and so does any pairing under way.
        const bundlesDropped = await devices.clearBundles(tx, session.userId);
        const pairingsCanceled = await cancelOpenPairings(tx, session.userId);
        const key = await storeKeySet(tx, session.userId, device.id, request.body);
        await auditDeviceEvent(audit, tx, request, {
          type: "account_key.reset",
          userId: session.userId,
          subject: { type: "account_key", id: key.id },
          details: {
            retired_account_key_id: previous?.id ?? null,
            fingerprint: key.fingerprint,
            has_recovery: key.recoveryWrappedAuk !== null,
            bundles_dropped: bundlesDropped,
            pairings_canceled: pairingsCanceled,
          },
        });
        return { account_key: accountKeyView(key) };
      });
      return reply.code(201).send(body);
    },
  );

  typed.get(
    "/v1/me/account-key/recovery",
    {
      config: { surface: "app", auth: "step-up" },
      schema: {
        tags: ["devices"],
        summary:
          "What the recovery secret unlocks: the AUK wrapped under it and the sealed private key (needs a fresh passkey confirmation)",
        security: SESSION_SECURITY,
        response: { 200: RecoveryBody, 401: ErrorRef, 403: ErrorRef, 404: ErrorRef, 409: ErrorRef },
      },
    },
    async (request) => {
      const session = currentSession(request);
      return db.transaction(async (tx) => {
        await requireSessionDevice(tx, devices, session);
        const key = await findActiveAccountKey(tx, session.userId);
        if (key === null || key.recoveryWrappedAuk === null) throw new CountersignError("bundle_not_available");
        await auditDeviceEvent(audit, tx, request, {
          type: "account_key.recovery_read",
          userId: session.userId,
          subject: { type: "account_key", id: key.id },
        });
        return {
          account_key_id: key.id,
          recovery_wrapped_auk: key.recoveryWrappedAuk,
          encrypted_private_key: key.encryptedPrivateKey,
          public_key: toBase64Url(key.publicKey),
        };
      });
    },
  );
}
