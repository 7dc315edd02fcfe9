import { parseArgs } from "node:util";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { createApprovalMcpServer } from "../mcp/create-approval-mcp-server.ts";
import type { CliIo } from "./cli-io.ts";
import { EXIT } from "./exit-codes.ts";
import { loadAgentClient } from "./load-agent-client.ts";

/**
 * `countersign-agent mcp [--key-file PATH] [--server URL]`: the approval MCP server over stdio
 * (see `createApprovalMcpServer`). Runs until the MCP client closes standard input.
 *
 * @example
 * ```ts
 * await mcpCommand([], io); // an MCP client starts it as: countersign-agent mcp
 * ```
 */
export async function mcpCommand(args: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { "key-file": { type: "string" }, server: { type: "string" } },
    strict: true,
  });
  const client = await loadAgentClient(values, io);
  const server = createApprovalMcpServer(client);
  const transport = new StdioServerTransport(io.mcpStreams?.input, io.mcpStreams?.output);
  const closed = new Promise<void>((resolve) => {
    server.server.onclose = () => resolve();
  });
  await server.connect(transport);
  const input = io.mcpStreams?.input ?? process.stdin;
  input.once("end", () => void server.close());
  io.signal?.addEventListener("abort", () => void server.close(), { once: true });
  await closed;
  return EXIT.approved;
}
