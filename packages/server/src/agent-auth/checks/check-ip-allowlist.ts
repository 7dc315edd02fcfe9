import { CountersignError } from "@countersign/protocol";
import { createIpMatcher } from "../../net/ip-allowlist.ts";
import type { AgentRequestCheck } from "../agent-request.ts";

/**
 * When the agent has an IP/CIDR allowlist (T-2; mandatory for bearer agents, DESIGN §4.2), the
 * client address must be on it. The address is the socket peer, or the `X-Forwarded-For` entry
 * Fastify resolved through the configured trusted proxies only (COUNTERSIGN_TRUST_PROXY).
 */
export const checkIpAllowlist: AgentRequestCheck = (request, state) => {
  const list = state.agent?.ipAllowlist;
  if (list === undefined) throw new CountersignError("unknown_agent");
  if (list.length === 0) return;
  if (!createIpMatcher(list)(request.clientIp)) throw new CountersignError("ip_not_allowed");
};
