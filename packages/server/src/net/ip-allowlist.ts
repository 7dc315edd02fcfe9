import { BlockList, isIPv4, isIPv6 } from "node:net";

/** Tells whether a client address is on an allowlist. */
export type IpMatcher = (address: string) => boolean;

const PREFIX = /^\d{1,3}$/;
const MAPPED_V4 = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i;

/**
 * Normalizes one allowlist entry — an IPv4 or IPv6 address, or a CIDR range (RFC 4632 for
 * IPv4, RFC 4291 §2.3 for IPv6) — to lowercase, with an explicit prefix length only for ranges.
 * Returns null for anything else (host names, zone ids, out-of-range prefixes).
 *
 * @example
 * ```ts
 * normalizeIpRange("2001:DB8::/32"); // "2001:db8::/32"
 * normalizeIpRange("10.0.0.0/33");   // null
 * ```
 */
export function normalizeIpRange(entry: string): string | null {
  if (typeof entry !== "string" || entry.length > 64) return null;
  const [address, prefix, extra] = entry.trim().toLowerCase().split("/");
  // A zone id (`fe80::1%eth0`, RFC 6874) names an interface of one host: meaningless here.
  if (address === undefined || extra !== undefined || address.includes("%")) return null;
  const max = isIPv4(address) ? 32 : isIPv6(address) ? 128 : 0;
  if (max === 0) return null;
  if (prefix === undefined) return address;
  if (!PREFIX.test(prefix) || Number(prefix) > max) return null;
  return `${address}/${Number(prefix)}`;
}

/** The prefix length of a normalized entry: 32 or 128 for a single address. */
export function ipRangePrefixLength(entry: string): { family: "ipv4" | "ipv6"; bits: number } {
  const [address = "", prefix] = entry.split("/");
  const family = isIPv4(address) ? "ipv4" : "ipv6";
  return { family, bits: prefix === undefined ? (family === "ipv4" ? 32 : 128) : Number(prefix) };
}

/**
 * The client address as compared with allowlists: an IPv4-mapped IPv6 address (RFC 4291
 * §2.5.5.2, what a dual-stack socket reports for an IPv4 peer) becomes the IPv4 address, so
 * `10.0.0.0/8` matches a peer seen as `::ffff:10.1.2.3`.
 */
export function normalizeClientIp(address: string): string {
  const mapped = MAPPED_V4.exec(address);
  return mapped?.[1] ?? address.toLowerCase();
}

/**
 * Builds a matcher over normalized entries with `node:net`'s BlockList, which compares
 * addresses as numbers (no string prefix tricks). Throws a TypeError on an entry that
 * {@link normalizeIpRange} would refuse, so bad configuration fails when it is loaded.
 */
export function createIpMatcher(entries: readonly string[]): IpMatcher {
  const list = new BlockList();
  for (const entry of entries) {
    const normalized = normalizeIpRange(entry);
    if (normalized === null) throw new TypeError("not an IP address or CIDR range");
    const [address = "", prefix] = normalized.split("/");
    const family = isIPv4(address) ? "ipv4" : "ipv6";
    if (prefix === undefined) list.addAddress(address, family);
    else list.addSubnet(address, Number(prefix), family);
  }
  return (address) => {
    const ip = normalizeClientIp(address);
    if (isIPv4(ip)) return list.check(ip, "ipv4");
    if (isIPv6(ip)) return list.check(ip, "ipv6");
    return false;
  };
}
