import { CountersignError } from "@countersign/protocol";
import type { FastifyInstance } from "fastify";
import { Type } from "typebox";
import type { AppServices } from "../app-services.ts";
import { currentSession } from "../sessions/session-auth-hook.ts";
import { passwordCodeMail } from "./account-mail.ts";
import {
  EmailCodeInput,
  EmailInput,
  ErrorRef,
  SESSION_SECURITY,
  TicketInput,
  TicketResponse,
  Timestamp,
} from "./account-schemas.ts";
import { clientFacts } from "./client-facts.ts";
import { EMAIL_CODE_TTL_MS } from "./email-codes.ts";
import { attemptKeys, recordFailedAttempt } from "./failed-attempts.ts";
import { normalizeEmail } from "./normalize-email.ts";
import { sendAccountMail } from "./send-account-mail.ts";

/** Shortest password accepted, in characters (ASVS 5.0 V6.2.1 asks for at least 8; we ask 12). */
export const MIN_PASSWORD_LENGTH = 12;
/** Longest password accepted (ASVS 5.0 V6.2.9 asks that at least 64 be allowed). */
export const MAX_PASSWORD_LENGTH = 256;

const PasswordInput = Type.String({ minLength: 1, maxLength: MAX_PASSWORD_LENGTH });

/**
 * Optional password sign-in (issue 4 part 3), registered only when `COUNTERSIGN_PASSWORD_LOGIN`
 * is true, so the routes answer 404 otherwise. A right password never signs in by itself: it
 * earns a ticket and an emailed code, and only the code opens a session. Argon2id under the
 * configured cost, off the event loop; an unknown address gets a dummy verify of the same cost.
 */
