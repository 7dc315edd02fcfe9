import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { FastifyInstance } from "fastify";
import type { AppServices } from "../app-services.ts";
import type { IssuedCredential } from "./agent-lifecycle.ts";
import { type AgentRow, type AgentView, toAgentView } from "./agent-row.ts";
import {
  AgentEnvelopeSchema,
  AgentIdParams,
  AgentListSchema,
  AgentWithCredentialSchema,
  CreateAgentBodySchema,
  ErrorRef,
} from "./agent-schemas.ts";
import { personContext } from "./person-context.ts";

// DESIGN §4.9: a session for everything; a fresh passkey assertion (step-up) for what hands out
// power — creating an agent, rotating its credentials, and resuming a suspended one (stricter
// than the design's list: a suspension may follow "I didn't ask for this").
const SESSION = { surface: "app", auth: "session" } as const;
const STEP_UP = { surface: "app", auth: "step-up" } as const;

const errors = { 400: ErrorRef, 401: ErrorRef, 403: ErrorRef, 404: ErrorRef, 409: ErrorRef };

/**
 * The person's agent management API (DESIGN §4.3): create, list, show, revoke, rotate, suspend,
 * resume. Every query is scoped to the signed-in person; another person's agent is 404.
 * Responses that carry a one-time credential are `Cache-Control: no-store`.
 */
export function registerAgentManagementRoutes(
  app: FastifyInstance,
  services: Pick<AppServices, "agents" | "config">,
): void {
  const { agents } = services;
  const { apiBaseUrl } = services.config;
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();
  const views = async (rows: readonly AgentRow[]): Promise<AgentView[]> => {
    const keys = await agents.e2eKeysOf(rows);
    return rows.map((row) =>
      toAgentView(row, row.e2e_account_key_id === null ? null : (keys.get(row.e2e_account_key_id) ?? null)),
    );
  };
  const view = async (row: AgentRow): Promise<AgentView> => (await views([row]))[0] as AgentView;

  typed.post(
    "/v1/agents",
    {
      config: STEP_UP,
      schema: {
        tags: ["agents"],
        summary: "Create an agent; returns its enrolment code (or bearer token) once",
        body: CreateAgentBodySchema,
        response: { 201: AgentWithCredentialSchema, ...errors },
      },
    },
    async (request, reply) => {
      const input = agents.parseCreateBody(request.body);
      const { agent, credential } = await agents.create(personContext(request), input);
      return reply
        .code(201)
        .header("cache-control", "no-store")
        .send({ agent: await view(agent), credential: credentialJson(credential, apiBaseUrl) });
    },
  );

  typed.get(
    "/v1/agents",
    {
      config: SESSION,
      schema: { tags: ["agents"], summary: "List your agents", response: { 200: AgentListSchema, ...errors } },
    },
    async (request) => {
      const rows = await agents.list(personContext(request).userId);
      return { agents: await views(rows) };
    },
  );

  typed.get(
    "/v1/agents/:agent_id",
    {
      config: SESSION,
      schema: {
        tags: ["agents"],
        summary: "Show one of your agents",
        params: AgentIdParams,
        response: { 200: AgentEnvelopeSchema, ...errors },
      },
    },
    async (request) => ({
      agent: await view(await agents.get(personContext(request).userId, request.params.agent_id)),
    }),
  );

  typed.post(
    "/v1/agents/:agent_id/revoke",
    {
      config: SESSION,
      schema: {
        tags: ["agents"],
        summary: "Revoke an agent at once and for good; cancels its in-flight requests",
        params: AgentIdParams,
        response: { 200: AgentEnvelopeSchema, ...errors },
      },
    },
    async (request) => ({ agent: await view(await agents.revoke(personContext(request), request.params.agent_id)) }),
  );

  typed.post(
    "/v1/agents/:agent_id/rotate",
    {
      config: STEP_UP,
      schema: {
        tags: ["agents"],
        summary: "Rotate credentials: refuse the old key at once, cancel in-flight requests, issue a new code",
        params: AgentIdParams,
        response: { 200: AgentWithCredentialSchema, ...errors },
      },
    },
    async (request, reply) => {
      const { agent, credential } = await agents.rotate(personContext(request), request.params.agent_id);
      return reply
        .header("cache-control", "no-store")
        .send({ agent: await view(agent), credential: credentialJson(credential, apiBaseUrl) });
    },
  );

  typed.post(
    "/v1/agents/:agent_id/suspend",
    {
      config: SESSION,
      schema: {
        tags: ["agents"],
        summary: "Suspend an agent: its requests are refused until resumed; in-flight ones are canceled",
        params: AgentIdParams,
        response: { 200: AgentEnvelopeSchema, ...errors },
      },
    },
    async (request) => ({ agent: await view(await agents.suspend(personContext(request), request.params.agent_id)) }),
  );

  typed.post(
    "/v1/agents/:agent_id/resume",
    {
      config: STEP_UP,
      schema: {
        tags: ["agents"],
        summary: "Resume a suspended agent",
        params: AgentIdParams,
        response: { 200: AgentEnvelopeSchema, ...errors },
      },
    },
    async (request) => ({ agent: await view(await agents.resume(personContext(request), request.params.agent_id)) }),
  );
}

function credentialJson(credential: IssuedCredential, apiBaseUrl: string) {
  return credential.kind === "enrollment_code"
    ? {
        kind: credential.kind,
        code: credential.code,
        expires_at: credential.expiresAt.toISOString(),
        // The app shows `countersign-agent enroll --server <this> --code …`: the agent API's
        // origin, which is not the app's own when COUNTERSIGN_API_HOST differs.
        api_base_url: apiBaseUrl,
      }
    : { kind: credential.kind, token: credential.token, expires_at: credential.expiresAt.toISOString() };
}
