import { CountersignError } from "@countersign/protocol";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { AgentAuthentication } from "../agent-auth/agent-auth-hook.ts";
import { agentAuthMetrics } from "../agent-auth/agent-auth-metrics.ts";
import { JSON_CONTENT_TYPE } from "../agent-auth/idempotency.ts";
import { enforceAllowedAction } from "../agents/enforce-allowed-action.ts";
import type { AppServices } from "../app-services.ts";
import { openSseStream } from "../notify/sse-stream.ts";
import { parseCallbackUrl } from "../notify/webhooks/callback-url.ts";
import { actorOf } from "./approval-deps.ts";
import { type ApprovalRow, isTerminal } from "./approval-row.ts";
import {
  AgentApprovalSchema,
  ApprovalIdParams,
  CreateApprovalBodySchema,
  ErrorRef,
  EvidenceSchema,
  PollQuerySchema,
} from "./approval-schemas.ts";
import type { Blockers } from "./approval-store.ts";
import { toAgentView } from "./approval-views.ts";
import { waitForChange } from "./wait-for-change.ts";

const AGENT = { surface: "api", agentAuth: true } as const;
const security: { [scheme: string]: string[] }[] = [{ agentSignature: [] }, { agentBearer: [] }];
const errors = {
  400: ErrorRef,
  401: ErrorRef,
  403: ErrorRef,
  404: ErrorRef,
  409: ErrorRef,
  410: ErrorRef,
  429: ErrorRef,
};

