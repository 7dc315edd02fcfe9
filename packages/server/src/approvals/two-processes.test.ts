import assert from "node:assert/strict";
import { request as httpRequest } from "node:http";
import { after, before, it } from "node:test";
import { randomBytes, signRequest, toBase64Url, utf8 } from "@countersign/protocol";
import { freePort } from "../../test-support/free-port.ts";
import { type CliProcess, startCli } from "../../test-support/run-cli.ts";
import { describeEachDatabase } from "../../test-support/test-database.ts";
import {
  type ApprovalTestKit,
  ASK,
  createApprovalTestKit,
  type TestAgent,
  type TestPerson,
} from "./test-support/approval-test-kit.ts";

// Issue 6 part 7: with PostgreSQL LISTEN/NOTIFY, a request created on one server process reaches
// an SSE client connected to another. Here the second process is the real `countersign serve`,
// sharing nothing with this one but the database and the secrets file.
describeEachDatabase("approval events across two server processes", (ctx) => {
  let kit: ApprovalTestKit;
  let alice: TestPerson;
  let agent: TestAgent;
  let other: CliProcess | undefined;
  let otherPort = 0;
  let thisPort = 0;

  before(async () => {
    if (ctx.kind !== "postgres") return;
    kit = await createApprovalTestKit(ctx.db, { realTime: true });
    alice = await kit.newPerson("alice@example.com");
    agent = await kit.newAgent(alice);
    await kit.app.listen({ host: "127.0.0.1", port: 0 });
    thisPort = (kit.app.server.address() as { port: number }).port;
    otherPort = await freePort();
    other = startCli(["serve"], {
      PATH: process.env.PATH ?? "",
      COUNTERSIGN_ENV: "test",
      DATABASE_URL: ctx.url as string,
      COUNTERSIGN_SECRETS_FILE: kit.config.secrets.file as string,
      COUNTERSIGN_PUBLIC_URL: kit.config.publicUrl,
      COUNTERSIGN_LISTEN_HOST: "127.0.0.1",
      COUNTERSIGN_PORT: String(otherPort),
      COUNTERSIGN_LOG_LEVEL: "warn",
    });
    await waitForHealth(otherPort).catch((error: Error) => {
      throw new Error(`${error.message}; its output:\n${other?.output()}`);
    });
  });

  after(async () => {
    await other?.stop("SIGTERM");
    if (ctx.kind === "postgres") await kit.app.close();
  });

  it("a request created through the other process reaches the person's stream on this one", async (t) => {
    if (ctx.kind !== "postgres") {
      t.skip("PGlite belongs to one process; there is no second process to run");
      return;
    }
    const stream = openStream(thisPort, "/v1/me/events", { host: kit.config.appHost, cookie: alice.cookie });
    await stream.next((event) => event.name === "ready");

    const created = await signedPost(otherPort, kit, agent, "/v1/approvals", ASK);
    assert.equal(created.status, 201, created.body);
    const id = (JSON.parse(created.body) as { id: string }).id;

    const event = await stream.next((e) => e.name === "approval" && e.data.approval_id === id);
    assert.equal(event.data.type, "approval.created");
    assert.equal(event.data.status, "pending");
    stream.close();
  });

  it("a decision made on this process reaches the agent's stream on the other one", async (t) => {
    if (ctx.kind !== "postgres") {
      t.skip("PGlite belongs to one process; there is no second process to run");
      return;
    }
    const created = await kit.ask(agent, { ...ASK, action_type: "db.migrate" });
    assert.equal(created.status, 201);
    const id = created.body.id as string;
    const headers = await signedHeaders(kit, agent, "GET", `/v1/approvals/${id}/events`);
    const stream = openStream(otherPort, `/v1/approvals/${id}/events`, headers);
    const first = await stream.next((e) => e.name === "approval");
    assert.equal(first.data.status, "pending");

    const { res } = await kit.decide(alice, id);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const decided = await stream.next((e) => e.name === "approval" && e.data.status === "approved");
    assert.match(decided.data.receipt, /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    await stream.ended;
  });
});

interface StreamEvent {
  name: string;
  // biome-ignore lint/suspicious/noExplicitAny: event data is inspected field by field
  data: any;
}

/** A minimal SSE reader over node:http, for a real second connection to a real socket. */
function openStream(port: number, path: string, headers: Record<string, string>) {
  const events: StreamEvent[] = [];
  const waiters = new Set<() => void>();
  let buffer = "";
  let resolveEnded: () => void = () => {};
  const ended = new Promise<void>((resolve) => {
    resolveEnded = resolve;
  });
  const req = httpRequest(
    { host: "127.0.0.1", port, path, headers: { ...headers, accept: "text/event-stream" } },
    (res) => {
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        buffer += chunk;
        let end = buffer.indexOf("\n\n");
        while (end !== -1) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const name = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (name !== undefined && data !== undefined) events.push({ name, data: JSON.parse(data) });
          end = buffer.indexOf("\n\n");
        }
        for (const wake of waiters) wake();
      });
      res.on("end", resolveEnded);
    },
  );
  req.on("error", () => resolveEnded());
  req.end();
  return {
    ended,
    close: () => req.destroy(),
    next(match: (event: StreamEvent) => boolean, ms = 10_000): Promise<StreamEvent> {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = events.find(match);
          if (found === undefined) return;
          events.splice(events.indexOf(found), 1);
          clearTimeout(timer);
          waiters.delete(check);
          resolve(found);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no matching event within ${ms} ms; got ${JSON.stringify(events)}`));
        }, ms);
        waiters.add(check);
        check();
      });
    },
  };
}

async function signedHeaders(kit: ApprovalTestKit, agent: TestAgent, method: string, url: string, body?: Uint8Array) {
  const headers: Record<string, string> = body ? { "content-type": "application/json" } : {};
  if (method === "POST") headers["idempotency-key"] = crypto.randomUUID();
  const added = await signRequest(
    { method, authority: kit.config.apiHost, path: url, query: "", headers, ...(body ? { body } : {}) },
    { keyId: agent.keyId, privateKey: agent.keys.privateKey },
    { created: Math.floor(kit.clock.now() / 1000), nonce: toBase64Url(randomBytes(16)) },
  );
  return { host: kit.config.apiHost, ...headers, ...added };
}

async function signedPost(port: number, kit: ApprovalTestKit, agent: TestAgent, url: string, payload: unknown) {
  const body = utf8(JSON.stringify(payload));
  const headers = await signedHeaders(kit, agent, "POST", url, body);
  return send(port, "POST", url, { ...headers, "content-length": String(body.length) }, body);
}

/** One request over node:http (fetch may not set the Host header the host constraint checks). */
function send(
  port: number,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: Uint8Array,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: "127.0.0.1", port, method, path, headers }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        text += chunk;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on("error", reject);
    req.end(body === undefined ? undefined : Buffer.from(body));
  });
}

async function waitForHealth(port: number): Promise<void> {
  const until = Date.now() + 30_000;
  for (;;) {
    const res = await send(port, "GET", "/healthz", { host: "localhost:8787" }).catch(() => null);
    if (res?.status === 200) return;
    if (Date.now() > until) throw new Error("the second server did not start");
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
