import { CountersignError, fromBase64Url } from "@countersign/protocol";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { FastifyInstance } from "fastify";
import { Type } from "typebox";
import { currentSession } from "../sessions/session-auth-hook.ts";
import { clearSessionSetCookie, replaceSessionCookie } from "../sessions/session-cookie.ts";
import { bindSessionDevice, deleteDeviceSessions } from "../sessions/session-store.ts";
import { deviceAttachMessage } from "./device-attach-message.ts";
import { auditDeviceEvent } from "./device-audit.ts";
import type { DeviceDeps } from "./device-deps.ts";
import { normalizeDeviceLabel } from "./device-labels.ts";
import {
  AttachDeviceInput,
  DeviceBody,
  DeviceIdParams,
  DeviceList,
  ErrorRef,
  RegisterDeviceInput,
  SESSION_SECURITY,
} from "./device-schemas.ts";
import { parseDeviceSigningKey, verifyDeviceSignature } from "./device-signing-key.ts";
import { deviceView, loadDeviceViewContext } from "./device-view.ts";
import { cancelOpenPairings } from "./pairing-store.ts";

const invalid = (message: string) => new CountersignError("invalid_request", { message });

/**
 * The account's devices (issue 9 part 1, DESIGN §4.11): register this browser (step-up), attach
 * a later session to it by proving its key, list, revoke (step-up). A device is a browser's
 * non-extractable WebCrypto key pair; the server keeps its public signing key and, later, its
 * credential bundle.
 */
export function registerDeviceRoutes(app: FastifyInstance, deps: DeviceDeps): void {
  const { db, audit, devices, pushSubscriptions } = deps;
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();

  typed.post(
    "/v1/me/devices",
    {
      config: { surface: "app", auth: "step-up" },
      schema: {
        tags: ["devices"],
        summary: "Register this browser as a device and bind the session to it (needs a fresh passkey confirmation)",
        security: SESSION_SECURITY,
        body: RegisterDeviceInput,
        response: { 201: DeviceBody, 400: ErrorRef, 401: ErrorRef, 403: ErrorRef },
      },
    },
    async (request, reply) => {
      const session = currentSession(request);
      const name = normalizeDeviceLabel(request.body.name);
      if (name === null) throw invalid("The device name must be 1 to 64 characters without control characters.");
      const platform = normalizeDeviceLabel(request.body.platform, { allowEmpty: true });
      if (platform === null) throw invalid("The platform must be at most 64 characters without control characters.");
      const raw = fromBase64Url(request.body.public_key);
      const signingPublicKey = raw === null ? null : parseDeviceSigningKey(raw);
      if (signingPublicKey === null) throw invalid("public_key must be an ECDSA P-256 public key (SPKI).");
      const body = await db.transaction(async (tx) => {
        const device = await devices.insert(tx, session.userId, { name, platform, signingPublicKey });
        if (!(await bindSessionDevice(tx, session.userId, session.id, device.id))) {
          throw new CountersignError("unauthenticated");
        }
        const view = await deviceView(devices, tx, device, await loadDeviceViewContext(tx, session.userId, device.id));
        await auditDeviceEvent(audit, tx, request, {
          type: "device.registered",
          userId: session.userId,
          subject: { type: "device", id: device.id },
          details: { device_id: device.id },
        });
        return { device: view };
      });
      return reply.code(201).send(body);
    },
  );

  typed.post(
    "/v1/me/devices/:id/attach",
    {
      config: { surface: "app", auth: "session" },
      schema: {
        tags: ["devices"],
        summary: "Bind this session to a device the browser already holds, proven by a signature with its key",
        security: SESSION_SECURITY,
        params: DeviceIdParams,
        body: AttachDeviceInput,
        response: { 200: DeviceBody, 400: ErrorRef, 401: ErrorRef, 403: ErrorRef, 404: ErrorRef },
      },
    },
    async (request) => {
      const session = currentSession(request);
      const { id } = request.params;
      const signature = fromBase64Url(request.body.signature);
      return db.transaction(async (tx) => {
        const device = await devices.find(tx, session.userId, id, { lock: true });
        if (device === null) throw new CountersignError("device_not_found");
        if (device.revokedAt !== null) throw new CountersignError("device_revoked");
        // The signature names this session's handle: it attaches this session and no other.
        const message = deviceAttachMessage(session.id, device.id);
        if (signature === null || !verifyDeviceSignature(device.signingPublicKey, message, signature)) {
          throw new CountersignError("device_signature_invalid");
        }
        if (!(await bindSessionDevice(tx, session.userId, session.id, device.id))) {
          throw new CountersignError("unauthenticated");
        }
        await devices.touch(tx, device.id);
        const touched = (await devices.find(tx, session.userId, device.id)) ?? device;
        const view = await deviceView(devices, tx, touched, await loadDeviceViewContext(tx, session.userId, device.id));
        await auditDeviceEvent(audit, tx, request, {
          type: "device.attached",
          userId: session.userId,
          subject: { type: "device", id: device.id },
          details: { device_id: device.id },
        });
        return { device: view };
      });
    },
  );

  typed.get(
    "/v1/me/devices",
    {
      config: { surface: "app", auth: "session" },
      schema: {
        tags: ["devices"],
        summary: "The account's devices (not revoked), oldest first, and which one this session is bound to",
        security: SESSION_SECURITY,
        response: { 200: DeviceList, 401: ErrorRef },
      },
    },
    async (request) => {
      const session = currentSession(request);
      const list = await devices.listActive(db, session.userId);
      const keyCache = new Map<string, Uint8Array | null>();
      const context = await loadDeviceViewContext(db, session.userId, session.deviceId);
      const views = [];
      for (const device of list) views.push(await deviceView(devices, db, device, context, keyCache));
      return { devices: views, session_handle: session.id, current_device_id: session.deviceId };
    },
  );

  typed.delete(
    "/v1/me/devices/:id",
    {
      config: { surface: "app", auth: "step-up" },
      schema: {
        tags: ["devices"],
        summary:
          "Revoke a device: drop its bundle, end its sessions and remove its push subscriptions (needs a fresh passkey confirmation)",
        security: SESSION_SECURITY,
        params: DeviceIdParams,
        response: {
          200: Type.Object({ revoked: Type.Literal(true) }, { additionalProperties: false }),
          401: ErrorRef,
          403: ErrorRef,
          404: ErrorRef,
        },
      },
    },
    async (request, reply) => {
      const session = currentSession(request);
      const { id } = request.params;
      await db.transaction(async (tx) => {
        const device = await devices.find(tx, session.userId, id, { lock: true });
        if (device === null || device.revokedAt !== null) throw new CountersignError("device_not_found");
        await devices.revoke(tx, session.userId, id);
        const sessionsEnded = await deleteDeviceSessions(tx, id);
        const subscriptionsRemoved = await pushSubscriptions.removeForDevice(tx, id);
        // A pairing with a revoked device must not go on to hand it (or take from it) the AUK.
        const pairingsCanceled = await cancelOpenPairings(tx, session.userId, { deviceId: id });
        await auditDeviceEvent(audit, tx, request, {
          type: "device.revoked",
          userId: session.userId,
          subject: { type: "device", id },
          details: {
            sessions_ended: sessionsEnded,
            push_subscriptions_removed: subscriptionsRemoved,
            pairings_canceled: pairingsCanceled,
          },
        });
      });
      // This session was one of the device's and has just ended: the browser forgets the cookie.
      if (session.deviceId === id) replaceSessionCookie(reply, clearSessionSetCookie());
      return { revoked: true as const };
    },
  );
}
