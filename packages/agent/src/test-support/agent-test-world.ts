import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type ApprovalTestKit,
  createApprovalTestKit,
  type TestAgent,
  type TestPerson,
} from "../../../server/src/approvals/test-support/approval-test-kit.ts";
import { createTestDatabase, type TestDatabaseKind } from "../../../server/test-support/test-database.ts";
import { type AgentClient, type AgentClientOptions, createAgentClient } from "../client/create-agent-client.ts";
import { type FrontDoor, openFrontDoor } from "./front-door.ts";

/**
 * The real Countersign server, in process, on a fresh PGlite (or PostgreSQL) database, listening on loopback
 * behind a {@link FrontDoor} whose address is the configured API host, so requests signed for
 * `door.url` are accepted. A person with a software passkey is signed up; agents are made with
 * `newAgent`.
 */
export interface AgentTestWorld {
  readonly kit: ApprovalTestKit;
  readonly door: FrontDoor;
  /** The API origin clients use: the door. */
  readonly server: string;
  readonly person: TestPerson;
  /** A temporary directory, removed by `close`. */
  readonly dir: string;
  /** Stops the server and the door, deletes the database and the directory; call it in an `after`. */
  close(): Promise<void>;
  /** A new enrolled agent (key made by the kit), allowed `deploy.*`, `db.migrate` and `mcp.*`. */
  newAgent(): Promise<TestAgent>;
  /** A client for `agent`, on the kit's clock. */
  clientFor(agent: TestAgent, options?: Partial<AgentClientOptions>): Promise<AgentClient>;
  /** Creates an agent in the "app" and returns its one-time enrolment code. */
  enrollmentCode(body?: Record<string, unknown>): Promise<string>;
  /** Approves (or rejects) as the person, typing `number`. */
  decide(id: string, number: string | null, decision?: "approve" | "reject"): Promise<void>;
}

const ALLOWED = ["deploy.*", "db.migrate", "mcp.*"];

/**
 * Builds the world; call it in a `before`. `database` is PGlite unless `postgres` is asked for
 * (which needs `DATABASE_URL`; see `testDatabaseKinds`).
 */
export async function createAgentTestWorld(
  options: {
    env?: Record<string, string>;
    database?: TestDatabaseKind;
    /**
     * Where the server's manual clock starts. Tests with another process, which signs with the
     * real clock, pass `Date.now()`: set before the person signs in, so their session is not
     * instantly hours idle, as moving the clock afterwards would make it.
     */
    startAt?: number;
  } = {},
): Promise<AgentTestWorld> {
  const database = await createTestDatabase(options.database ?? "pglite");
  const door = await openFrontDoor();
  const kit = await createApprovalTestKit(database.db, {
    env: { COUNTERSIGN_API_HOST: door.host, ...options.env },
    ...(options.startAt === undefined ? {} : { startAt: options.startAt }),
  });
  await kit.app.listen({ host: "127.0.0.1", port: 0 });
  const address = kit.app.server.address();
  assert.ok(address !== null && typeof address === "object");
  door.targetPort = address.port;
  const dir = mkdtempSync(join(tmpdir(), "cs-agent-"));
  const person = await kit.newPerson();

  return {
    kit,
    door,
    server: door.url,
    person,
    dir,
    async close() {
      await kit.app.close();
      await door.close();
      await database.dispose();
      rmSync(dir, { recursive: true, force: true });
    },
    newAgent: () => kit.newAgent(person, { allowed_actions: ALLOWED }),
    clientFor: (agent, clientOptions = {}) =>
      createAgentClient({
        server: door.url,
        privateKey: agent.keys.privateKey,
        keyId: agent.keyId,
        agentId: agent.id,
        now: () => kit.clock.now(),
        ...clientOptions,
      }),
    async enrollmentCode(body = {}) {
      await kit.accounts.stepUp(person.cookie, person.authenticator);
      const created = await kit.personCall(person, "POST", "/v1/agents", {
        name: "CLI bot",
        allowed_actions: ALLOWED,
        ...body,
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      return created.body.credential.code as string;
    },
    async decide(id, number, decision = "approve") {
      const { res } = await kit.decide(person, id, { decision, ...(number === null ? {} : { number }) });
      assert.equal(res.status, 200, JSON.stringify(res.body));
    },
  };
}
