export { type ApprovalToolOutput, approvalToolResult } from "./approval-tool-result.ts";
export { createApprovalMcpServer } from "./create-approval-mcp-server.ts";
export { createMcpGate, type McpGateOptions } from "./create-mcp-gate.ts";
export { fillTemplate, type GatePolicy, type GateRule, parseGatePolicy } from "./gate-policy.ts";
export {
  type McpRequestContext,
  type SeekApprovalOptions,
  type SeekApprovalResult,
  seekApproval,
} from "./seek-approval.ts";
