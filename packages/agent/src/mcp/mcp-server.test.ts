import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { LoggingMessageNotificationSchema, type Progress } from "@modelcontextprotocol/sdk/types.js";
import { verifyReceipt } from "../receipts/verify-receipt.ts";
import { type AgentTestWorld, createAgentTestWorld } from "../test-support/agent-test-world.ts";
import { runCliToEnd } from "../test-support/cli-harness.ts";
import { CLI_BIN } from "../test-support/cli-process.ts";

/** The first progress notification and the first log message the server sends. */
function watch(client: Client): {
  firstLog: Promise<unknown>;
  onprogress: (progress: Progress) => void;
  firstProgress: Promise<Progress>;
} {
  const firstLog = new Promise<unknown>((resolve) => {
    client.setNotificationHandler(LoggingMessageNotificationSchema, (notification) => {
      resolve(notification.params.data);
    });
  });
  let resolveFirst: (progress: Progress) => void = () => {};
  const firstProgress = new Promise<Progress>((resolve) => {
    resolveFirst = resolve;
  });
  return { firstLog, onprogress: (progress) => resolveFirst(progress), firstProgress };
}

function numberIn(message: string | undefined): { number: string; id: string } {
  const match = (message ?? "").match(/typing (\d{3}) (\d{3}) \(request (apr_[A-Za-z0-9_-]{22})/);
  assert.ok(match, `the number is in the notification: ${message}`);
  return { number: `${match[1]}${match[2]}`, id: match[3] ?? "" };
}

// `countersign-agent mcp`, spoken to over stdio by the MCP SDK's own client.
describe("the approval MCP server", () => {
  let world: AgentTestWorld;
  let client: Client;

  before(async () => {
    // The server's clock is a test clock; the other process signs with the real one.
    world = await createAgentTestWorld({ startAt: Date.now() });
    const keyFile = join(world.dir, "agent-key.json");
    const enrolled = await runCliToEnd(["enroll", "--server", world.server, "--code", await world.enrollmentCode()], {
      env: { COUNTERSIGN_KEY_FILE: keyFile },
      cwd: world.dir,
    });
    assert.equal(enrolled.code, 0, enrolled.stderr);
    client = new Client({ name: "test-client", version: "1.0.0" });
    await client.connect(
      new StdioClientTransport({
        command: process.execPath,
        args: [CLI_BIN, "mcp"],
        env: { PATH: process.env.PATH ?? "", COUNTERSIGN_KEY_FILE: keyFile },
        stderr: "inherit",
      }),
    );
  });
  after(async () => {
    await client?.close();
    await world.close();
  });

  it("lists request_approval and wait_for_approval", async () => {
    const { tools } = await client.listTools();
    assert.deepEqual(tools.map((t) => t.name).sort(), ["request_approval", "wait_for_approval"]);
    const request = tools.find((t) => t.name === "request_approval");
    assert.deepEqual(Object.keys(request?.inputSchema.properties ?? {}).sort(), [
      "action_type",
      "body",
      "context",
      "title",
      "ttl_seconds",
      "wait",
    ]);
  });

  it("request_approval sends the number first, then returns the approval with its receipt", async () => {
    const watcher = watch(client);
    const call = client.callTool(
      {
        name: "request_approval",
        arguments: { action_type: "mcp.deploy", title: "Deploy api", context: { commit: "a1b2c3" } },
      },
      undefined,
      { onprogress: watcher.onprogress },
    );
    const first = await watcher.firstProgress;
    assert.equal(first.progress, 0);
    const { number, id } = numberIn(first.message);
    const log = (await watcher.firstLog) as { number_match: string; approval_id: string };
    assert.deepEqual([log.number_match, log.approval_id], [number, id], "and as a log message");
    await world.decide(id, number);

    const result = await call;
    assert.equal(result.isError, undefined);
    const output = result.structuredContent as { approved: boolean; status: string; receipt: string; id: string };
    assert.equal(output.status, "approved");
    assert.equal(output.approved, true);
    assert.equal(output.id, id);
    assert.match(String((result.content as Array<{ text: string }>)[0]?.text), /^APPROVED/);
    const { claims } = await verifyReceipt(output.receipt, {
      jwksUrl: new URL("/.well-known/jwks.json", world.server),
      issuer: world.kit.config.publicUrl,
      actionType: "mcp.deploy",
      currentDate: new Date(world.kit.clock.now()),
    });
    assert.equal(claims.jti, id);
  });

  it("with wait=false returns the number at once; wait_for_approval then reports a rejection", async () => {
    const asked = await client.callTool({
      name: "request_approval",
      arguments: { action_type: "mcp.delete", title: "Delete the staging database", wait: false },
    });
    const open = asked.structuredContent as { id: string; status: string; number_match: string; approved: boolean };
    assert.equal(open.status, "pending");
    assert.match(open.number_match, /^\d{6}$/);
    assert.equal(open.approved, false);
    const waiting = client.callTool({ name: "wait_for_approval", arguments: { id: open.id } });
    await world.decide(open.id, null, "reject");
    const decided = (await waiting).structuredContent as { status: string; approved: boolean; receipt: null };
    assert.deepEqual([decided.status, decided.approved, decided.receipt], ["rejected", false, null]);
  });

  it("cancels the approval request when the MCP client cancels the call", async () => {
    const watcher = watch(client);
    const controller = new AbortController();
    const call = client.callTool(
      { name: "request_approval", arguments: { action_type: "mcp.cancel", title: "Restart" } },
      undefined,
      { onprogress: watcher.onprogress, signal: controller.signal },
    );
    const { id } = numberIn((await watcher.firstProgress).message);
    controller.abort();
    await assert.rejects(call);
    let status = "";
    for (let i = 0; i < 50 && status !== "canceled"; i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      const shown = await world.kit.personCall(world.person, "GET", `/v1/me/approvals/${id}`);
      status = shown.body.approval.status;
    }
    assert.equal(status, "canceled");
  });

  it("reports a refused request as a tool error with its code", async () => {
    const result = await client.callTool({
      name: "request_approval",
      arguments: { action_type: "payments.send", title: "Pay" },
    });
    assert.equal(result.isError, true);
    assert.match(
      String((result.content as Array<{ text: string }>)[0]?.text),
      /agent may not request this action type/,
    );
  });
});
