import { isIPv4, isIPv6 } from "node:net";
import { createIpMatcher } from "../../net/ip-allowlist.ts";

/**
 * Where an IP address points, as far as sending a webhook is concerned:
 * - `public`: globally reachable, fine to connect to;
 * - `loopback`: this machine (127.0.0.0/8, ::1) — only in development, when loopback is allowed;
 * - `restricted`: everything else that is not globally reachable (private, link-local, CGNAT,
 *   multicast, unspecified, documentation, reserved…), never connected to;
 * - `invalid`: not an IP address.
 */
export type AddressClass = "public" | "loopback" | "restricted" | "invalid";

// IANA IPv4 Special-Purpose Address Registry (RFC 6890 and updates): the blocks that are not
// globally reachable, plus multicast (RFC 5771) and the reserved 240/4 with broadcast.
const RESTRICTED_V4 = createIpMatcher([
  "0.0.0.0/8", // "this network", incl. the unspecified address (RFC 791, RFC 1122 §3.2.1.3)
  "10.0.0.0/8", // private (RFC 1918)
  "100.64.0.0/10", // shared address space, carrier-grade NAT (RFC 6598)
  "169.254.0.0/16", // link-local (RFC 3927), incl. cloud metadata at 169.254.169.254
  "172.16.0.0/12", // private (RFC 1918)
  "192.0.0.0/24", // IETF protocol assignments (RFC 6890)
  "192.0.2.0/24", // TEST-NET-1 (RFC 5737)
  "192.88.99.0/24", // 6to4 relay anycast, deprecated (RFC 7526)
  "192.168.0.0/16", // private (RFC 1918)
  "198.18.0.0/15", // benchmarking (RFC 2544)
  "198.51.100.0/24", // TEST-NET-2 (RFC 5737)
  "203.0.113.0/24", // TEST-NET-3 (RFC 5737)
  "224.0.0.0/4", // multicast (RFC 5771)
  "240.0.0.0/4", // reserved, incl. limited broadcast 255.255.255.255 (RFC 1112, RFC 919)
]);
const LOOPBACK_V4 = createIpMatcher(["127.0.0.0/8"]); // RFC 1122 §3.2.1.3

// IPv6 is judged by allowlist instead: only global unicast (2000::/3, RFC 4291 §2.4) can be
// public, which leaves out ::/128, ::1, fc00::/7 (ULA), fe80::/10, fec0::/10, ff00::/8 and the
// rest of the unassigned space at once. Inside 2000::/3, these are not globally reachable or
// tunnel to an IPv4 address that would escape the IPv4 rules:
const GLOBAL_UNICAST_V6 = createIpMatcher(["2000::/3"]);
const RESTRICTED_V6 = createIpMatcher([
  "2001::/23", // IETF protocol assignments, incl. Teredo 2001::/32 (RFC 2928, RFC 4380)
  "2001:db8::/32", // documentation (RFC 3849)
  "2002::/16", // 6to4, which embeds an arbitrary IPv4 address (RFC 3056)
  "3fff::/20", // documentation (RFC 9637)
]);

/**
 * Classifies an IP address (IPv4 dotted quad or IPv6 text, with or without brackets) for the
 * webhook SSRF rule. An agent is authenticated, not trusted with the server's network position:
 * a callback URL must not reach the server's own network.
 *
 * @example
 * ```ts
 * classifyAddress("93.184.215.14");     // "public"
 * classifyAddress("::ffff:10.0.0.1");   // "restricted"
 * classifyAddress("[::1]");             // "loopback"
 * ```
 */
export function classifyAddress(input: string): AddressClass {
  const address = input.startsWith("[") && input.endsWith("]") ? input.slice(1, -1) : input;
  if (isIPv4(address)) return classifyV4(address);
  // A zone id names an interface of this host (RFC 6874): never a public destination.
  if (!isIPv6(address) || address.includes("%")) return "invalid";
  const groups = ipv6Groups(address);
  if (groups === null) return "invalid";
  const embedded = embeddedV4(groups);
  if (embedded !== null) return classifyV4(embedded);
  if (groups.every((group, i) => group === (i === 7 ? 1 : 0))) return "loopback"; // ::1 (RFC 4291 §2.5.3)
  if (!GLOBAL_UNICAST_V6(address) || RESTRICTED_V6(address)) return "restricted";
  return "public";
}

/**
 * Whether a webhook may connect to `address`: a public address, or a loopback one when
 * `allowLoopback` (development only). Anything else — and anything that is not an IP — is refused.
 */
export function isDeliverableAddress(address: string, allowLoopback: boolean): boolean {
  const kind = classifyAddress(address);
  return kind === "public" || (kind === "loopback" && allowLoopback);
}

function classifyV4(address: string): AddressClass {
  if (LOOPBACK_V4(address)) return "loopback";
  return RESTRICTED_V4(address) ? "restricted" : "public";
}

/**
 * The IPv4 address that a dual-stack socket or a NAT64 translator would actually reach for an
 * IPv6 address with an embedded one, dotted; null for other IPv6 addresses. Judged as IPv4, so
 * `::ffff:10.0.0.1` (or its hex form `::ffff:a00:1`) cannot slip past the IPv4 rules.
 */
function embeddedV4(groups: readonly number[]): string | null {
  const [g0, g1, g2, g3, g4, g5, high = 0, low = 0] = groups;
  const prefix96 = g2 === 0 && g3 === 0 && g4 === 0;
  const mapped = g0 === 0 && g1 === 0 && prefix96 && g5 === 0xffff; // ::ffff:0:0/96 (RFC 4291 §2.5.5.2)
  const nat64 = g0 === 0x64 && g1 === 0xff9b && prefix96 && g5 === 0; // 64:ff9b::/96 (RFC 6052 §2.1)
  // The NAT64 local-use prefix 64:ff9b:1::/48 (RFC 8215) is outside 2000::/3, hence restricted.
  if (!(mapped || nat64)) return null;
  return `${high >> 8}.${high & 0xff}.${low >> 8}.${low & 0xff}`;
}

/** The eight 16-bit groups of a valid IPv6 address (RFC 4291 §2.2), trailing dotted quad included. */
function ipv6Groups(address: string): number[] | null {
  let text = address.toLowerCase();
  const quad = /(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (quad !== null) {
    const [a, b, c, d] = quad.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, quad.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = "", tail, extra] = text.split("::");
  if (extra !== undefined) return null;
  const parse = (part: string) => (part === "" ? [] : part.split(":").map((g) => Number.parseInt(g, 16)));
  const left = parse(head);
  const right = tail === undefined ? [] : parse(tail);
  const fill = tail === undefined ? 0 : 8 - left.length - right.length;
  const groups = [...left, ...Array.from({ length: fill }, () => 0), ...right];
  return groups.length === 8 && groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff) ? groups : null;
}
