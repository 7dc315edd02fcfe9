import { CountersignError } from "@countersign/protocol";
import type { FastifyInstance } from "fastify";
import { Type } from "typebox";
import type { AppServices } from "../app-services.ts";
import { currentSession } from "../sessions/session-auth-hook.ts";
import { ErrorRef, SESSION_SECURITY, Timestamp } from "./account-schemas.ts";
import { clientFacts } from "./client-facts.ts";
import { RECOVERY_CODE_COUNT } from "./recovery-codes.ts";

/** The signed-in account, as `GET /v1/account` shows it. */
export const AccountSchema = Type.Object(
  {
    id: Type.String(),
    email: Type.String(),
    created_at: Timestamp,
    password_set: Type.Boolean(),
    password_login_enabled: Type.Boolean({ description: "Whether this server offers password sign-in." }),
    recovery_codes_remaining: Type.Integer({ minimum: 0 }),
  },
  { additionalProperties: false },
);

/**
 * The signed-in person's own account: who they are, and new recovery codes (which replace every
 * old one and, like the first set, are shown once).
 */
export function registerAccountRoutes(app: FastifyInstance, services: AppServices): void {
  const { db, config, accounts, auditSink } = services;
  const { users, recoveryCodes } = accounts;

  app.get(
    "/v1/account",
    {
      config: { surface: "app", auth: "session" },
      schema: {
        tags: ["accounts"],
        summary: "The signed-in account",
        security: SESSION_SECURITY,
        response: {
          200: AccountSchema,
          401: ErrorRef,
        },
      },
    },
    async (request) => {
      const { userId } = currentSession(request);
      const user = await users.findById(db, userId);
      if (user === null) throw new CountersignError("unauthenticated");
      return {
        id: user.id,
        email: (await users.readEmail(db, user)) ?? "",
        created_at: user.createdAt.toISOString(),
        password_set: user.passwordHash !== null,
        password_login_enabled: config.auth.passwordLogin,
        recovery_codes_remaining: await recoveryCodes.remaining(db, user.id),
      };
    },
  );

  app.post(
    "/v1/account/recovery-codes",
    {
      config: { surface: "app", auth: "step-up" },
      schema: {
        tags: ["accounts"],
        summary: "Replace every recovery code with ten new ones, shown only in this response",
        security: SESSION_SECURITY,
        response: {
          200: Type.Object(
            {
              recovery_codes: Type.Array(Type.String(), {
                minItems: RECOVERY_CODE_COUNT,
                maxItems: RECOVERY_CODE_COUNT,
              }),
            },
            { additionalProperties: false },
          ),
          401: ErrorRef,
          403: ErrorRef,
        },
      },
    },
    async (request) => {
      const { userId } = currentSession(request);
      const prepared = await recoveryCodes.prepare(userId);
      await db.transaction(async (tx) => {
        await recoveryCodes.store(tx, userId, prepared.rows);
        await auditSink.append(tx, {
          type: "recovery_codes.regenerated",
          userId,
          actor: { kind: "user", id: userId },
          subject: { kind: "user", id: userId },
          context: clientFacts(request),
        });
      });
      return { recovery_codes: prepared.codes };
    },
  );
}
