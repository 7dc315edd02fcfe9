import { CountersignError, fromBase64Url, toBase64Url } from "@countersign/protocol";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { FastifyInstance } from "fastify";
import { currentSession } from "../sessions/session-auth-hook.ts";
import type { DeviceDeps } from "./device-deps.ts";
import {
  ConfirmPairingInput,
  ErrorRef,
  FailPairingInput,
  JoinPairingInput,
  OpenPairingBody,
  PairingBody,
  PairingIdParams,
  SESSION_SECURITY,
  StartedPairingBody,
  StartPairingInput,
} from "./device-schemas.ts";
import { MAX_PAIRINGS_PER_HOUR, type PairingRelay, pairingView } from "./pairing-relay.ts";

/** Decodes a CPace value; the schema bounds its length, this its bytes. */
function bytesOf(value: string, what: string, min: number, max: number): Uint8Array {
  const bytes = fromBase64Url(value);
  if (bytes === null || bytes.length < min || bytes.length > max) {
    throw new CountersignError("pairing_message_invalid", {
      message: `${what} must be base64url of ${min} to ${max} bytes.`,
    });
  }
  return bytes;
}

const message = (value: string) => bytesOf(value, "message", 32, 1024);
const tag = (value: string) => bytesOf(value, "tag", 16, 64);
const wrapped = (row: Parameters<typeof pairingView>[0]) => ({ pairing: pairingView(row) });

/**
 * The pairing relay's routes (issue 9 part 3): an enrolled device starts, the new device finds
 * and joins the open pairing, both poll it, the initiator confirms with the sealed AUK, the new
 * device completes once it stored its own bundle; either may fail it. See {@link PairingRelay}
 * for the rules.
 */
export function registerPairingRoutes(app: FastifyInstance, deps: DeviceDeps, relay: PairingRelay): void {
  const { db } = deps;
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();
  const common = { tags: ["pairing"], security: SESSION_SECURITY };
  const errors = { 400: ErrorRef, 401: ErrorRef, 403: ErrorRef, 404: ErrorRef, 409: ErrorRef, 410: ErrorRef };

  typed.post(
    "/v1/me/pairings",
    {
      config: { surface: "app", auth: "session" },
      schema: {
        ...common,
        summary: `Start pairing a new device from this enrolled one with CPace's first message (at most ${MAX_PAIRINGS_PER_HOUR} an hour)`,
        body: StartPairingInput,
        response: { 201: StartedPairingBody, ...errors, 429: ErrorRef },
      },
    },
    async (request, reply) => {
      const sid = bytesOf(request.body.sid, "sid", 16, 16);
      const row = await relay.start(request, currentSession(request), sid, message(request.body.message));
      return reply.code(201).send({
        pairing: { id: row.id, sid: toBase64Url(row.sid), state: row.state, expires_at: row.expiresAt.toISOString() },
      });
    },
  );

  typed.get(
    "/v1/me/pairings/open",
    {
      config: { surface: "app", auth: "session" },
      schema: {
        ...common,
        summary: "The account's newest pairing waiting for a device to join",
        response: { 200: OpenPairingBody, 401: ErrorRef, 404: ErrorRef },
      },
    },
    async (request) => {
      const row = await relay.open(db, currentSession(request));
      if (row === null) throw new CountersignError("pairing_not_found");
      return {
        pairing: {
          id: row.id,
          sid: toBase64Url(row.sid),
          initiator_device_id: row.initiatorDeviceId,
          initiator_message: toBase64Url(row.initiatorMessage),
          expires_at: row.expiresAt.toISOString(),
        },
      };
    },
  );

  typed.post(
    "/v1/me/pairings/:id/join",
    {
      config: { surface: "app", auth: "session" },
      schema: {
        ...common,
        summary: "Join a waiting pairing with CPace's answer and its confirmation tag (one join per pairing)",
        params: PairingIdParams,
        body: JoinPairingInput,
        response: { 200: PairingBody, ...errors },
      },
    },
    async (request) => {
      const { body } = request;
      const row = await relay.join(
        request,
        currentSession(request),
        request.params.id,
        message(body.message),
        tag(body.tag),
      );
      return wrapped(row);
    },
  );

  typed.get(
    "/v1/me/pairings/:id",
    {
      config: { surface: "app", auth: "session" },
      schema: {
        ...common,
        summary: "A pairing's state, for its two devices",
        params: PairingIdParams,
        response: { 200: PairingBody, ...errors },
      },
    },
    async (request) => wrapped(await relay.read(currentSession(request), request.params.id)),
  );

  typed.post(
    "/v1/me/pairings/:id/confirm",
    {
      config: { surface: "app", auth: "session" },
      schema: {
        ...common,
        summary: "The initiator's confirmation tag and the AUK sealed under the CPace-derived key",
        params: PairingIdParams,
        body: ConfirmPairingInput,
        response: { 200: PairingBody, ...errors },
      },
    },
    async (request) => {
      const { body } = request;
      const session = currentSession(request);
      return wrapped(await relay.confirm(request, session, request.params.id, tag(body.tag), body.sealed_auk));
    },
  );

  typed.post(
    "/v1/me/pairings/:id/fail",
    {
      config: { surface: "app", auth: "session" },
      schema: {
        ...common,
        summary: "End a pairing: a confirmation tag that did not verify, or a cancel (audited)",
        params: PairingIdParams,
        body: FailPairingInput,
        response: { 200: PairingBody, ...errors },
      },
    },
    async (request) =>
      wrapped(await relay.fail(request, currentSession(request), request.params.id, request.body.reason)),
  );

  typed.post(
    "/v1/me/pairings/:id/complete",
    {
      config: { surface: "app", auth: "session" },
      schema: {
        ...common,
        summary: "The new device stored its own bundle: the pairing is done and its secrets forgotten",
        params: PairingIdParams,
        response: { 200: PairingBody, ...errors },
      },
    },
    async (request) => wrapped(await relay.complete(request, currentSession(request), request.params.id)),
  );
}
