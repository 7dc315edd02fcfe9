// A tiny MCP server for the gate's tests, run as its own process over stdio:
// `echo` answers at once; `deploy` writes a marker file, so a test can tell whether it ran.
import { writeFileSync } from "node:fs";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { z } from "zod";

const server = new McpServer({ name: "upstream-test", version: "1.0.0" });

server.registerTool(
  "echo",
  { description: "Echoes its text.", inputSchema: { text: z.string() } },
  async ({ text }) => ({ content: [{ type: "text", text: `echo: ${text}` }] }),
);

server.registerTool(
  "deploy",
  {
    description: "Deploys a service.",
    inputSchema: { service: z.string(), marker: z.string() },
  },
  async ({ service, marker }) => {
    writeFileSync(marker, service);
    return { content: [{ type: "text", text: `deployed ${service}` }] };
  },
);

await server.connect(new StdioServerTransport());
