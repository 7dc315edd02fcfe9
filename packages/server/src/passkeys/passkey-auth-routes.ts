import { CountersignError } from "@countersign/protocol";
import type { FastifyInstance } from "fastify";
import { Type } from "typebox";
import {
  CredentialInput,
  ErrorRef,
  SESSION_SECURITY,
  Timestamp,
  WebAuthnOptions,
} from "../accounts/account-schemas.ts";
import { clientFacts } from "../accounts/client-facts.ts";
import { attemptKeys, recordFailedAttempt } from "../accounts/failed-attempts.ts";
import type { AppServices } from "../app-services.ts";
import { currentSession } from "../sessions/session-auth-hook.ts";
import { beginAssertion, finishAssertion } from "./passkey-flows.ts";

/**
 * Passkey sign-in and step-up (issue 4 part 2). Sign-in is discoverable: the options name no
 * account and list no credential, so they are identical for everyone, and the passkey
 * itself says whose it is (its user handle). Step-up is a fresh user-verified assertion by one
 * of the signed-in account's passkeys; it satisfies `config.auth: "step-up"` for
 * `config.auth.stepUpMaxAgeSeconds` (5 minutes).
 */
export function registerPasskeyAuthRoutes(app: FastifyInstance, services: AppServices): void {
  const { db, clock, sessions, attemptLimiter, auditSink, accounts } = services;

  app.post(
    "/v1/auth/passkey/options",
    {
      config: { surface: "app", authFloor: true },
      schema: {
        tags: ["passkeys"],
        summary: "WebAuthn request options for signing in with a passkey (no username)",
        response: { 200: WebAuthnOptions, 403: ErrorRef },
      },
    },
    async () => beginAssertion(services, db, { purpose: "sign-in" }),
  );

  app.post(
    "/v1/auth/passkey/verify",
    {
      config: { surface: "app", authFloor: true },
      schema: {
        tags: ["passkeys"],
        summary: "Sign in with a passkey assertion; starts a session",
        body: Type.Object({ credential: CredentialInput }, { additionalProperties: false }),
        response: {
          200: Type.Object(
            {
              user: Type.Object({ id: Type.String() }, { additionalProperties: false }),
              session: Type.Object({ expires_at: Timestamp }, { additionalProperties: false }),
            },
            { additionalProperties: false },
          ),
          400: ErrorRef,
          403: ErrorRef,
          429: ErrorRef,
        },
      },
    },
    async (request, reply) => {
      const keys = attemptKeys("sign-in.passkey", null, request.ip);
      await attemptLimiter.assertAllowed(db, keys);
      const facts = clientFacts(request);
      const outcome = await finishAssertion(
        services,
        { purpose: "sign-in" },
        (request.body as { credential: unknown }).credential,
        async (tx, passkey) => {
          const user = await accounts.users.findById(tx, passkey.userId);
          if (user === null || user.status !== "active") throw new CountersignError("passkey_verification_failed");
          const session = await sessions.start(tx, reply, {
            userId: user.id,
            authMethod: "passkey",
            userVerifiedAt: new Date(clock.now()),
            ...facts,
          });
          await auditSink.append(tx, {
            type: "auth.signed_in",
            userId: user.id,
            actor: { kind: "user", id: user.id },
            subject: { kind: "passkey", id: passkey.id },
            context: { method: "passkey", ...facts },
          });
          return session;
        },
      );
      if (!outcome.ok) {
        await recordFailedAttempt(services, keys, outcome.userId);
        throw outcome.error;
      }
      return { user: { id: outcome.value.userId }, session: { expires_at: outcome.value.expiresAt.toISOString() } };
    },
  );

  app.post(
    "/v1/auth/step-up/options",
    {
      config: { surface: "app", auth: "session", authFloor: true },
      schema: {
        tags: ["passkeys"],
        summary: "WebAuthn request options to confirm a sensitive operation with a passkey",
        security: SESSION_SECURITY,
        response: { 200: WebAuthnOptions, 401: ErrorRef, 403: ErrorRef },
      },
    },
    async (request) => {
      const session = currentSession(request);
      return beginAssertion(services, db, { purpose: "step-up", userId: session.userId, binding: session.id });
    },
  );

  app.post(
    "/v1/auth/step-up/verify",
    {
      config: { surface: "app", auth: "session", authFloor: true },
      schema: {
        tags: ["passkeys"],
        summary: "Confirm with a passkey; sensitive operations are allowed for the next 5 minutes",
        security: SESSION_SECURITY,
        body: Type.Object({ credential: CredentialInput }, { additionalProperties: false }),
        response: {
          200: Type.Object({ step_up_at: Timestamp }, { additionalProperties: false }),
          400: ErrorRef,
          401: ErrorRef,
          403: ErrorRef,
          429: ErrorRef,
        },
      },
    },
    async (request) => {
      const session = currentSession(request);
      const keys = attemptKeys("step-up.passkey", session.userId, request.ip);
      await attemptLimiter.assertAllowed(db, keys);
      const outcome = await finishAssertion(
        services,
        // Bound to this session: a challenge fetched by one session cannot step another up.
        { purpose: "step-up", userId: session.userId, binding: session.id },
        (request.body as { credential: unknown }).credential,
        async (tx, passkey) => {
          const at = new Date(clock.now());
          await sessions.markStepUp(tx, session.id, at);
          await auditSink.append(tx, {
            type: "auth.stepped_up",
            userId: session.userId,
            actor: { kind: "user", id: session.userId },
            subject: { kind: "passkey", id: passkey.id },
            context: { session_id: session.id },
          });
          return at;
        },
      );
      if (!outcome.ok) {
        await recordFailedAttempt(services, keys, session.userId);
        throw outcome.error;
      }
      return { step_up_at: outcome.value.toISOString() };
    },
  );
}
