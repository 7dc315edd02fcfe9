import { CountersignError } from "@countersign/protocol";
import type { FastifyInstance } from "fastify";
import { Type } from "typebox";
import type { AppServices } from "../app-services.ts";
import { auditPasskeyAdded, beginRegistration, finishRegistration, passkeyBody } from "../passkeys/passkey-flows.ts";
import { recoveredMail, recoveryCodeMail } from "./account-mail.ts";
import {
  CredentialInput,
  EmailCodeInput,
  EmailInput,
  ErrorRef,
  PasskeyBody,
  PasskeyNameInput,
  SentResponse,
  TicketInput,
  Timestamp,
  WebAuthnOptions,
} from "./account-schemas.ts";
import { clientFacts } from "./client-facts.ts";
import { EMAIL_CODE_TTL_MS } from "./email-codes.ts";
import { attemptKeys, recordFailedAttempt } from "./failed-attempts.ts";
import { normalizeEmail } from "./normalize-email.ts";
import { passkeyName, requireEmail, SENT_BODY, ticketInvalid } from "./route-inputs.ts";
import { sendAccountMail } from "./send-account-mail.ts";

/**
 * Account recovery (issue 4 part 8; DESIGN §2 D-3): an emailed code plus one recovery code lets
 * the person register a new passkey. Finishing it ends every other session, is audited, and is
 * announced by mail. Each step takes the minimum response time and costs the same for an
 * unknown address (one Argon2id verify, real or dummy).
 */
