export { CountersignError, type ErrorCode, isCountersignError } from "@countersign/protocol";
export { agentKeyId } from "./client/agent-key-id.ts";
export type { EventsOptions } from "./client/approval-events.ts";
export type { ApprovalInput } from "./client/approval-input.ts";
export { type ApprovalOutcome, outcomeOf } from "./client/approval-outcome.ts";
export {
  type ApprovalReason,
  type ApprovalState,
  type ApprovalStatus,
  isTerminalStatus,
} from "./client/approval-state.ts";
export {
  type AgentClient,
  type AgentClientOptions,
  type AgentIdentity,
  createAgentClient,
  type PendingApproval,
  type RequestApprovalOptions,
} from "./client/create-agent-client.ts";
export type { ErrorResponseCause } from "./client/decode-error-response.ts";
export { type EnrollAgentOptions, type EnrolledAgent, enrollAgent } from "./client/enroll-agent.ts";
export type { WaitOptions } from "./client/wait-for-outcome.ts";
export { type E2ePin, parseE2ePin } from "./e2e/e2e-pin.ts";
export { type AgentKeyFile, parseAgentKeyFile } from "./key-file/agent-key-file.ts";
export type { JwksSource } from "./receipts/jwks-key-set.ts";
export { type VerifiedReceipt, type VerifyReceiptOptions, verifyReceipt } from "./receipts/verify-receipt.ts";
export {
  type VerifyWebhookOptions,
  verifyWebhook,
  type WebhookEvent,
  type WebhookRequestLike,
} from "./webhooks/verify-webhook.ts";
