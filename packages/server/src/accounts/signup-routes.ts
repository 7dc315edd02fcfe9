import { CountersignError } from "@countersign/protocol";
import type { FastifyInstance } from "fastify";
import { Type } from "typebox";
import type { AppServices } from "../app-services.ts";
import { auditPasskeyAdded, beginRegistration, finishRegistration, passkeyBody } from "../passkeys/passkey-flows.ts";
import { alreadyRegisteredMail, signupCodeMail } from "./account-mail.ts";
import {
  CredentialInput,
  EmailCodeInput,
  EmailInput,
  ErrorRef,
  PasskeyBody,
  PasskeyNameInput,
  SentResponse,
  TicketInput,
  TicketResponse,
  Timestamp,
  WebAuthnOptions,
} from "./account-schemas.ts";
import { clientFacts } from "./client-facts.ts";
import { EMAIL_CODE_TTL_MS } from "./email-codes.ts";
import { attemptKeys, recordFailedAttempt } from "./failed-attempts.ts";
import { normalizeEmail } from "./normalize-email.ts";
import { passkeyName, requireEmail, SENT_BODY, ticketInvalid } from "./route-inputs.ts";
import { sendAccountMail } from "./send-account-mail.ts";

const CODE_MINUTES = EMAIL_CODE_TTL_MS / 60_000;

/**
 * Sign-up (issue 4 part 1; DESIGN §4.9): address → emailed 6-digit code → ticket → first passkey
 * (discoverable, user-verified) → account, session and ten recovery codes, shown once. Every
 * step takes the minimum response time (`authFloor`) and answers the same for an address that
 * already has an account as for one that has none.
 */
