import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import type { DisplayPayload } from "@countersign/protocol";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import type { Progress } from "@modelcontextprotocol/sdk/types.js";
import { verifyReceipt } from "../receipts/verify-receipt.ts";
import { type AgentTestWorld, createAgentTestWorld } from "../test-support/agent-test-world.ts";
import { runCliToEnd } from "../test-support/cli-harness.ts";
import { CLI_BIN } from "../test-support/cli-process.ts";

const UPSTREAM = fileURLToPath(new URL("../test-support/upstream-mcp-server.ts", import.meta.url));

// `countersign-agent mcp-gate --policy FILE -- UPSTREAM…` in front of a real MCP server, both as
// processes, driven by the MCP SDK's own client: the named tool runs only once approved.
describe("the MCP gate", () => {
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
    const policy = join(world.dir, "gate-policy.json");
    writeFileSync(
      policy,
      JSON.stringify({ tools: { deploy: { action_type: "mcp.deploy", title: "Deploy {service}", ttl_seconds: 120 } } }),
    );
    client = new Client({ name: "test-client", version: "1.0.0" });
    await client.connect(
      new StdioClientTransport({
        command: process.execPath,
        args: [CLI_BIN, "mcp-gate", "--policy", policy, "--", process.execPath, UPSTREAM],
        env: { PATH: process.env.PATH ?? "", COUNTERSIGN_KEY_FILE: keyFile },
        stderr: "inherit",
      }),
    );
  });
  after(async () => {
    await client?.close();
    await world.close();
  });

  function deploy(service: string): {
    call: Promise<unknown>;
    marker: string;
    shown: Promise<{ id: string; number: string }>;
  } {
    const marker = join(world.dir, `deployed-${service}`);
    let resolveShown: (value: { id: string; number: string }) => void = () => {};
    const shown = new Promise<{ id: string; number: string }>((resolve) => {
      resolveShown = resolve;
    });
    const call = client.callTool({ name: "deploy", arguments: { service, marker } }, undefined, {
      onprogress: (progress: Progress) => {
        const match = (progress.message ?? "").match(/typing (\d{3}) (\d{3}) \(request (apr_[A-Za-z0-9_-]{22})/);
        if (match) resolveShown({ number: `${match[1]}${match[2]}`, id: match[3] ?? "" });
      },
    });
    return { call, marker, shown };
  }

  it("lists the upstream's tools and marks the gated one", async () => {
    const { tools } = await client.listTools();
    const byName = new Map(tools.map((tool) => [tool.name, tool]));
    assert.deepEqual([...byName.keys()].sort(), ["deploy", "echo"]);
    assert.match(byName.get("deploy")?.description ?? "", /must first be approved/);
    assert.equal(byName.get("echo")?.description, "Echoes its text.");
  });

  it("passes a tool the policy does not name straight through", async () => {
    const before = world.kit.events.filter((e) => e.type === "approval.created").length;
    const result = await client.callTool({ name: "echo", arguments: { text: "hi" } });
    assert.deepEqual(result.content, [{ type: "text", text: "echo: hi" }]);
    assert.equal(world.kit.events.filter((e) => e.type === "approval.created").length, before, "no approval asked");
  });

  it("blocks the named tool until the person approves, then runs it with the receipt attached", async () => {
    const { call, marker, shown } = deploy("api");
    const { id, number } = await shown;
    const asked = await world.kit.personCall(world.person, "GET", `/v1/me/approvals/${id}`);
    const display = asked.body.approval.display_payload as DisplayPayload;
    assert.equal(display.title, "Deploy api");
    assert.deepEqual(display.context, {
      mcp_server: "upstream-test",
      tool: "deploy",
      arguments: { service: "api", marker },
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(existsSync(marker), false, "the upstream has not been called while the approval is pending");

    await world.decide(id, number);
    const result = (await call) as { content: unknown; isError?: boolean; _meta?: Record<string, string> };
    assert.equal(result.isError, undefined);
    assert.deepEqual(result.content, [{ type: "text", text: "deployed api" }]);
    assert.equal(readFileSync(marker, "utf8"), "api");
    assert.equal(result._meta?.["countersign/approval_id"], id);
    const { claims } = await verifyReceipt(result._meta?.["countersign/receipt"] ?? "", {
      jwksUrl: new URL("/.well-known/jwks.json", world.server),
      issuer: world.kit.config.publicUrl,
      actionType: "mcp.deploy",
      displayPayload: display,
      currentDate: new Date(world.kit.clock.now()),
    });
    assert.equal(claims.jti, id);
  });

  it("never runs the named tool when the person rejects", async () => {
    const { call, marker, shown } = deploy("db");
    const { id } = await shown;
    await world.decide(id, null, "reject");
    const result = (await call) as { isError?: boolean; content: Array<{ text: string }> };
    assert.equal(result.isError, true);
    assert.match(
      result.content[0]?.text ?? "",
      /Not run: deploy needs the person's approval, and the request was rejected/,
    );
    assert.equal(existsSync(marker), false);
  });
});
