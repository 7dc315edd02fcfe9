import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { createMcpGate } from "../mcp/create-mcp-gate.ts";
import { parseGatePolicy } from "../mcp/gate-policy.ts";
import { PACKAGE_VERSION } from "../mcp/package-version.ts";
import { usageError } from "./cli-error.ts";
import type { CliIo } from "./cli-io.ts";
import { EXIT } from "./exit-codes.ts";
import { loadAgentClient } from "./load-agent-client.ts";

/**
 * `countersign-agent mcp-gate --policy FILE [--key-file PATH] [--server URL] -- UPSTREAM_CMD ARGS…`
 *
 * Starts the upstream MCP server as a child process and serves it over stdio through the gate
 * (see `createMcpGate`): the tools the policy names run only once the person approves each call.
 * The upstream inherits the environment, except the `COUNTERSIGN_*` variables.
 *
 * @example
 * ```ts
 * await mcpGateCommand(["--policy", "gate.json", "--", "npx", "-y", "@modelcontextprotocol/server-filesystem", "."], io);
 * ```
 */
export async function mcpGateCommand(args: string[], io: CliIo): Promise<number> {
  const separator = args.indexOf("--");
  if (separator === -1 || separator === args.length - 1)
    throw usageError("mcp-gate needs the upstream command after --");
  const [command, ...commandArgs] = args.slice(separator + 1) as [string, ...string[]];
  const { values } = parseArgs({
    args: args.slice(0, separator),
    options: { policy: { type: "string" }, "key-file": { type: "string" }, server: { type: "string" } },
    strict: true,
  });
  if (values.policy === undefined) throw usageError("--policy FILE is required");
  let policyJson: unknown;
  try {
    policyJson = JSON.parse(await readFile(resolve(io.cwd, values.policy), "utf8"));
  } catch (error) {
    throw usageError(`--policy: cannot read ${values.policy} as JSON (${(error as Error).message})`);
  }
  const policy = parseGatePolicy(policyJson);
  const client = await loadAgentClient(values, io);

  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(io.env)) {
    if (value !== undefined && !name.startsWith("COUNTERSIGN_")) env[name] = value;
  }
  const upstream = new Client({ name: "countersign-gate", version: PACKAGE_VERSION });
  await upstream.connect(new StdioClientTransport({ command, args: commandArgs, env, cwd: io.cwd, stderr: "inherit" }));

  const gate = createMcpGate({ client, upstream, policy });
  const closed = new Promise<void>((done) => {
    gate.onclose = () => done();
    upstream.onclose = () => void gate.close();
  });
  await gate.connect(new StdioServerTransport(io.mcpStreams?.input, io.mcpStreams?.output));
  const input = io.mcpStreams?.input ?? process.stdin;
  input.once("end", () => void gate.close());
  io.signal?.addEventListener("abort", () => void gate.close(), { once: true });
  await closed;
  await upstream.close();
  return EXIT.approved;
}
