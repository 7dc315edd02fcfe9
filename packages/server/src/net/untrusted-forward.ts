/**
 * Whether a request came through a proxy the server was not told to trust: it carries
 * `X-Forwarded-For` or `Forwarded` (RFC 7239) while `COUNTERSIGN_TRUST_PROXY` is empty. Its socket
 * address is then the proxy's — on the same host, loopback for every client on the internet — so
 * address-based decisions (allowlists, /metrics) must refuse it rather than trust that address.
 */
export function isUntrustedForward(
  headers: Readonly<Record<string, string | string[] | undefined>>,
  proxyTrusted: boolean,
): boolean {
  if (proxyTrusted) return false;
  return headers["x-forwarded-for"] !== undefined || headers.forwarded !== undefined;
}
