import { isIPv4, isIPv6 } from "node:net";

/**
 * The network a client address stands for, as attempt limits and session rows count it:
 *
 * - an IPv4 address stands for itself (`203.0.113.7`);
 * - an IPv4-mapped IPv6 address (`::ffff:203.0.113.7`) is the IPv4 address it maps;
 * - any other IPv6 address stands for its /64 (`2001:db8:0:1::/64`), because one subscriber
 *   usually holds a whole /64 (RFC 6177 §2) and could otherwise step to a fresh address, and a
 *   fresh limit, at every attempt.
 *
 * The form is canonical (lower-case, no leading zeros), so every spelling of one address gives
 * the same string. Text that is not an IP address is returned trimmed and lower-cased, so it is
 * still counted, just not merged with anything else.
 */
export function clientNetwork(ip: string): string {
  const text = ip.trim().toLowerCase();
  if (isIPv4(text)) return text;
  const groups = ipv6Groups(text);
  if (groups === null) return text;
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    const [hi, lo] = [groups[6] ?? 0, groups[7] ?? 0];
    return `${hi >>> 8}.${hi & 0xff}.${lo >>> 8}.${lo & 0xff}`;
  }
  const prefix = groups.slice(0, 4);
  // RFC 5952 §4.2.2-style shortening of the zero groups at the end of the /64.
  while (prefix.length > 0 && prefix[prefix.length - 1] === 0) prefix.pop();
  return `${prefix.map((g) => g.toString(16)).join(":")}::/64`;
}

/** The eight 16-bit groups of an IPv6 address (zone id dropped, IPv4 tail converted), or null. */
function ipv6Groups(address: string): number[] | null {
  const zone = address.indexOf("%");
  let text = zone === -1 ? address : address.slice(0, zone);
  if (!isIPv6(text)) return null;
  const lastColon = text.lastIndexOf(":");
  const tail = text.slice(lastColon + 1);
  if (tail.includes(".")) {
    const octets = tail.split(".").map(Number);
    const hi = (((octets[0] ?? 0) << 8) | (octets[1] ?? 0)).toString(16);
    const lo = (((octets[2] ?? 0) << 8) | (octets[3] ?? 0)).toString(16);
    text = `${text.slice(0, lastColon + 1)}${hi}:${lo}`;
  }
  const [head = "", rest] = text.split("::") as [string, string | undefined];
  const headGroups = head === "" ? [] : head.split(":");
  const restGroups = rest === undefined || rest === "" ? [] : rest.split(":");
  const missing = 8 - headGroups.length - restGroups.length;
  if (missing < 0 || (rest === undefined && missing !== 0)) return null;
  const all = [...headGroups, ...new Array<string>(missing).fill("0"), ...restGroups];
  return all.map((g) => Number.parseInt(g, 16));
}
