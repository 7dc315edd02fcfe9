/**
 * The parts of an HTTP request that RFC 9421 derives signature components from. Servers fill it
 * from the request line and headers as received; clients fill it from the request they send.
 *
 * @example
 * ```ts
 * const request: HttpRequestParts = {
 *   method: "POST",
 *   authority: "api.countersign.example",
 *   path: "/v1/approvals",
 *   query: "",
 *   headers: { "content-type": "application/json", "idempotency-key": "4c1f…" },
 * };
 * ```
 */
export interface HttpRequestParts {
  /** The method, case-sensitive as sent (RFC 9421 §2.2.1). */
  method: string;
  /** The host and optional port the request is addressed to (RFC 9421 §2.2.3). */
  authority: string;
  /** The absolute path, without the query; "" is read as "/" (RFC 9421 §2.2.6). */
  path: string;
  /** The query with its leading "?", or "" when there is none (RFC 9421 §2.2.7). */
  query: string;
  /** "http" or "https"; needed only for `@scheme`, `@target-uri` and default-port removal. */
  scheme?: string;
  /** Header fields with lowercase names; repeated fields combined with ", " (RFC 9110 §5.3). */
  headers: Readonly<Record<string, string | undefined>>;
}
