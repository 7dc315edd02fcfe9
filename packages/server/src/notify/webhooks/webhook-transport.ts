import { request as httpRequest, type IncomingMessage, type RequestOptions } from "node:http";
import { request as httpsRequest } from "node:https";
import { pinnedLookup } from "./pinned-lookup.ts";
import { type HostResolver, resolveDeliveryAddresses, systemHostResolver } from "./resolve-delivery-addresses.ts";

/** One webhook attempt as the dispatcher hands it to a transport. */
export interface WebhookRequest {
  /** The normalized callback URL (see `parseCallbackUrl`). */
  readonly url: URL;
  /** Every header to send, lowercase names, `host` included. */
  readonly headers: Readonly<Record<string, string>>;
  /** The exact body bytes the signature's Content-Digest covers. */
  readonly body: Uint8Array;
  /** The attempt's deadline: resolution, connection and response headers must all fit in it. */
  readonly timeoutMs: number;
  /** Aborts the attempt early (the dispatcher is stopping). */
  readonly signal?: AbortSignal;
}

/**
 * What came of an attempt: the receiver's status code, or a short reason it got none (refused
 * address, timeout, connection error). Reasons are fixed phrases plus an error code — safe to
 * store, never a response body.
 */
export type WebhookAttemptResult =
  | { readonly ok: true; readonly status: number }
  | { readonly ok: false; readonly error: string };

/** Sends one webhook attempt. Never throws. */
export type WebhookTransport = (request: WebhookRequest) => Promise<WebhookAttemptResult>;

/** Options of {@link createWebhookTransport}. */
export interface WebhookTransportOptions {
  /** Accept loopback destinations (development only; `config.webhooks.allowLoopbackHttp`). */
  readonly allowLoopback: boolean;
  /** Resolves host names; the system resolver by default. */
  readonly resolve?: HostResolver;
  /** Extra trusted CA certificates (PEM) for https; tests only. The system's CAs by default. */
  readonly ca?: string;
}

/**
 * The webhook transport over `node:http` / `node:https`:
 *
 * 1. resolves the host and vets every address (`resolveDeliveryAddresses`); a refused host gets
 *    no connection at all;
 * 2. connects to a vetted address only (`pinnedLookup`), keeping the host name for Host, SNI and
 *    the certificate check, so DNS rebinding between the check and the connection cannot work;
 * 3. sends the body on a fresh connection (no pooled socket pinned to another address);
 * 4. takes the status code and drops the response without reading it. Redirects are never
 *    followed (`node:http` does not), so a 3xx is just a status that is not 2xx.
 */
export function createWebhookTransport(options: WebhookTransportOptions): WebhookTransport {
  const resolve = options.resolve ?? systemHostResolver;
  const { allowLoopback, ca } = options;

  return async (request) => {
    const signals = [AbortSignal.timeout(request.timeoutMs)];
    if (request.signal !== undefined) signals.push(request.signal);
    const signal = AbortSignal.any(signals);
    const vetting = resolveDeliveryAddresses(request.url, { resolve, allowLoopback });
    // A resolver cannot be cancelled, but the attempt stops waiting for it at the deadline.
    const vetted = await Promise.race([vetting, aborted(signal)]);
    if (vetted === null) return { ok: false, error: failureReason(signal) };
    if (!vetted.ok) return { ok: false, error: `refused: ${vetted.reason}` };

    const { url } = request;
    const requestOptions: RequestOptions = {
      method: "POST",
      hostname: url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname,
      port: url.port === "" ? undefined : Number(url.port),
      path: `${url.pathname}${url.search}`,
      headers: { ...request.headers, "content-length": String(request.body.length) },
      lookup: pinnedLookup(vetted.addresses),
      agent: false,
      signal,
      ...(url.protocol === "https:" && ca !== undefined ? { ca } : {}),
    };
    const send = url.protocol === "https:" ? httpsRequest : httpRequest;
    return new Promise<WebhookAttemptResult>((settle) => {
      const req = send(requestOptions, (res: IncomingMessage) => {
        // Only the status matters; the body is never read, stored or logged.
        settle({ ok: true, status: res.statusCode ?? 0 });
        res.destroy();
      });
      req.on("error", (error: NodeJS.ErrnoException) => {
        settle({ ok: false, error: signal.aborted ? failureReason(signal) : connectionError(error) });
      });
      req.end(request.body);
    });
  };
}

/** Resolves with null once `signal` aborts (never rejects). */
function aborted(signal: AbortSignal): Promise<null> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve(null);
    else signal.addEventListener("abort", () => resolve(null), { once: true });
  });
}

function failureReason(signal: AbortSignal): string {
  return (signal.reason as { name?: unknown } | undefined)?.name === "TimeoutError" ? "timed out" : "aborted";
}

function connectionError(error: NodeJS.ErrnoException): string {
  const code = typeof error.code === "string" && /^[A-Z0-9_]{1,40}$/.test(error.code) ? error.code : "unknown";
  return `connection failed (${code})`;
}
