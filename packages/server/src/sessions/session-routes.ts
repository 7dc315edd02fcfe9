import { CountersignError } from "@countersign/protocol";
import type { FastifyInstance } from "fastify";
import { Type } from "typebox";
import type { Database } from "../db/database.ts";
import { SESSION_AUTH_METHODS, type Session, type SessionService } from "./session.ts";
import { currentSession } from "./session-auth-hook.ts";
import { clearSessionSetCookie, replaceSessionCookie } from "./session-cookie.ts";

const ErrorRef = { $ref: "ErrorBody#" };
const Timestamp = Type.String({ format: "date-time" });
const Handle = Type.String({ pattern: "^ses_[A-Za-z0-9_-]{22}$", description: "A session's public handle." });
const SECURITY = [{ sessionCookie: [] }];

/** A session as the API shows it (the app's devices screen). */
export const SessionSchema = Type.Object(
  {
    id: Handle,
    current: Type.Boolean({ description: "Whether this is the session making the request." }),
    auth_method: Type.Enum(SESSION_AUTH_METHODS),
    created_at: Timestamp,
    last_seen_at: Type.String({ format: "date-time", description: "Recorded at most once a minute." }),
    expires_at: Type.String({ format: "date-time", description: "The earlier of the idle and absolute expiry." }),
    step_up_at: Type.Union([Timestamp, Type.Null()], { description: "The last passkey confirmation, if any." }),
    user_agent: Type.Union([Type.String(), Type.Null()], { description: "The browser at sign-in, if known." }),
  },
  { additionalProperties: false },
);

const NoContent = Type.Null({ description: "Done; no body." });

/**
 * The account's sessions (DESIGN §4.9; ASVS 5.0 V7.4.1, V7.5.2): list them, end one or all the
 * others, sign out. Person-facing routes only (`surface: "app"`), so each state-changing one
 * passes the Origin check first. Ending another session needs a fresh passkey confirmation, so
 * a stolen session cannot lock its owner out; signing out never does.
 */
export function registerSessionRoutes(app: FastifyInstance, deps: { db: Database; sessions: SessionService }): void {
  const { db, sessions } = deps;

  app.get(
    "/v1/sessions",
    {
      config: { surface: "app", auth: "session" },
      schema: {
        tags: ["sessions"],
        summary: "The account's live sessions, most recently used first",
        security: SECURITY,
        response: { 200: Type.Object({ sessions: Type.Array(SessionSchema) }), 401: ErrorRef },
      },
    },
    async (request) => {
      const current = currentSession(request);
      const list = await sessions.list(db, current.userId);
      return { sessions: list.map((session) => toBody(session, session.id === current.id)) };
    },
  );

  app.delete(
    "/v1/sessions/:id",
    {
      config: { surface: "app", auth: "step-up" },
      schema: {
        tags: ["sessions"],
        summary: "End one of the account's sessions (the current one too: that signs out)",
        security: SECURITY,
        params: Type.Object({ id: Handle }, { additionalProperties: false }),
        response: { 204: NoContent, 401: ErrorRef, 403: ErrorRef, 404: ErrorRef },
      },
    },
    async (request, reply) => {
      const current = currentSession(request);
      const { id } = request.params as { id: string };
      if (!(await sessions.revoke(db, current.userId, id))) {
        throw new CountersignError("not_found", { message: "No such session." });
      }
      if (id === current.id) replaceSessionCookie(reply, clearSessionSetCookie());
      return reply.code(204).send();
    },
  );

  app.post(
    "/v1/sessions/revoke-others",
    {
      config: { surface: "app", auth: "step-up" },
      schema: {
        tags: ["sessions"],
        summary: "End every session of the account except this one",
        security: SECURITY,
        response: {
          200: Type.Object({ revoked: Type.Integer({ minimum: 0 }) }, { additionalProperties: false }),
          401: ErrorRef,
          403: ErrorRef,
        },
      },
    },
    async (request) => {
      const current = currentSession(request);
      return { revoked: await sessions.revokeAll(db, current.userId, { except: current.id }) };
    },
  );

  app.post(
    "/v1/auth/sign-out",
    {
      config: { surface: "app", auth: "session" },
      schema: {
        tags: ["sessions"],
        summary: "End this session and clear its cookie",
        security: SECURITY,
        response: { 204: NoContent, 401: ErrorRef, 403: ErrorRef },
      },
    },
    async (request, reply) => {
      await sessions.end(db, reply, currentSession(request).id);
      return reply.code(204).send();
    },
  );
}

function toBody(session: Session, current: boolean) {
  return {
    id: session.id,
    current,
    auth_method: session.authMethod,
    created_at: session.createdAt.toISOString(),
    last_seen_at: session.lastSeenAt.toISOString(),
    expires_at: session.expiresAt.toISOString(),
    step_up_at: session.stepUpAt === null ? null : session.stepUpAt.toISOString(),
    user_agent: session.userAgent,
  };
}
