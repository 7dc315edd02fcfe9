import { CountersignError } from "@countersign/protocol";
import { classifyAddress } from "./classify-address.ts";

/** The longest callback URL accepted, before and after normalization (the column's CHECK too). */
export const MAX_CALLBACK_URL_LENGTH = 2048;

/** Options of {@link parseCallbackUrl}. */
export interface CallbackUrlOptions {
  /** Accept plain http to a loopback host (and loopback hosts at all): development only. */
  readonly allowLoopbackHttp: boolean;
}

// Control characters (C0, DEL, C1) and white space: the WHATWG parser silently strips or drops
// some of them, so what the agent wrote and what would be called could differ. Refused instead.
const CONTROL_OR_SPACE = /[\p{Cc}\s]/u;

/**
 * Validates an approval request's `callback_url` (DESIGN §4.4) and returns it normalized (the
 * WHATWG URL serialization: lowercase scheme and host, punycode, default port dropped, IPv4 in
 * dotted form). Refused with 400 `validation_failed`:
 *
 * - not an absolute URL, or longer than {@link MAX_CALLBACK_URL_LENGTH};
 * - a scheme other than https — plain http only to a loopback host (127.0.0.0/8, ::1,
 *   `localhost`, `*.localhost` per RFC 6761 §6.3) and only when `allowLoopbackHttp`;
 * - user info (`https://user:pass@…`: credentials do not belong in a stored URL) or a fragment;
 * - an IP-literal host that is not public (private, loopback, link-local, CGNAT, multicast,
 *   unspecified…, IPv4-mapped IPv6 judged as IPv4), except loopback when allowed. An agent is
 *   authenticated, not trusted with the server's network position (SSRF).
 *
 * Host names are not resolved here: what they resolve to is checked at delivery time, on every
 * attempt, and the connection goes to the address that was checked.
 *
 * @throws CountersignError `validation_failed` naming `/callback_url`.
 *
 * @example
 * ```ts
 * parseCallbackUrl("HTTPS://Hooks.Example.com:443/cs?x=1", { allowLoopbackHttp: false });
 * // "https://hooks.example.com/cs?x=1"
 * parseCallbackUrl("https://10.0.0.7/hook", { allowLoopbackHttp: false }); // throws
 * ```
 */
export function parseCallbackUrl(input: string, options: CallbackUrlOptions): string {
  if (typeof input !== "string" || input.length === 0 || input.length > MAX_CALLBACK_URL_LENGTH) {
    throw refuse(`must be a URL of at most ${MAX_CALLBACK_URL_LENGTH} characters`);
  }
  if (CONTROL_OR_SPACE.test(input)) throw refuse("must not contain spaces or control characters");
  const url = URL.parse(input);
  if (url === null) throw refuse("must be an absolute URL");
  if (url.protocol !== "https:" && url.protocol !== "http:") throw refuse("must use https");
  if (url.username !== "" || url.password !== "") throw refuse("must not contain user info");
  // `https://h/#` has an empty `hash` but still a fragment delimiter in its serialization.
  if (url.hash !== "" || url.href.includes("#")) throw refuse("must not have a fragment");

  const host = hostKind(url.hostname);
  if (host === "restricted") throw refuse("must not point to a private, link-local or reserved address");
  if (host === "loopback" && !options.allowLoopbackHttp) throw refuse("must not point to a loopback address");
  if (url.protocol === "http:" && host !== "loopback") {
    throw refuse(options.allowLoopbackHttp ? "must use https (http only to a loopback host)" : "must use https");
  }
  if (url.href.length > MAX_CALLBACK_URL_LENGTH) {
    throw refuse(`must be a URL of at most ${MAX_CALLBACK_URL_LENGTH} characters`);
  }
  return url.href;
}

/** Whether a URL's host (as `URL.hostname` gives it) is loopback, restricted, or a name or public address. */
function hostKind(hostname: string): "loopback" | "restricted" | "other" {
  const address = classifyAddress(hostname);
  if (address === "loopback" || address === "restricted") return address;
  if (address === "public") return "other";
  // RFC 6761 §6.3: `localhost` and names under it are loopback; a trailing dot changes nothing.
  const name = hostname.endsWith(".") ? hostname.slice(0, -1) : hostname;
  return name === "localhost" || name.endsWith(".localhost") ? "loopback" : "other";
}

function refuse(reason: string): CountersignError {
  return new CountersignError("validation_failed", {
    message: `callback_url ${reason}.`,
    details: { in: "body", issues: [{ path: "/callback_url", message: reason }] },
  });
}
