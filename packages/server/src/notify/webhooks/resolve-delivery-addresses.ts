import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import { classifyAddress, isDeliverableAddress } from "./classify-address.ts";

/** One address a host name resolved to. */
export interface ResolvedAddress {
  readonly address: string;
  readonly family: 4 | 6;
}

/** Resolves a host name to every address it has. Injected in tests instead of real DNS. */
export type HostResolver = (hostname: string) => Promise<readonly ResolvedAddress[]>;

/** The operating system's resolver (`getaddrinfo` through `node:dns` lookup), all addresses, in its order. */
export const systemHostResolver: HostResolver = async (hostname) => {
  const found = await lookup(hostname, { all: true, order: "verbatim" });
  return found.map(({ address }) => ({ address, family: isIP(address) === 6 ? 6 : 4 }));
};

/** The outcome of {@link resolveDeliveryAddresses}. */
export type DeliveryAddresses =
  | { readonly ok: true; readonly addresses: readonly ResolvedAddress[] }
  | { readonly ok: false; readonly reason: string };

/**
 * Resolves a callback URL's host right before an attempt and vets every address it has: an
 * https URL may reach only public addresses (or loopback ones when `allowLoopback`), an http URL
 * only loopback ones (and only when `allowLoopback`). One non-deliverable address refuses the
 * whole host — a name that points into the server's network even partly is not connected to —
 * and the caller connects only to the vetted addresses, never resolving again, so a DNS answer
 * that changes between the check and the connection (rebinding) is never used.
 *
 * An IP-literal host is vetted as is. Resolution failures are refused too, with a short reason
 * that is safe to store (no resolver internals).
 */
export async function resolveDeliveryAddresses(
  url: URL,
  options: { readonly resolve: HostResolver; readonly allowLoopback: boolean },
): Promise<DeliveryAddresses> {
  const hostname = url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname;
  let addresses: readonly ResolvedAddress[];
  const family = isIP(hostname);
  if (family !== 0) {
    addresses = [{ address: hostname, family: family === 6 ? 6 : 4 }];
  } else {
    try {
      addresses = await options.resolve(hostname);
    } catch (error) {
      const code = (error as { code?: unknown } | null)?.code;
      return { ok: false, reason: `host name did not resolve${typeof code === "string" ? ` (${code})` : ""}` };
    }
  }
  if (addresses.length === 0) return { ok: false, reason: "host name has no address" };
  const http = url.protocol === "http:";
  for (const { address } of addresses) {
    const allowed = http
      ? options.allowLoopback && classifyAddress(address) === "loopback"
      : isDeliverableAddress(address, options.allowLoopback);
    if (!allowed) return { ok: false, reason: "host resolves to a non-public address" };
  }
  return { ok: true, addresses };
}
