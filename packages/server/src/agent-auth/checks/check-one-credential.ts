import { CountersignError } from "@countersign/protocol";
import type { AgentRequestCheck } from "../agent-request.ts";

/**
 * A request carries one credential: a bearer token or a signature, never both (RFC 6750 §3.1
 * treats more than one method as an invalid request). Refusing the mix keeps a signed agent's
 * request from being read as a bearer one, or the reverse (T-10).
 */
export const checkOneCredential: AgentRequestCheck = (request) => {
  const headers = request.parts.headers;
  if (headers.signature !== undefined || headers["signature-input"] !== undefined) {
    throw new CountersignError("invalid_request", {
      message: "Send either a request signature or a bearer token, not both.",
    });
  }
};