export function registerRecoveryRoutes(app: FastifyInstance, services: AppServices): void {
  const { db, clock, accounts, passkeys, sessions, attemptLimiter, auditSink, mailer } = services;
  const { users, emailCodes, tickets, recoveryCodes } = accounts;

  app.post(
    "/v1/auth/recovery/start",
    {
      config: { surface: "app", authFloor: true },
      schema: {
        tags: ["accounts"],
        summary: "Start a recovery: mail a 6-digit code to the account's address",
        description: "Always answers 202 with the same body, whether or not the address has an account.",
        body: Type.Object({ email: EmailInput }, { additionalProperties: false }),
        response: { 202: SentResponse, 400: ErrorRef, 403: ErrorRef, 429: ErrorRef },
      },
    },
    async (request, reply) => {
      const email = requireEmail((request.body as { email: string }).email);
      const keys = attemptKeys("recovery.mail", email, request.ip);
      await attemptLimiter.assertAllowed(db, keys);
      const emailIndex = users.emailIndex(email);
      const user = await users.findByEmailIndex(db, emailIndex);
      await attemptLimiter.recordFailure(db, keys);
      if (user !== null && user.status === "active") {
        const code = await emailCodes.issue(db, { purpose: "recovery", subject: emailIndex }, user.id);
        sendAccountMail(mailer, request.log, email, recoveryCodeMail(code, EMAIL_CODE_TTL_MS / 60_000));
      }
      return reply.code(202).send(SENT_BODY);
    },
  );

  app.post(
    "/v1/auth/recovery/verify",
    {
      config: { surface: "app", authFloor: true },
      schema: {
        tags: ["accounts"],
        summary: "Check the emailed code and one recovery code; returns a ticket to register a new passkey",
        description:
          "Both must be right in the same attempt; a wrong pair counts one try against the emailed code (5 tries). " +
          "The recovery code is used up on success.",
        body: Type.Object(
          { email: EmailInput, code: EmailCodeInput, recovery_code: Type.String({ minLength: 1, maxLength: 64 }) },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object(
            { ticket: Type.String(), expires_at: Timestamp, recovery_codes_remaining: Type.Integer({ minimum: 0 }) },
            { additionalProperties: false },
          ),
          400: ErrorRef,
          403: ErrorRef,
          429: ErrorRef,
        },
      },
    },
    async (request) => {
      const body = request.body as { email: string; code: string; recovery_code: string };
      const email = normalizeEmail(body.email);
      const keys = attemptKeys("recovery.verify", email ?? body.email, request.ip);
      await attemptLimiter.assertAllowed(db, keys);
      const emailIndex = email === null ? null : users.emailIndex(email);
      const found = emailIndex === null ? null : await users.findByEmailIndex(db, emailIndex);
      const user = found !== null && found.status === "active" ? found : null;
      // Exactly one Argon2id verify, against the account's code or the dummy hash.
      const lookup = await recoveryCodes.check(db, user?.id ?? null, body.recovery_code);
      const result =
        emailIndex === null
          ? null
          : await db.transaction(async (tx) => {
              // A right email code with a wrong recovery code is a failed attempt at the pair.
              const ok = await emailCodes.consume(
                tx,
                { purpose: "recovery", subject: emailIndex },
                body.code,
                lookup !== null,
              );
              if (!ok || user === null || lookup === null) return null;
              // Conditional UPDATE: of two concurrent uses of one recovery code, one wins.
              if (!(await recoveryCodes.markUsed(tx, user.id, lookup))) throw new CountersignError("recovery_failed");
              await auditSink.append(tx, {
                type: "recovery_code.used",
                userId: user.id,
                actor: { kind: "user", id: user.id },
                subject: { kind: "user", id: user.id },
                context: clientFacts(request),
              });
              const issued = await tickets.issue(tx, { purpose: "recovery", userId: user.id, emailIndex });
              return { ...issued, remaining: await recoveryCodes.remaining(tx, user.id) };
            });
      if (result === null) {
        await recordFailedAttempt(services, keys, user?.id ?? null);
        throw new CountersignError("recovery_failed");
      }
      await attemptLimiter.reset(db, keys.slice(0, 1));
      return {
        ticket: result.ticket,
        expires_at: result.expiresAt.toISOString(),
        recovery_codes_remaining: result.remaining,
      };
    },
  );

  app.post(
    "/v1/auth/recovery/passkey/options",
    {
      config: { surface: "app", authFloor: true },
      schema: {
        tags: ["accounts"],
        summary: "WebAuthn creation options for the new passkey of a recovery",
        body: Type.Object({ ticket: TicketInput }, { additionalProperties: false }),
        response: { 200: WebAuthnOptions, 400: ErrorRef, 403: ErrorRef },
      },
    },
    async (request) => {
      const row = await tickets.find(db, "recovery", (request.body as { ticket: string }).ticket);
      const user = row === null ? null : await users.findById(db, row.userId);
      const email = user === null ? null : await users.readEmail(db, user);
      if (row === null || user === null || email === null) throw ticketInvalid();
      return beginRegistration(services, db, {
        scope: { purpose: "recovery", userId: user.id, binding: row.digest },
        user: { id: user.id, name: email },
        existingUser: true,
      });
    },
  );

  app.post(
    "/v1/auth/recovery/passkey/verify",
    {
      config: { surface: "app", authFloor: true },
      schema: {
        tags: ["accounts"],
        summary: "Register the new passkey; ends every other session and signs this one in",
        body: Type.Object(
          { ticket: TicketInput, credential: CredentialInput, name: Type.Optional(PasskeyNameInput) },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object(
            {
              user: Type.Object({ id: Type.String() }, { additionalProperties: false }),
              passkey: PasskeyBody,
              sessions_ended: Type.Integer({ minimum: 0 }),
              session: Type.Object({ expires_at: Timestamp }, { additionalProperties: false }),
            },
            { additionalProperties: false },
          ),
          400: ErrorRef,
          403: ErrorRef,
        },
      },
    },
    async (request, reply) => {
      const body = request.body as { ticket: string; credential: unknown; name?: string };
      const name = passkeyName(body.name);
      const row = await tickets.find(db, "recovery", body.ticket);
      if (row === null) throw ticketInvalid();
      const verified = await finishRegistration(
        services,
        { purpose: "recovery", userId: row.userId, binding: row.digest },
        body.credential,
      );
      const facts = clientFacts(request);
      const result = await db.transaction(async (tx) => {
        const ticket = await tickets.consume(tx, "recovery", body.ticket);
        const user = ticket === null ? null : await users.findById(tx, ticket.userId, { lock: true });
        if (user === null || user.status !== "active") throw ticketInvalid();
        const passkey = await passkeys.store.insert(tx, user.id, verified, name);
        // Whoever else holds a session (perhaps whoever took the lost device) is signed out.
        const ended = await sessions.revokeAll(tx, user.id);
        const session = await sessions.start(tx, reply, {
          userId: user.id,
          authMethod: "recovery",
          userVerifiedAt: new Date(clock.now()),
          ...facts,
        });
        const actor = { kind: "user" as const, id: user.id };
        await auditPasskeyAdded(services, tx, passkey, "recovery");
        await auditSink.append(tx, {
          type: "session.revoked_all",
          userId: user.id,
          actor,
          subject: { kind: "user", id: user.id },
          context: { reason: "recovery", sessions_ended: ended },
        });
        await auditSink.append(tx, {
          type: "account.recovered",
          userId: user.id,
          actor,
          subject: { kind: "user", id: user.id },
          context: { passkey_id: passkey.id, sessions_ended: ended, ...facts },
        });
        return {
          user,
          ended,
          session,
          email: await users.readEmail(tx, user),
          passkey: await passkeyBody(passkeys.store, tx, passkey),
        };
      });
      if (result.email !== null) sendAccountMail(mailer, request.log, result.email, recoveredMail());
      return {
        user: { id: result.user.id },
        passkey: result.passkey,
        sessions_ended: result.ended,
        session: { expires_at: result.session.expiresAt.toISOString() },
      };
    },
  );
}
