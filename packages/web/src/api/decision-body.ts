import type { Decision } from "@countersign/protocol";

/** How the request's context stood on this device when the person decided (open-approval-context.ts). */
export type ContextKind = "plain" | "opened" | "locked" | "unreadable";

/**
 * The body of `POST /v1/me/approvals/:id/decision`. A rejection of an end-to-end request whose
 * context this device could not open (locked, or sealed to another key set) says so with
 * `context_unread: true`: its display hash is over the payload with `context: null`, as served,
 * and the server records that the person rejected without reading the context. An approval is
 * never unread (the screen allows none), and a plaintext or opened request never carries it.
 */
export function decisionBody(args: {
  decision: Decision;
  digits: string;
  displayPayloadHash: string;
  nonce: string;
  credential: unknown;
  notRequested: boolean;
  context: ContextKind;
}): Record<string, unknown> {
  const unread = args.context === "locked" || args.context === "unreadable";
  return {
    decision: args.decision,
    ...(args.decision === "approve" ? { number: args.digits } : {}),
    display_payload_hash: args.displayPayloadHash,
    nonce: args.nonce,
    credential: args.credential,
    ...(args.notRequested ? { not_requested: true } : {}),
    ...(args.decision === "reject" && unread ? { context_unread: true } : {}),
  };
}
