import type { HttpRequestParts } from "./http-request-parts.ts";

// §2.1: a field's component name is its lowercased field name (an RFC 9110 token).
const FIELD_NAME = /^[!#$%&'*+\-.^_`|~0-9a-z]+$/;
// The signature base is ASCII (§2.5) and one line per component, so a value may hold only
// visible ASCII, spaces and tabs: never CR, LF or other control characters that could forge lines.
const BASE_SAFE_VALUE = /^[\t\x20-\x7e]*$/;

/**
 * The canonical value of one covered component (RFC 9421 §2.1 for fields, §2.2 for derived
 * components), or null when the request cannot supply it — an absent field, an unknown `@`
 * name, or a value that cannot appear in a signature base. Null means the signature fails.
 *
 * Derived components supported: `@method`, `@target-uri`, `@authority`, `@scheme`,
 * `@request-target`, `@path`, `@query`. `@query-param` is not (it needs a `name` parameter, which
 * we refuse), nor `@status` (responses only).
 */
export function componentValue(request: HttpRequestParts, name: string): string | null {
  const value = name.startsWith("@") ? derivedValue(request, name) : fieldValue(request, name);
  return value !== null && BASE_SAFE_VALUE.test(value) ? value : null;
}

function derivedValue(request: HttpRequestParts, name: string): string | null {
  const path = normalizedPath(request.path);
  const query = request.query;
  if (path === null || typeof query !== "string" || (query !== "" && !query.startsWith("?"))) return null;
  switch (name) {
    // §2.2.1: the method as sent; method names are case-sensitive (RFC 9110 §9.1).
    case "@method":
      return typeof request.method === "string" && request.method !== "" ? request.method : null;
    // §2.2.2: the full target URI, here in absolute form.
    case "@target-uri": {
      const scheme = normalizedScheme(request.scheme);
      const authority = normalizedAuthority(request.authority, request.scheme);
      return scheme === null || authority === null ? null : `${scheme}://${authority}${path}${query}`;
    }
    // §2.2.3: the authority normalized per RFC 9110 §4.2.3.
    case "@authority":
      return normalizedAuthority(request.authority, request.scheme);
    // §2.2.4: the scheme, lowercase.
    case "@scheme":
      return normalizedScheme(request.scheme);
    // §2.2.5: the request target; our model is always origin-form.
    case "@request-target":
      return path + query;
    // §2.2.6: the absolute path; an empty path is "/".
    case "@path":
      return path;
    // §2.2.7: the query with its "?"; an absent query is "?" alone.
    case "@query":
      return query === "" ? "?" : query;
    default:
      return null;
  }
}

function normalizedPath(path: unknown): string | null {
  if (typeof path !== "string") return null;
  if (path === "") return "/";
  return path.startsWith("/") && !path.includes("?") ? path : null;
}

function normalizedScheme(scheme: unknown): string | null {
  return typeof scheme === "string" && /^[A-Za-z][A-Za-z0-9+.-]*$/.test(scheme) ? scheme.toLowerCase() : null;
}

const DEFAULT_PORTS: Readonly<Record<string, string>> = { http: "80", https: "443" };

/** RFC 9110 §4.2.3: the host in lowercase, with the scheme's default port omitted. */
function normalizedAuthority(authority: unknown, scheme: unknown): string | null {
  if (typeof authority !== "string" || authority === "" || authority.includes("@")) return null;
  const lower = authority.toLowerCase();
  // The port is whatever follows the last ":" after any IPv6 literal's closing "]".
  const match = /^(\[[^\]]*\]|[^:[\]]*)(?::(\d*))?$/.exec(lower);
  if (match === null || match[1] === "") return null;
  const host = match[1] as string;
  const port = match[2];
  const defaultPort = typeof scheme === "string" ? DEFAULT_PORTS[scheme.toLowerCase()] : undefined;
  if (port === undefined || port === "" || port === defaultPort) return host;
  return `${host}:${port}`;
}

/**
 * §2.1: a field's value with each line's leading and trailing whitespace removed and obsolete line
 * folding replaced by one space. Our request model holds one combined value per field, which is
 * what §2.1 signs (lines joined with ", ").
 */
function fieldValue(request: HttpRequestParts, name: string): string | null {
  if (!FIELD_NAME.test(name)) return null;
  const raw = Object.hasOwn(request.headers, name) ? request.headers[name] : undefined;
  if (typeof raw !== "string") return null;
  return raw.replace(/\r\n[\t ]+/g, " ").replace(/^[\t ]+|[\t ]+$/g, "");
}
