import { CountersignError } from "@countersign/protocol";
import { createIpMatcher } from "../../net/ip-allowlist.ts";
import { isUntrustedForward } from "../../net/untrusted-forward.ts";
import type { AgentRequestCheck } from "../agent-request.ts";

/**
 * When the agent has an IP/CIDR allowlist (T-2; mandatory for bearer agents, DESIGN §4.2), the
 * client address must be on it. The address is the socket peer, or the `X-Forwarded-For` entry
 * Fastify resolved through the configured trusted proxies only (COUNTERSIGN_TRUST_PROXY). A
 * request forwarded by a proxy nobody configured is refused: its peer address is the proxy's.
 */
export const checkIpAllowlist: AgentRequestCheck = (request, state, deps) => {
  const list = state.agent?.ipAllowlist;
  if (list === undefined) throw new CountersignError("unknown_agent");
  if (list.length === 0) return;
  if (isUntrustedForward(request.parts.headers, deps.proxyTrusted === true)) {
    throw new CountersignError("ip_not_allowed");
  }
  if (!matcherFor(list)(request.clientIp)) throw new CountersignError("ip_not_allowed");
};

// Building a BlockList costs more than matching one, and a freshly read agent row brings a new
// array: matchers are kept by the list's content, boundedly.
const MATCHERS = new Map<string, (ip: string) => boolean>();
const MAX_MATCHERS = 1_000;

function matcherFor(list: readonly string[]): (ip: string) => boolean {
  const key = list.join(",");
  let matcher = MATCHERS.get(key);
  if (matcher === undefined) {
    matcher = createIpMatcher(list);
    if (MATCHERS.size >= MAX_MATCHERS) MATCHERS.delete(MATCHERS.keys().next().value as string);
    MATCHERS.set(key, matcher);
  }
  return matcher;
}