export function registerSignupRoutes(app: FastifyInstance, services: AppServices): void {
  const { db, clock, accounts, passkeys, sessions, attemptLimiter, auditSink, mailer } = services;
  const { users, emailCodes, tickets, recoveryCodes } = accounts;

  app.post(
    "/v1/auth/signup/start",
    {
      config: { surface: "app", authFloor: true },
      schema: {
        tags: ["accounts"],
        summary: "Start a sign-up: mail a 6-digit code to the address",
        description:
          "Always answers 202 with the same body. A new address gets a code (10 minutes, 5 tries); an address " +
          "that already has an account gets a notice instead, so the answer reveals nothing.",
        body: Type.Object({ email: EmailInput }, { additionalProperties: false }),
        response: { 202: SentResponse, 400: ErrorRef, 403: ErrorRef, 429: ErrorRef },
      },
    },
    async (request, reply) => {
      const email = requireEmail((request.body as { email: string }).email);
      // Each mail is counted like a failure so one address, or one client, cannot be flooded.
      const keys = attemptKeys("sign-up.mail", email, request.ip);
      await attemptLimiter.assertAllowed(db, keys);
      const emailIndex = users.emailIndex(email);
      const existing = await users.findByEmailIndex(db, emailIndex);
      const content =
        existing === null
          ? signupCodeMail(await emailCodes.issue(db, { purpose: "signup", subject: emailIndex }, null), CODE_MINUTES)
          : alreadyRegisteredMail();
      await attemptLimiter.recordFailure(db, keys);
      sendAccountMail(mailer, request.log, email, content);
      return reply.code(202).send(SENT_BODY);
    },
  );

  app.post(
    "/v1/auth/signup/verify",
    {
      config: { surface: "app", authFloor: true },
      schema: {
        tags: ["accounts"],
        summary: "Check the sign-up code; returns a ticket to register the first passkey",
        body: Type.Object({ email: EmailInput, code: EmailCodeInput }, { additionalProperties: false }),
        response: { 200: TicketResponse, 400: ErrorRef, 403: ErrorRef, 429: ErrorRef },
      },
    },
    async (request) => {
      const body = request.body as { email: string; code: string };
      const email = normalizeEmail(body.email);
      const keys = attemptKeys("sign-up.code", email ?? body.email, request.ip);
      await attemptLimiter.assertAllowed(db, keys);
      const emailIndex = email === null ? null : users.emailIndex(email);
      const issued =
        email === null || emailIndex === null
          ? null
          : await db.transaction(async (tx) => {
              if (!(await emailCodes.consume(tx, { purpose: "signup", subject: emailIndex }, body.code))) return null;
              // The account's id is chosen now so the address can be sealed for its final place.
              const userId = users.newUserId();
              const sealed = await users.sealEmail(tx, userId, email);
              return tickets.issue(tx, { purpose: "signup", userId, emailIndex, email: sealed });
            });
      if (issued === null) {
        await recordFailedAttempt(services, keys, null);
        throw new CountersignError("code_invalid");
      }
      await attemptLimiter.reset(db, keys.slice(0, 1));
      return { ticket: issued.ticket, expires_at: issued.expiresAt.toISOString() };
    },
  );

  app.post(
    "/v1/auth/signup/passkey/options",
    {
      config: { surface: "app", authFloor: true },
      schema: {
        tags: ["accounts"],
        summary: "WebAuthn creation options for the first passkey",
        body: Type.Object({ ticket: TicketInput }, { additionalProperties: false }),
        response: { 200: WebAuthnOptions, 400: ErrorRef, 403: ErrorRef },
      },
    },
    async (request) => {
      const row = await tickets.find(db, "signup", (request.body as { ticket: string }).ticket);
      const email = row?.email ? await users.readEmail(db, { id: row.userId, email: row.email }) : null;
      if (row === null || email === null) throw ticketInvalid();
      return beginRegistration(services, db, {
        scope: { purpose: "signup", binding: row.digest },
        user: { id: row.userId, name: email },
        existingUser: false,
      });
    },
  );

  app.post(
    "/v1/auth/signup/passkey/verify",
    {
      config: { surface: "app", authFloor: true },
      schema: {
        tags: ["accounts"],
        summary: "Register the first passkey; creates the account, a session and the recovery codes",
        description:
          "The ten recovery codes are in this response and nowhere else, ever: the app must show them once and " +
          "ask the person to keep them.",
        body: Type.Object(
          { ticket: TicketInput, credential: CredentialInput, name: Type.Optional(PasskeyNameInput) },
          { additionalProperties: false },
        ),
        response: {
          201: Type.Object(
            {
              user: Type.Object({ id: Type.String() }, { additionalProperties: false }),
              passkey: PasskeyBody,
              recovery_codes: Type.Array(Type.String(), { minItems: 10, maxItems: 10 }),
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
      const row = await tickets.find(db, "signup", body.ticket);
      if (row === null) throw ticketInvalid();
      const verified = await finishRegistration(services, { purpose: "signup", binding: row.digest }, body.credential);
      // Ten Argon2id hashes take a while: done before the transaction, which stays short.
      const prepared = await recoveryCodes.prepare(row.userId);
      const facts = clientFacts(request);
      const result = await db.transaction(async (tx) => {
        // Consumed here, in the transaction that creates the account: a ticket makes one account.
        const ticket = await tickets.consume(tx, "signup", body.ticket);
        if (ticket === null || ticket.email === null) throw ticketInvalid();
        const userId = ticket.userId;
        if (!(await users.insert(tx, { id: userId, email: ticket.email, emailIndex: ticket.emailIndex }))) {
          // Another sign-up for the same address finished first.
          throw ticketInvalid();
        }
        const passkey = await passkeys.store.insert(tx, userId, verified, name);
        await recoveryCodes.store(tx, userId, prepared.rows);
        const session = await sessions.start(tx, reply, {
          userId,
          authMethod: "passkey",
          userVerifiedAt: new Date(clock.now()),
          ...facts,
        });
        const actor = { kind: "user" as const, id: userId };
        await auditSink.append(tx, { type: "account.created", userId, actor, subject: { kind: "user", id: userId } });
        await auditPasskeyAdded(services, tx, passkey, "signup");
        await auditSink.append(tx, {
          type: "auth.signed_in",
          userId,
          actor,
          subject: { kind: "passkey", id: passkey.id },
          context: { method: "passkey", ...facts },
        });
        return { userId, session, passkey: await passkeyBody(passkeys.store, tx, passkey) };
      });
      return reply.code(201).send({
        user: { id: result.userId },
        passkey: result.passkey,
        recovery_codes: prepared.codes,
        session: { expires_at: result.session.expiresAt.toISOString() },
      });
    },
  );
}
