import { CountersignError } from "@countersign/protocol";
import type { AgentAuditSink } from "../agent-auth/agent-audit-sink.ts";
import type { Clock } from "../clock.ts";
import type { Config } from "../config/config.ts";
import type { Database } from "../db/database.ts";
import { type AgentCredentials, createAgentCredentials } from "./agent-credentials.ts";
import { type AgentE2eKey, findAccountKeysByIds, toAgentE2eKey } from "./agent-e2e-key.ts";
import { type EnrollmentInput, type EnrollmentResult, enrollAgentKey } from "./agent-enrollment.ts";
import { type CreateAgentBody, type CreateAgentInput, parseCreateAgentBody } from "./agent-input.ts";
import {
  type AgentLifecycleDeps,
  createAgent,
  type IssuedCredential,
  type PersonContext,
  revokeAgent,
  rotateAgentCredentials,
  setAgentSuspended,
} from "./agent-lifecycle.ts";
import type { AgentRow } from "./agent-row.ts";
import { createAgentSecrets } from "./agent-secrets.ts";
import { findOwnedAgent, listAgents } from "./agent-store.ts";
import type { InFlightApprovals } from "./in-flight-approvals.ts";

/**
 * The agent domain (DESIGN §4.1–4.3): what the person does with their agents, enrolment, and the
 * lookups the request pipeline makes. One instance per process, in `AppServices.agents`.
 */
export interface AgentsService extends AgentCredentials {
  /** Validates a create body against the server's rules (bearer mode allowed or not). */
  parseCreateBody(body: CreateAgentBody): CreateAgentInput;
  create(person: PersonContext, input: CreateAgentInput): Promise<{ agent: AgentRow; credential: IssuedCredential }>;
  list(userId: string): Promise<AgentRow[]>;
  /** @throws CountersignError `not_found` when the agent is not the person's. */
  get(userId: string, agentId: string): Promise<AgentRow>;
  revoke(person: PersonContext, agentId: string): Promise<AgentRow>;
  rotate(person: PersonContext, agentId: string): Promise<{ agent: AgentRow; credential: IssuedCredential }>;
  suspend(person: PersonContext, agentId: string): Promise<AgentRow>;
  resume(person: PersonContext, agentId: string): Promise<AgentRow>;
  enroll(input: EnrollmentInput): Promise<EnrollmentResult>;
  /** The pinned key sets of end-to-end agents among `agents`, by account key id, for their views. */
  e2eKeysOf(agents: readonly AgentRow[]): Promise<ReadonlyMap<string, AgentE2eKey>>;
  /** A pinned key set by id (`AuthenticatedAgent.e2eAccountKeyId`); null when there is none. */
  e2eKeyOf(accountKeyId: string): Promise<AgentE2eKey | null>;
}

/** What the agent domain is built from. */
export interface AgentsServiceDeps {
  readonly config: Pick<Config, "agents" | "secrets">;
  readonly db: Database;
  readonly clock: Clock;
  readonly auditSink: AgentAuditSink;
  readonly inFlightApprovals: InFlightApprovals;
}

/** Builds the agent domain; keys for the code and token digests are derived once, here. */
export function createAgentsService(deps: AgentsServiceDeps): AgentsService {
  const secrets = createAgentSecrets(deps.config.secrets.masterKey);
  const bearerOnlyAllowed = deps.config.agents.bearerOnlyAllowed;
  const lifecycle: AgentLifecycleDeps = {
    db: deps.db,
    clock: deps.clock,
    secrets,
    auditSink: deps.auditSink,
    inFlightApprovals: deps.inFlightApprovals,
    bearerOnlyAllowed,
  };
  const credentials = createAgentCredentials({ db: deps.db, clock: deps.clock, secrets });

  return Object.freeze({
    ...credentials,
    parseCreateBody: (body: CreateAgentBody) => parseCreateAgentBody(body, { bearerOnlyAllowed }),
    create: (person: PersonContext, input: CreateAgentInput) => createAgent(lifecycle, person, input),
    list: (userId: string) => listAgents(deps.db, userId),
    async get(userId: string, agentId: string) {
      const agent = await findOwnedAgent(deps.db, userId, agentId);
      if (agent === undefined) throw new CountersignError("not_found", { message: "No such agent." });
      return agent;
    },
    revoke: (person: PersonContext, agentId: string) => revokeAgent(lifecycle, person, agentId),
    rotate: (person: PersonContext, agentId: string) => rotateAgentCredentials(lifecycle, person, agentId),
    suspend: (person: PersonContext, agentId: string) => setAgentSuspended(lifecycle, person, agentId, true),
    resume: (person: PersonContext, agentId: string) => setAgentSuspended(lifecycle, person, agentId, false),
    enroll: (input: EnrollmentInput) => enrollAgentKey(lifecycle, input),
    async e2eKeysOf(agents: readonly AgentRow[]) {
      const ids = agents.flatMap((agent) => (agent.e2e_account_key_id === null ? [] : [agent.e2e_account_key_id]));
      const keys = await findAccountKeysByIds(deps.db, ids);
      return new Map([...keys].map(([id, key]) => [id, toAgentE2eKey(key)]));
    },
    async e2eKeyOf(accountKeyId: string) {
      const pin = (await findAccountKeysByIds(deps.db, [accountKeyId])).get(accountKeyId);
      return pin === undefined ? null : toAgentE2eKey(pin);
    },
  });
}
