import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { FastifyInstance } from "fastify";
import type { AppServices } from "../app-services.ts";
import type { Queryable } from "../db/database.ts";
import type { ApprovalEvent } from "../notify/approval-event.ts";
import { openSseStream } from "../notify/sse-stream.ts";
import { currentSession } from "../sessions/session-auth-hook.ts";
import { actorOf } from "./approval-deps.ts";
import {
  ApprovalIdParams,
  DecisionBodySchema,
  ErrorRef,
  EvidenceSchema,
  PersonApprovalDetailSchema,
  PersonApprovalSchema,
  PersonListQuerySchema,
  PersonListSchema,
} from "./approval-schemas.ts";
import { decodeCursor, encodeCursor } from "./list-cursor.ts";
import { sendAgentSuspendedMail } from "./send-agent-suspended-mail.ts";

const SESSION = { surface: "app", auth: "session" } as const;
/** How often an open event stream re-checks that its session still exists. */
export const SESSION_RECHECK_MS = 15_000;

async function sessionStillValid(db: Queryable, handle: string, userId: string, now: Date): Promise<boolean> {
  const { rows } = await db.query(
    "SELECT 1 FROM sessions WHERE handle = $1 AND user_id = $2 AND absolute_expires_at > $3",
    [handle, userId, now],
  );
  return rows.length === 1;
}
const errors = { 400: ErrorRef, 401: ErrorRef, 403: ErrorRef, 404: ErrorRef, 409: ErrorRef, 410: ErrorRef };

/**
 * The person's side of approvals (DESIGN §4.4–4.6): the inbox and history, one request with a
 * decision nonce, the delivery acknowledgement, the decision ceremony, the evidence, and a live
 * event stream for the app. Every query is scoped to the signed-in person; another person's
 * request is "not found".
 */
