import { CountersignError } from "@countersign/protocol";
import type { AgentRequestCheck } from "../agent-request.ts";

/**
 * The signed `@authority` must be exactly the configured API host (DESIGN §4.1, T-11), so a
 * signature made for another deployment or host name is refused.
 */
export const checkHost: AgentRequestCheck = (request, _state, deps) => {
  if (request.parts.authority !== deps.apiHost) throw new CountersignError("misdirected_request");
};