export function registerPasswordRoutes(app: FastifyInstance, services: AppServices): void {
  const { db, accounts, sessions, attemptLimiter, auditSink, mailer } = services;
  const { users, emailCodes, tickets, hasher } = accounts;

  app.post(
    "/v1/auth/password",
    {
      config: { surface: "app", authFloor: true },
      schema: {
        tags: ["accounts"],
        summary: "Check an address and password; mails a code and returns the ticket to send it with",
        description:
          "401 invalid_credentials alike for an unknown address, an account without a password and a wrong one.",
        body: Type.Object({ email: EmailInput, password: PasswordInput }, { additionalProperties: false }),
        response: { 200: TicketResponse, 400: ErrorRef, 401: ErrorRef, 403: ErrorRef, 429: ErrorRef },
      },
    },
    async (request) => {
      const body = request.body as { email: string; password: string };
      const email = normalizeEmail(body.email);
      const password = body.password.normalize("NFC");
      const keys = attemptKeys("sign-in.password", email ?? body.email, request.ip);
      await attemptLimiter.assertAllowed(db, keys);
      const emailIndex = email === null ? null : users.emailIndex(email);
      const user = emailIndex === null ? null : await users.findByEmailIndex(db, emailIndex);
      const hash = user !== null && user.status === "active" ? user.passwordHash : null;
      // The same Argon2id work whether or not there is a hash to check.
      const ok = hash === null ? await hasher.verifyDummy(password) : await hasher.verify(hash, password);
      if (!ok || user === null || email === null || emailIndex === null) {
        await recordFailedAttempt(services, keys, user?.id ?? null);
        throw new CountersignError("invalid_credentials");
      }
      const rehash = hasher.needsRehash(hash as string) ? await hasher.hash(password) : null;
      const issued = await db.transaction(async (tx) => {
        const ticket = await tickets.issue(tx, { purpose: "password-2fa", userId: user.id, emailIndex });
        const code = await emailCodes.issue(tx, { purpose: "password-2fa", subject: ticket.digest }, user.id);
        if (rehash !== null) await users.setPasswordHash(tx, user.id, rehash);
        return { ...ticket, code };
      });
      await attemptLimiter.reset(db, keys.slice(0, 1));
      sendAccountMail(mailer, request.log, email, passwordCodeMail(issued.code, EMAIL_CODE_TTL_MS / 60_000));
      return { ticket: issued.ticket, expires_at: issued.expiresAt.toISOString() };
    },
  );

  app.post(
    "/v1/auth/password/verify",
    {
      config: { surface: "app", authFloor: true },
      schema: {
        tags: ["accounts"],
        summary: "Send the emailed code with the ticket; signs in",
        body: Type.Object({ ticket: TicketInput, code: EmailCodeInput }, { additionalProperties: false }),
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
      const body = request.body as { ticket: string; code: string };
      const row = await tickets.find(db, "password-2fa", body.ticket);
      const keys = attemptKeys("sign-in.password-code", row?.userId ?? null, request.ip);
      await attemptLimiter.assertAllowed(db, keys);
      const facts = clientFacts(request);
      const session =
        row === null
          ? null
          : await db.transaction(async (tx) => {
              if (!(await emailCodes.consume(tx, { purpose: "password-2fa", subject: row.digest }, body.code))) {
                return null;
              }
              const ticket = await tickets.consume(tx, "password-2fa", body.ticket);
              const user = ticket === null ? null : await users.findById(tx, ticket.userId);
              if (user === null || user.status !== "active" || user.passwordHash === null) {
                throw new CountersignError("code_invalid");
              }
              const started = await sessions.start(tx, reply, {
                userId: user.id,
                authMethod: "password",
                userVerifiedAt: null,
                ...facts,
              });
              await auditSink.append(tx, {
                type: "auth.signed_in",
                userId: user.id,
                actor: { kind: "user", id: user.id },
                subject: { kind: "user", id: user.id },
                context: { method: "password", ...facts },
              });
              return started;
            });
      if (session === null) {
        await recordFailedAttempt(services, keys, row?.userId ?? null);
        throw new CountersignError("code_invalid");
      }
      await attemptLimiter.reset(db, keys.slice(0, 1));
      return { user: { id: session.userId }, session: { expires_at: session.expiresAt.toISOString() } };
    },
  );

  app.put(
    "/v1/account/password",
    {
      config: { surface: "app", auth: "step-up" },
      schema: {
        tags: ["accounts"],
        summary: "Set or change the account's password (needs a fresh passkey confirmation)",
        security: SESSION_SECURITY,
        body: Type.Object({ password: PasswordInput }, { additionalProperties: false }),
        response: { 204: Type.Null(), 400: ErrorRef, 401: ErrorRef, 403: ErrorRef },
      },
    },
    async (request, reply) => {
      const { userId } = currentSession(request);
      const password = (request.body as { password: string }).password.normalize("NFC");
      const length = [...password].length;
      if (length < MIN_PASSWORD_LENGTH || length > MAX_PASSWORD_LENGTH) {
        throw new CountersignError("validation_failed", {
          details: {
            in: "body",
            issues: [
              { path: "/password", message: `must be ${MIN_PASSWORD_LENGTH} to ${MAX_PASSWORD_LENGTH} characters` },
            ],
          },
        });
      }
      const hash = await hasher.hash(password);
      await db.transaction(async (tx) => {
        await users.setPasswordHash(tx, userId, hash);
        await auditSink.append(tx, {
          type: "password.set",
          userId,
          actor: { kind: "user", id: userId },
          subject: { kind: "user", id: userId },
          context: clientFacts(request),
        });
      });
      return reply.code(204).send();
    },
  );

  app.delete(
    "/v1/account/password",
    {
      config: { surface: "app", auth: "step-up" },
      schema: {
        tags: ["accounts"],
        summary: "Remove the account's password: passkeys only again",
        security: SESSION_SECURITY,
        response: { 204: Type.Null(), 401: ErrorRef, 403: ErrorRef },
      },
    },
    async (request, reply) => {
      const { userId } = currentSession(request);
      await db.transaction(async (tx) => {
        await users.setPasswordHash(tx, userId, null);
        await auditSink.append(tx, {
          type: "password.removed",
          userId,
          actor: { kind: "user", id: userId },
          subject: { kind: "user", id: userId },
          context: clientFacts(request),
        });
      });
      return reply.code(204).send();
    },
  );
}