export function registerPersonApprovalRoutes(
  app: FastifyInstance,
  services: Pick<AppServices, "approvals" | "events" | "passkeys" | "db" | "config" | "mailer" | "accounts" | "clock">,
): void {
  const { approvals, events, passkeys, db, config } = services;
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();

  typed.get(
    "/v1/me/approvals",
    {
      config: SESSION,
      schema: {
        tags: ["approvals"],
        summary: "Your approval requests, newest first",
        querystring: PersonListQuerySchema,
        response: { 200: PersonListSchema, ...errors },
      },
    },
    async (request) => {
      const { userId } = currentSession(request);
      const query = request.query;
      const limit = Number(query.limit ?? "25");
      const { items, rows } = await approvals.listForPerson(userId, {
        state: query.state ?? "all",
        limit,
        ...(query.status === undefined ? {} : { status: query.status }),
        ...(query.agent_id === undefined ? {} : { agentId: query.agent_id }),
        ...(query.cursor === undefined ? {} : { before: decodeCursor(query.cursor) }),
      });
      const last = rows[limit - 1];
      return {
        approvals: items,
        next_cursor:
          rows.length > limit && last !== undefined ? encodeCursor({ createdAt: last.created_at, id: last.id }) : null,
      };
    },
  );

  typed.get(
    "/v1/me/approvals/:approval_id",
    {
      config: SESSION,
      schema: {
        tags: ["approvals"],
        summary: "One request, with everything to show and, while open, a single-use decision nonce",
        params: ApprovalIdParams,
        response: { 200: PersonApprovalDetailSchema, ...errors },
      },
    },
    async (request) => {
      const { userId } = currentSession(request);
      const { view, nonce } = await approvals.showForPerson(userId, request.params.approval_id);
      if (nonce === null) return { approval: view, decision: null };
      const allowed = await passkeys.store.listActive(db, userId);
      return {
        approval: view,
        decision: {
          nonce: nonce.nonce,
          nonce_expires_at: nonce.expiresAt.toISOString(),
          rp_id: config.webauthn.rpId,
          user_verification: "required" as const,
          allow_credentials: allowed.map((passkey) => ({
            id: passkey.credentialId,
            type: "public-key" as const,
            transports: [...passkey.transports],
          })),
        },
      };
    },
  );

  typed.post(
    "/v1/me/approvals/:approval_id/delivered",
    {
      config: SESSION,
      schema: {
        tags: ["approvals"],
        summary: "Acknowledge that a device showed the request (pending → delivered)",
        params: ApprovalIdParams,
        response: { 200: PersonApprovalSchema, ...errors },
      },
    },
    async (request) => {
      const { userId } = currentSession(request);
      const row = await approvals.acknowledge(userId, request.params.approval_id, actorOf(request));
      return approvals.viewForPerson(row);
    },
  );

  typed.post(
    "/v1/me/approvals/:approval_id/decision",
    {
      config: SESSION,
      schema: {
        tags: ["approvals"],
        summary: "Approve (typed number + passkey) or reject (passkey) a request (DESIGN §4.6)",
        params: ApprovalIdParams,
        body: DecisionBodySchema,
        response: { 200: PersonApprovalSchema, ...errors },
      },
    },
    async (request) => {
      const session = currentSession(request);
      const outcome = await approvals.decide(
        { userId: session.userId, sessionId: session.id, deviceId: session.deviceId },
        request.params.approval_id,
        request.body,
        actorOf(request),
      );
      if (outcome.agentSuspended) {
        sendAgentSuspendedMail(services, request.log, session.userId, outcome.row.agent_id);
      }
      return approvals.viewForPerson(outcome.row);
    },
  );

  typed.get(
    "/v1/me/approvals/:approval_id/evidence",
    {
      config: SESSION,
      schema: {
        tags: ["approvals"],
        summary: "The decision's evidence, to re-verify the passkey signature offline (docs/evidence.md)",
        params: ApprovalIdParams,
        response: { 200: EvidenceSchema, ...errors },
      },
    },
    async (request) => approvals.evidenceForPerson(currentSession(request).userId, request.params.approval_id),
  );

  app.get(
    "/v1/me/events",
    {
      config: SESSION,
      schema: {
        tags: ["approvals"],
        summary: "Server-sent events: your requests as they are created and change",
        description: "Each `approval` event names a request and its new status; fetch the request to show it.",
        response: { 401: ErrorRef },
      },
    },
    async (request, reply) => {
      const session = currentSession(request);
      const { userId } = session;
      const stream = openSseStream(request, reply);
      // A stream outlives the request that opened it: it must not outlive the session. Before
      // each event, and every SESSION_RECHECK_MS, the session must still exist (sign-out and
      // "sign out everywhere" delete it) and be within its absolute lifetime; else the stream ends.
      // Events that arrive while a check runs wait for the next one, which starts after they
      // arrived and covers them all: one check per event would cap a busy person's stream at one
      // event per database round trip, and events would queue behind one another.
      const alive = () => sessionStillValid(db, session.id, userId, new Date(services.clock.now()));
      let waiting: ApprovalEvent[] = [];
      let checking = false;
      const deliver = async () => {
        while (waiting.length > 0) {
          const batch = waiting;
          waiting = [];
          if (!(await alive())) return stream.close();
          for (const event of batch) {
            stream.send("approval", {
              type: event.type,
              approval_id: event.approvalId,
              agent_id: event.agentId,
              status: event.status,
            });
          }
        }
      };
      const pump = () => {
        if (checking || waiting.length === 0) return;
        checking = true;
        deliver()
          .catch((err: unknown) => {
            request.log.warn({ err }, "could not check the session of an event stream");
            stream.close();
          })
          .finally(() => {
            checking = false;
            pump();
          });
      };
      const unsubscribe = events.subscribe({ userId }, (event) => {
        waiting.push(event);
        pump();
      });
      const recheck = setInterval(() => {
        alive().then(
          (ok) => ok || stream.close(),
          () => stream.close(),
        );
      }, SESSION_RECHECK_MS);
      stream.send("ready", { user_id: userId });
      await stream.closed;
      clearInterval(recheck);
      unsubscribe();
    },
  );
}
