import { CountersignError } from "@countersign/protocol";
import type { AgentRequestCheck } from "../agent-request.ts";

// RFC 6750 §2.1: "Bearer" 1*SP b64token; the scheme name is case-insensitive (RFC 9110 §11.1).
const BEARER = /^bearer +([A-Za-z0-9\-._~+/]+=*)$/i;

/**
 * Bearer-only agents (DESIGN §4.2) present `Authorization: Bearer cs_agt_…` instead of a
 * signature. Refused outright while `COUNTERSIGN_BEARER_ONLY_ALLOWED` is off. The token is found
 * by its keyed digest, so no stored secret is compared byte by byte; an unknown, malformed or
 * expired token gets one code.
 */
export const checkBearerToken: AgentRequestCheck = async (request, state, deps) => {
  if (!deps.bearerOnlyAllowed) throw new CountersignError("bearer_not_allowed");
  const match = BEARER.exec(request.parts.headers.authorization ?? "");
  if (match?.[1] === undefined) throw new CountersignError("unknown_agent");
  const resolved = await deps.resolveBearerToken(match[1]);
  if (resolved === null || resolved.expiresAt <= deps.clock.now()) throw new CountersignError("unknown_agent");
  state.authMode = "bearer_only";
  state.agent = resolved.agent;
};
