import { CountersignError } from "@countersign/protocol";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import {
  CallToolRequestSchema,
  type CallToolResult,
  GetPromptRequestSchema,
  ListPromptsRequestSchema,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  ListToolsRequestSchema,
  LoggingMessageNotificationSchema,
  PromptListChangedNotificationSchema,
  ReadResourceRequestSchema,
  ResourceListChangedNotificationSchema,
  type ServerCapabilities,
  ToolListChangedNotificationSchema,
} from "@modelcontextprotocol/sdk/types.js";
import type { AgentClient } from "../client/create-agent-client.ts";
import { fillTemplate, type GatePolicy } from "./gate-policy.ts";
import { PACKAGE_VERSION } from "./package-version.ts";
import { seekApproval } from "./seek-approval.ts";

/**
 * Options of {@link createMcpGate}.
 *
 * @example
 * ```ts
 * createMcpGate({ client, upstream, policy: parseGatePolicy({ tools: { deploy: { action_type: "mcp.deploy" } } }) });
 * ```
 */
export interface McpGateOptions {
  /** Asks for the approvals. */
  readonly client: AgentClient;
  /** An MCP client already connected to the server being gated. */
  readonly upstream: Client;
  readonly policy: GatePolicy;
}

// Calls through the gate may wait for a person; the downstream client's cancellation ends them.
const UPSTREAM_CALL_TIMEOUT_MS = 3_600_000;
const NOTE = "\n\n[Countersign: each call must first be approved by the person on their phone.]";

/**
 * An MCP server that stands in front of another one (`countersign-agent mcp-gate`): it lists the
 * upstream's tools, resources and prompts as its own and passes calls through — except that a
 * call to a tool the policy names runs only after the person approves it on their phone. The
 * approval request shows the tool and its exact arguments, which are then passed on unchanged,
 * so the person approves that call and no other. Until approved the upstream never sees the call;
 * rejected, expired or canceled, the caller gets a tool error and the tool does not run. The
 * number to type is sent as a progress notification and a log message as soon as it exists.
 *
 * @example
 * ```ts
 * const upstream = new Client({ name: "countersign-gate", version: "1" });
 * await upstream.connect(new StdioClientTransport({ command: "npx", args: ["some-mcp-server"] }));
 * const gate = createMcpGate({ client, upstream, policy: parseGatePolicy(json) });
 * await gate.connect(new StdioServerTransport());
 * ```
 */
export function createMcpGate(options: McpGateOptions): Server {
  const { client, upstream, policy } = options;
  const upstreamCapabilities = upstream.getServerCapabilities() ?? {};
  const upstreamInfo = upstream.getServerVersion();
  const upstreamName = upstreamInfo?.name ?? "upstream";
  const capabilities: ServerCapabilities = {
    logging: {},
    tools: { listChanged: upstreamCapabilities.tools?.listChanged === true },
    ...(upstreamCapabilities.resources
      ? { resources: { listChanged: upstreamCapabilities.resources.listChanged === true } }
      : {}),
    ...(upstreamCapabilities.prompts
      ? { prompts: { listChanged: upstreamCapabilities.prompts.listChanged === true } }
      : {}),
  };
  const instructions = upstream.getInstructions();
  const server = new Server(
    { name: `countersign-gate (${upstreamName})`, version: PACKAGE_VERSION },
    { capabilities, ...(instructions ? { instructions } : {}) },
  );

  server.setRequestHandler(ListToolsRequestSchema, async (request, extra) => {
    const listed = await upstream.listTools(request.params, { signal: extra.signal });
    return {
      ...listed,
      tools: listed.tools.map((tool) =>
        policy.ruleFor(tool.name) === null ? tool : { ...tool, description: `${tool.description ?? ""}${NOTE}`.trim() },
      ),
    };
  });

  server.setRequestHandler(CallToolRequestSchema, async (request, extra): Promise<CallToolResult> => {
    const { name } = request.params;
    const args = request.params.arguments ?? {};
    const token = extra._meta?.progressToken;
    const callUpstream = async (): Promise<CallToolResult> =>
      (await upstream.callTool(request.params, undefined, {
        signal: extra.signal,
        timeout: UPSTREAM_CALL_TIMEOUT_MS,
        ...(token === undefined
          ? {}
          : {
              onprogress: (progress) =>
                void extra
                  .sendNotification({ method: "notifications/progress", params: { ...progress, progressToken: token } })
                  .catch(() => undefined),
            }),
      })) as CallToolResult;

    const rule = policy.ruleFor(name);
    if (rule === null) return callUpstream();

    let approved: { id: string; receipt: string };
    try {
      const { outcome } = await seekApproval(
        client,
        {
          actionType: rule.actionType,
          title: fillTemplate(rule.title ?? "Run {tool}", name, args, 120),
          ...(rule.body === undefined ? {} : { body: fillTemplate(rule.body, name, args, 2000) }),
          context: { mcp_server: upstreamName, tool: name, arguments: args },
          ...(rule.ttlSeconds === undefined ? {} : { ttlSeconds: rule.ttlSeconds }),
        },
        extra,
        // An already open request for this action type was asked for another call's arguments.
        { requireNew: true },
      );
      if (outcome === null || outcome.status !== "approved") {
        const status = outcome?.status ?? "not decided";
        const reason = outcome?.reason ? `, ${outcome.reason}` : "";
        return blocked(`Not run: ${name} needs the person's approval, and the request was ${status}${reason}.`);
      }
      approved = { id: outcome.id, receipt: outcome.receipt };
    } catch (error) {
      if (extra.signal.aborted) throw error;
      const detail = error instanceof CountersignError ? `${error.code}: ${error.message}` : String(error);
      return blocked(`Not run: ${name} needs the person's approval, which could not be asked for (${detail}).`);
    }
    const result = await callUpstream();
    return {
      ...result,
      _meta: { ...result._meta, "countersign/approval_id": approved.id, "countersign/receipt": approved.receipt },
    };
  });

  if (upstreamCapabilities.resources) {
    server.setRequestHandler(ListResourcesRequestSchema, (request, extra) =>
      upstream.listResources(request.params, { signal: extra.signal }),
    );
    server.setRequestHandler(ListResourceTemplatesRequestSchema, (request, extra) =>
      upstream.listResourceTemplates(request.params, { signal: extra.signal }),
    );
    server.setRequestHandler(ReadResourceRequestSchema, (request, extra) =>
      upstream.readResource(request.params, { signal: extra.signal }),
    );
  }
  if (upstreamCapabilities.prompts) {
    server.setRequestHandler(ListPromptsRequestSchema, (request, extra) =>
      upstream.listPrompts(request.params, { signal: extra.signal }),
    );
    server.setRequestHandler(GetPromptRequestSchema, (request, extra) =>
      upstream.getPrompt(request.params, { signal: extra.signal }),
    );
  }

  // What the upstream announces reaches the downstream client.
  const forward = (notification: { method: string; params?: Record<string, unknown> | undefined }): Promise<void> =>
    server.notification(notification as Parameters<Server["notification"]>[0]).catch(() => undefined);
  upstream.setNotificationHandler(ToolListChangedNotificationSchema, forward);
  upstream.setNotificationHandler(ResourceListChangedNotificationSchema, forward);
  upstream.setNotificationHandler(PromptListChangedNotificationSchema, forward);
  upstream.setNotificationHandler(LoggingMessageNotificationSchema, forward);
  return server;
}

function blocked(text: string): CallToolResult {
  return { isError: true, content: [{ type: "text", text }] };
}