/** The agent's side of approvals (DESIGN §4.4): create, poll, long-poll, stream, cancel, evidence. */
export function registerAgentApprovalRoutes(
  app: FastifyInstance,
  services: Pick<AppServices, "config" | "db" | "clock" | "auditSink" | "metrics" | "approvals" | "events">,
): void {
  const { approvals, events, config, clock } = services;
  const interval = config.approvals.pollIntervalSeconds;
  const refusalDeps = { db: services.db, auditSink: services.auditSink, metrics: agentAuthMetrics(services.metrics) };
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();
  const view = (row: ApprovalRow, number: string | null = null) => toAgentView(row, number, clock.now(), interval);

  // A creation's first read, started as soon as the agent is known: it then runs while the
  // Idempotency-Key is claimed instead of after (abandoned if the claim answers from storage).
  const blockersRead = new WeakMap<FastifyRequest, Promise<Blockers>>();
  const readBlockersEarly = (request: FastifyRequest) => {
    const { action_type: actionType } = request.body as { action_type: string };
    const read = approvals.readBlockers(agentOf(request).agent, actionType);
    read.catch(() => {}); // awaited by the handler, or abandoned with the request
    blockersRead.set(request, read);
  };

  typed.post(
    "/v1/approvals",
    {
      config: { ...AGENT, afterAgentAuth: readBlockersEarly },
      schema: {
        tags: ["approvals"],
        summary: "Ask your person to approve an action",
        description:
          "Signed, with an Idempotency-Key. An open request for the same action type is returned as it is (200) instead of a new one (201). " +
          "An agent created with e2e sends `context_e2e` instead of `context` (422 e2e_context_required; others 422 e2e_not_enabled), " +
          "encrypted to its pinned account key set, which must still be the active one (409 account_key_changed); " +
          "the answer then has `display_payload_hash: null` and `display_payload` to hash locally.",
        security,
        body: CreateApprovalBodySchema,
        response: { 200: AgentApprovalSchema, 201: AgentApprovalSchema, 422: ErrorRef, ...errors },
      },
    },
    async (request, reply) => {
      const auth = agentOf(request);
      const body = request.body;
      await enforceAllowedAction(request, body.action_type, refusalDeps);
      const callbackUrl =
        body.callback_url === undefined
          ? null
          : parseCallbackUrl(body.callback_url, { allowLoopbackHttp: config.webhooks.allowLoopbackHttp });
      const input = { ...body, context: body.context as Record<string, unknown> | undefined, callbackUrl };
      // A new request's answer is stored for its Idempotency-Key by the transaction that creates
      // it, so a crash between the two cannot leave the request made and the key still held (a
      // retry after the key's lease would then run again, and make a second request if the first
      // had been decided meanwhile). Any other answer is stored as it is sent.
      const held = request.idempotency;
      let storedBody: string | undefined;
      const result = await approvals.create(auth.agent, input, actorOf(request), {
        blockers: blockersRead.get(request),
        ...(held && {
          alongside: async (tx, created) => {
            const view = toAgentView(created.row, created.number, clock.now(), interval, created.display);
            const body = reply.serializeInput({ ...view }, "201") as string;
            await held.storeWithin(tx, { status: 201, contentType: JSON_CONTENT_TYPE, body });
            storedBody = body;
          },
        }),
      });
      if (result.created && held !== undefined && storedBody !== undefined) {
        held.settled = true;
        return reply.code(201).type(JSON_CONTENT_TYPE).send(storedBody);
      }
      return reply
        .code(result.created ? 201 : 200)
        .send(toAgentView(result.row, result.number, clock.now(), interval, result.display));
    },
  );

  typed.get(
    "/v1/approvals/:approval_id",
    {
      config: AGENT,
      schema: {
        tags: ["approvals"],
        summary: "The request's state; the receipt once approved",
        description: `Poll no faster than \`interval\` (429 slow_down), or long-poll with ?wait=N (N ≤ 30).`,
        security,
        params: ApprovalIdParams,
        querystring: PollQuerySchema,
        response: { 200: AgentApprovalSchema, ...errors },
      },
    },
    async (request) => {
      const agentId = agentOf(request).agent.id;
      const id = request.params.approval_id;
      const wait = Number(request.query.wait ?? "0");
      if (wait === 0) return view(await approvals.pollForAgent(agentId, id));

      // Long-poll: subscribe first, then read, so a decision between the two is not missed.
      // waitForChange subscribes only when called, after a read; a decision announced while a
      // read was in flight would then be missed and the poll held for its whole wait. This
      // subscription, taken before the first read, marks such a decision so the loop re-reads
      // at once instead of waiting.
      const abort = new AbortController();
      request.raw.once("close", () => abort.abort());
      let settledMeanwhile = false;
      const unsubscribe = events.subscribe({ approvalId: id }, (event) => {
        if (isTerminal(event.status)) settledMeanwhile = true;
      });
      try {
        let row = await approvals.getForAgent(agentId, id);
        const deadline = clock.now() + wait * 1000;
        while (!isTerminal(row.status) && clock.now() < deadline && !abort.signal.aborted) {
          const untilExpiry = row.expires_at.getTime() - clock.now() + 50;
          if (!settledMeanwhile) {
            await waitForChange(events, { approvalId: id }, Math.min(deadline - clock.now(), untilExpiry), {
              signal: abort.signal,
              settles: (status) => status !== "pending" && status !== "delivered",
            });
          }
          // Cleared before the read, so an event during the read is not lost either.
          settledMeanwhile = false;
          row = await approvals.getForAgent(agentId, id);
        }
        return view(row);
      } finally {
        unsubscribe();
      }
    },
  );

  app.get(
    "/v1/approvals/:approval_id/events",
    {
      config: AGENT,
      schema: {
        tags: ["approvals"],
        summary: "Server-sent events for one request",
        description:
          "An `approval` event with the current state at once and on every change; the stream ends once decided.",
        security,
        params: ApprovalIdParams,
        response: { 400: ErrorRef, 401: ErrorRef, 403: ErrorRef, 404: ErrorRef },
      },
    },
    async (request, reply) => {
      const agentId = agentOf(request).agent.id;
      const id = (request.params as { approval_id: string }).approval_id;
      let changed = true;
      // An event since the last read began: re-read before waiting. `changed` alone lost it — an
      // event during a read found no one to wake, and the read's outcome overwrote the flag, so
      // a decision announced meanwhile waited for the expiry timer instead of being streamed.
      let stale = false;
      let wake: (() => void) | undefined;
      const unsubscribe = events.subscribe({ approvalId: id }, () => {
        stale = true;
        wake?.();
      });
      let row: ApprovalRow;
      try {
        row = await approvals.getForAgent(agentId, id);
      } catch (error) {
        unsubscribe();
        throw error;
      }
      const stream = openSseStream(request, reply);
      let open = true;
      void stream.closed.then(() => {
        open = false;
        wake?.();
      });
      try {
        while (open) {
          if (changed) {
            changed = false;
            stream.send("approval", view(row), `${row.id}:${row.status}`);
            if (isTerminal(row.status)) break;
          }
          if (!stale) {
            await new Promise<void>((resolve) => {
              wake = resolve;
              // Wake at expiry too: nobody publishes an expiry the sweeper has not reached yet.
              const timer = setTimeout(resolve, Math.max(0, row.expires_at.getTime() - clock.now() + 50));
              void stream.closed.then(() => clearTimeout(timer));
            });
          }
          wake = undefined;
          if (!open) break;
          stale = false;
          const before = row.status;
          row = await approvals.getForAgent(agentId, id);
          changed = row.status !== before;
        }
      } finally {
        unsubscribe();
        stream.close();
      }
    },
  );

  typed.delete(
    "/v1/approvals/:approval_id",
    {
      config: AGENT,
      schema: {
        tags: ["approvals"],
        summary: "Cancel your open request",
        security,
        params: ApprovalIdParams,
        response: { 200: AgentApprovalSchema, ...errors },
      },
    },
    async (request) =>
      view(await approvals.cancelByAgent(agentOf(request).agent.id, request.params.approval_id, actorOf(request))),
  );

  typed.get(
    "/v1/approvals/:approval_id/evidence",
    {
      config: AGENT,
      schema: {
        tags: ["approvals"],
        summary: "The decision's evidence: the passkey assertion and its public key (docs/evidence.md)",
        security,
        params: ApprovalIdParams,
        response: { 200: EvidenceSchema, ...errors },
      },
    },
    async (request) => approvals.evidenceForAgent(agentOf(request).agent.id, request.params.approval_id),
  );
}

function agentOf(request: FastifyRequest): AgentAuthentication {
  if (request.agentAuth === undefined) throw new CountersignError("unknown_agent");
  return request.agentAuth;
}
