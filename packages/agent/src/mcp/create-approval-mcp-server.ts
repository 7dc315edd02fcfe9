import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";
import type { AgentClient } from "../client/create-agent-client.ts";
import { approvalToolResult } from "./approval-tool-result.ts";
import { PACKAGE_VERSION } from "./package-version.ts";
import { seekApproval } from "./seek-approval.ts";

const OUTPUT = {
  id: z.string(),
  status: z.string(),
  reason: z.string().nullable(),
  approved: z.boolean(),
  number_match: z.string().nullable(),
  display_payload_hash: z.string().nullable(),
  expires_at: z.string(),
  receipt: z.string().nullable(),
  created: z.boolean(),
};

/**
 * The `countersign-agent mcp` server: MCP tools that let an AI agent ask its person for approval.
 *
 * - `request_approval` (action_type, title, body, context, ttl_seconds, wait): creates the
 *   request, sends the number to show the person straight away as a progress notification and a
 *   log message, and — unless `wait` is false — returns the final decision with the receipt.
 * - `wait_for_approval` (id): waits for a request made with `wait: false` and returns its decision.
 *
 * A decision that is not an approval is a normal result (`approved: false`), not a tool error.
 * Cancelling the tool call cancels the approval request.
 *
 * @example
 * ```ts
 * import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
 * const server = createApprovalMcpServer(await createAgentClient({ keyFile }));
 * await server.connect(new StdioServerTransport());
 * ```
 */
export function createApprovalMcpServer(client: AgentClient): McpServer {
  const server = new McpServer(
    { name: "countersign", version: PACKAGE_VERSION },
    {
      capabilities: { logging: {} },
      instructions:
        "Before any consequential action (deploying, deleting, paying, sending), call request_approval. " +
        "Show the person the number it reports, and act only if the result says approved.",
    },
  );
  // The display hash of each request this server made, so that wait_for_approval checks the
  // receipt's dph as request_approval's own wait does (it is computed locally for end-to-end
  // context, which the server cannot hash).
  const asked = new Map<string, string>();

  server.registerTool(
    "request_approval",
    {
      title: "Ask the person to approve an action",
      description:
        "Asks the person, on their phone, to approve an action before you take it. They confirm by typing the " +
        "6-digit number this tool reports (as a notification, and in the result with wait=false): show it to them. " +
        "Returns approved, rejected, expired or canceled; only act when approved.",
      inputSchema: {
        action_type: z
          .string()
          .regex(/^[a-z0-9][a-z0-9._:-]{0,63}$/)
          .describe("What kind of action, e.g. deploy.production; must be allowed for this agent"),
        title: z.string().min(1).max(120).describe("One line the person reads first"),
        body: z.string().max(2000).optional().describe("Plain-text details"),
        context: z.record(z.string(), z.unknown()).optional().describe("Facts shown as a table (≤ 16 KiB of JSON)"),
        ttl_seconds: z.number().int().min(30).max(1800).optional().describe("How long the person has to decide"),
        wait: z
          .boolean()
          .optional()
          .describe("Wait for the decision (default). false: return the number now, then call wait_for_approval"),
      },
      outputSchema: OUTPUT,
      annotations: { openWorldHint: true, readOnlyHint: false, destructiveHint: false },
    },
    async (args, extra) => {
      const { pending, outcome } = await seekApproval(
        client,
        {
          actionType: args.action_type,
          title: args.title,
          ...(args.body === undefined ? {} : { body: args.body }),
          ...(args.context === undefined ? {} : { context: args.context }),
          ...(args.ttl_seconds === undefined ? {} : { ttlSeconds: args.ttl_seconds }),
        },
        extra,
        { wait: args.wait !== false },
      );
      if (outcome === null) asked.set(pending.id, pending.displayPayloadHash);
      return approvalToolResult(outcome, pending.approval, pending.created);
    },
  );

  server.registerTool(
    "wait_for_approval",
    {
      title: "Wait for the person's decision",
      description: "Waits for the decision on a request made with request_approval and wait=false.",
      inputSchema: {
        id: z
          .string()
          .regex(/^apr_[A-Za-z0-9_-]{22}$/)
          .describe("The request id"),
      },
      outputSchema: OUTPUT,
      annotations: { openWorldHint: true, readOnlyHint: true },
    },
    async (args, extra) => {
      const expected = asked.get(args.id);
      const check = expected === undefined ? {} : { displayPayloadHash: expected };
      const state = await client.get(args.id, { signal: extra.signal, ...check });
      const outcome = await client.wait(state, { signal: extra.signal, ...check });
      asked.delete(args.id);
      return approvalToolResult(outcome, state);
    },
  );

  return server;
}
