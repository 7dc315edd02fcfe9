import { CountersignError } from "@countersign/protocol";
import type { FastifyInstance } from "fastify";
import { Type } from "typebox";
import {
  CredentialInput,
  ErrorRef,
  PasskeyBody,
  PasskeyNameInput,
  SESSION_SECURITY,
  WebAuthnOptions,
} from "../accounts/account-schemas.ts";
import { clientFacts } from "../accounts/client-facts.ts";
import { passkeyName } from "../accounts/route-inputs.ts";
import type { AppServices } from "../app-services.ts";
import { currentSession } from "../sessions/session-auth-hook.ts";
import { auditPasskeyAdded, beginRegistration, finishRegistration, passkeyBody } from "./passkey-flows.ts";

const PasskeyId = Type.String({ pattern: "^pk_[A-Za-z0-9_-]{22}$", description: "A passkey's id." });

const notFound = () => new CountersignError("not_found", { message: "No such passkey." });

/**
 * The account's passkeys (issue 4 part 2): list them with when each was last used, add another
 * (step-up), rename one, revoke one (step-up) but never the last. Changes to an account's
 * passkeys are serialized on the account's row (SELECT … FOR UPDATE), so two concurrent revokes
 * cannot together remove the last two.
 */
export function registerPasskeyRoutes(app: FastifyInstance, services: AppServices): void {
  const { db, passkeys, accounts, auditSink } = services;
  const { store } = passkeys;

  app.get(
    "/v1/passkeys",
    {
      config: { surface: "app", auth: "session" },
      schema: {
        tags: ["passkeys"],
        summary: "The account's passkeys, oldest first",
        security: SESSION_SECURITY,
        response: { 200: Type.Object({ passkeys: Type.Array(PasskeyBody) }), 401: ErrorRef },
      },
    },
    async (request) => {
      const { userId } = currentSession(request);
      const list = await store.listActive(db, userId);
      return { passkeys: await Promise.all(list.map((passkey) => passkeyBody(store, db, passkey))) };
    },
  );

  app.post(
    "/v1/passkeys/options",
    {
      config: { surface: "app", auth: "step-up" },
      schema: {
        tags: ["passkeys"],
        summary: "WebAuthn creation options for another passkey (needs a fresh passkey confirmation)",
        security: SESSION_SECURITY,
        response: { 200: WebAuthnOptions, 401: ErrorRef, 403: ErrorRef },
      },
    },
    async (request) => {
      const session = currentSession(request);
      const user = await accounts.users.findById(db, session.userId);
      const email = user === null ? null : await accounts.users.readEmail(db, user);
      if (user === null || email === null) throw new CountersignError("unauthenticated");
      return beginRegistration(services, db, {
        scope: { purpose: "add-passkey", userId: user.id, binding: session.id },
        user: { id: user.id, name: email },
        existingUser: true,
      });
    },
  );

  app.post(
    "/v1/passkeys",
    {
      config: { surface: "app", auth: "step-up" },
      schema: {
        tags: ["passkeys"],
        summary: "Register another passkey (needs a fresh passkey confirmation)",
        security: SESSION_SECURITY,
        body: Type.Object(
          { credential: CredentialInput, name: Type.Optional(PasskeyNameInput) },
          { additionalProperties: false },
        ),
        response: { 201: PasskeyBody, 400: ErrorRef, 401: ErrorRef, 403: ErrorRef },
      },
    },
    async (request, reply) => {
      const session = currentSession(request);
      const body = request.body as { credential: unknown; name?: string };
      const name = passkeyName(body.name);
      const verified = await finishRegistration(
        services,
        { purpose: "add-passkey", userId: session.userId, binding: session.id },
        body.credential,
      );
      const created = await db.transaction(async (tx) => {
        if ((await accounts.users.findById(tx, session.userId, { lock: true })) === null) {
          throw new CountersignError("unauthenticated");
        }
        const passkey = await store.insert(tx, session.userId, verified, name);
        await auditPasskeyAdded(services, tx, passkey, "add");
        return passkeyBody(store, tx, passkey);
      });
      return reply.code(201).send(created);
    },
  );

  app.patch(
    "/v1/passkeys/:id",
    {
      config: { surface: "app", auth: "session" },
      schema: {
        tags: ["passkeys"],
        summary: "Rename a passkey",
        security: SESSION_SECURITY,
        params: Type.Object({ id: PasskeyId }, { additionalProperties: false }),
        body: Type.Object({ name: PasskeyNameInput }, { additionalProperties: false }),
        response: { 200: PasskeyBody, 400: ErrorRef, 401: ErrorRef, 403: ErrorRef, 404: ErrorRef },
      },
    },
    async (request) => {
      const { userId } = currentSession(request);
      const { id } = request.params as { id: string };
      const name = passkeyName((request.body as { name: string }).name);
      return db.transaction(async (tx) => {
        if (!(await store.rename(tx, userId, id, name))) throw notFound();
        await auditSink.append(tx, {
          type: "passkey.renamed",
          userId,
          actor: { kind: "user", id: userId },
          subject: { kind: "passkey", id },
          context: { name },
        });
        const passkey = await store.findForUser(tx, userId, id);
        if (passkey === null) throw notFound();
        return passkeyBody(store, tx, passkey);
      });
    },
  );

  app.delete(
    "/v1/passkeys/:id",
    {
      config: { surface: "app", auth: "step-up" },
      schema: {
        tags: ["passkeys"],
        summary: "Revoke a passkey (needs a fresh passkey confirmation); the last one cannot be revoked",
        security: SESSION_SECURITY,
        params: Type.Object({ id: PasskeyId }, { additionalProperties: false }),
        response: { 204: Type.Null(), 401: ErrorRef, 403: ErrorRef, 404: ErrorRef, 409: ErrorRef },
      },
    },
    async (request, reply) => {
      const { userId } = currentSession(request);
      const { id } = request.params as { id: string };
      await db.transaction(async (tx) => {
        // The account row's lock orders concurrent revokes: the second sees the first's result.
        if ((await accounts.users.findById(tx, userId, { lock: true })) === null) {
          throw new CountersignError("unauthenticated");
        }
        const active = await store.listActive(tx, userId);
        if (!active.some((passkey) => passkey.id === id)) throw notFound();
        if (active.length === 1) throw new CountersignError("last_passkey");
        await store.revoke(tx, userId, id);
        await auditSink.append(tx, {
          type: "passkey.revoked",
          userId,
          actor: { kind: "user", id: userId },
          subject: { kind: "passkey", id },
          context: { remaining: active.length - 1, ...clientFacts(request) },
        });
      });
      return reply.code(204).send();
    },
  );
}
