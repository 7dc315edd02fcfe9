import { CountersignError, toBase64Url } from "@countersign/protocol";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { FastifyInstance } from "fastify";
import type { Session } from "../sessions/session.ts";
import { currentSession } from "../sessions/session-auth-hook.ts";
import { findActiveAccountKey } from "./account-key-store.ts";
import { auditDeviceEvent } from "./device-audit.ts";
import type { DeviceDeps } from "./device-deps.ts";
import { BundleBody, DeviceBody, ErrorRef, SESSION_SECURITY, StoreBundleInput } from "./device-schemas.ts";
import { requireSessionDevice } from "./device-session.ts";
import { deviceView, loadDeviceViewContext } from "./device-view.ts";

/**
 * Whether the session proved the person with a passkey: it began with a passkey sign-in, or
 * confirmed with one within the step-up window. A session from a password or a recovery code
 * alone does not unlock the bundle (issue 9 part 2: "after passkey sign-in").
 */
export function passkeyProven(session: Pick<Session, "authMethod" | "stepUpAt">, nowMs: number, maxAgeMs: number) {
  if (session.authMethod === "passkey") return true;
  return session.stepUpAt !== null && nowMs - session.stepUpAt.getTime() <= maxAgeMs;
}

/**
 * The current device's credential bundle (issue 9 part 2, DESIGN §4.11): the AUK sealed by the
 * device's own non-extractable wrapping key. It is stored by the device that sealed it and given
 * back only to a session bound to that same device after a passkey sign-in, so a stolen cookie
 * of another browser, or a session without the passkey, never gets it; and even then only that
 * device's WebCrypto key can open it.
 */
export function registerDeviceBundleRoutes(app: FastifyInstance, deps: DeviceDeps): void {
  const { db, clock, audit, devices } = deps;
  const maxAgeMs = deps.stepUpMaxAgeSeconds * 1000;
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();

  typed.put(
    "/v1/me/devices/current/bundle",
    {
      config: { surface: "app", auth: "session" },
      schema: {
        tags: ["devices"],
        summary: "Store this device's credential bundle for the active account key set",
        security: SESSION_SECURITY,
        body: StoreBundleInput,
        response: { 200: DeviceBody, 400: ErrorRef, 401: ErrorRef, 403: ErrorRef, 404: ErrorRef, 409: ErrorRef },
      },
    },
    async (request) => {
      const session = currentSession(request);
      // Storing needs the same passkey proof as reading: otherwise a stolen cookie of this
      // device, or a password-only session, could overwrite the bundle and lock the device out.
      if (!passkeyProven(session, clock.now(), maxAgeMs)) throw new CountersignError("step_up_required");
      return db.transaction(async (tx) => {
        const device = await requireSessionDevice(tx, devices, session, { lock: true });
        const active = await findActiveAccountKey(tx, session.userId);
        if (active === null) throw new CountersignError("account_key_missing");
        // A bundle for a retired set would unlock nothing current: the client must re-fetch.
        if (active.id !== request.body.account_key_id) throw new CountersignError("account_key_changed");
        await devices.setBundle(tx, device.id, request.body.bundle, active.id);
        const stored = (await devices.find(tx, session.userId, device.id)) ?? device;
        const view = await deviceView(devices, tx, stored, await loadDeviceViewContext(tx, session.userId, device.id));
        await auditDeviceEvent(audit, tx, request, {
          type: "device.bundle_stored",
          userId: session.userId,
          subject: { type: "device", id: device.id },
          details: { account_key_id: active.id },
        });
        return { device: view };
      });
    },
  );

  typed.get(
    "/v1/me/devices/current/bundle",
    {
      config: { surface: "app", auth: "session" },
      schema: {
        tags: ["devices"],
        summary: "This device's credential bundle and the sealed account private key, after a passkey sign-in",
        security: SESSION_SECURITY,
        response: { 200: BundleBody, 401: ErrorRef, 403: ErrorRef, 404: ErrorRef, 409: ErrorRef },
      },
    },
    async (request) => {
      const session = currentSession(request);
      if (!passkeyProven(session, clock.now(), maxAgeMs)) throw new CountersignError("bundle_not_available");
      return db.transaction(async (tx) => {
        const device = await requireSessionDevice(tx, devices, session);
        const active = await findActiveAccountKey(tx, session.userId);
        if (active === null || device.bundle === null || device.bundleAccountKeyId !== active.id) {
          throw new CountersignError("bundle_not_available");
        }
        await devices.touch(tx, device.id);
        return {
          bundle: device.bundle,
          account_key: {
            id: active.id,
            public_key: toBase64Url(active.publicKey),
            fingerprint: active.fingerprint,
            encrypted_private_key: active.encryptedPrivateKey,
          },
        };
      });
    },
  );
}
