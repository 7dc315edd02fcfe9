import { CountersignError, type RequestSigner, signRequest, utf8 } from "@countersign/protocol";
import { abortableSleep } from "./abortable-sleep.ts";
import { decodeErrorResponse } from "./decode-error-response.ts";
import { isRetryableAnswer, retryDelayMs } from "./retry-policy.ts";

/**
 * How {@link createSignedTransport} reaches the server.
 *
 * @example
 * ```ts
 * createSignedTransport({ server, signer: { keyId, privateKey }, fetch, now: Date.now, requestTimeoutMs: 30_000, retries: 3 });
 * ```
 */
export interface SignedTransportOptions {
  /** The API origin, e.g. `https://api.countersign.example`. */
  readonly server: URL;
  readonly signer: RequestSigner;
  readonly fetch: typeof fetch;
  /** The current time in milliseconds: the signature's `created`. */
  readonly now: () => number;
  /** How long one attempt may take before it counts as a network failure. */
  readonly requestTimeoutMs: number;
  /** How many times a failed attempt is retried. */
  readonly retries: number;
}

/**
 * One call through the transport.
 *
 * @example
 * ```ts
 * await transport.json("POST", "/v1/approvals", { json: body, idempotencyKey: crypto.randomUUID() });
 * ```
 */
export interface SendOptions {
  /** A JSON body; serialized once, so every retry sends the same bytes and Content-Digest. */
  readonly json?: unknown;
  /** The query with its leading "?", or "". */
  readonly query?: string;
  /** Sent as `Idempotency-Key` and covered by the signature; the same on every retry. */
  readonly idempotencyKey?: string;
  readonly signal?: AbortSignal | undefined;
  /** Overrides the transport's per-attempt timeout (a long-poll needs longer). */
  readonly timeoutMs?: number;
  /** Overrides the transport's number of retries. */
  readonly retries?: number;
  readonly accept?: string;
}

/**
 * A signed HTTP client for the agent API.
 *
 * @example
 * ```ts
 * const { body } = await transport.json("GET", "/v1/agent/whoami");
 * ```
 */
export interface SignedTransport {
  readonly server: URL;
  /** Sends a request and returns its parsed JSON answer; non-2xx answers throw. */
  json(method: string, path: string, options?: SendOptions): Promise<{ status: number; body: unknown }>;
  /**
   * Sends a request and returns the body once the response headers are in. The per-attempt
   * timeout covers only the wait for the headers; the caller reads the body and must call
   * `close()` when done with it.
   */
  stream(method: string, path: string, options?: SendOptions): Promise<OpenStream>;
}

/**
 * A streamed response body, from {@link SignedTransport.stream}.
 *
 * @example
 * ```ts
 * const stream = await transport.stream("GET", `/v1/approvals/${id}/events`, { accept: "text/event-stream" });
 * try { for await (const event of parseServerSentEvents(stream.body)) console.log(event); } finally { stream.close(); }
 * ```
 */
export interface OpenStream {
  readonly body: ReadableStream<Uint8Array>;
  /** Ends the connection (if still open) and releases the caller's signal. Idempotent. */
  close(): void;
}

/**
 * Builds the agent's HTTP client: every attempt is signed afresh under the Countersign RFC 9421
 * profile (new `created`, new `nonce`), over the same body bytes and the same Idempotency-Key, so
 * a retry after a lost answer is recognized by the server and never runs the request twice
 * (DESIGN §4.4, T-8).
 *
 * Network failures, timeouts, 502/503/504 and short `Retry-After` answers are retried with
 * backoff; every other failure throws at once. Every error thrown is a `CountersignError`, except
 * that an aborted `signal` rejects with the signal's reason, as `fetch` does.
 *
 * @example
 * ```ts
 * const transport = createSignedTransport({ server, signer, fetch, now: Date.now, requestTimeoutMs: 30_000, retries: 3 });
 * const { body } = await transport.json("GET", "/v1/agent/whoami");
 * ```
 */
export function createSignedTransport(options: SignedTransportOptions): SignedTransport {
  const { server, signer } = options;

  async function attempt<T>(
    method: string,
    path: string,
    send: SendOptions,
    read: (response: Response, close: () => void) => Promise<T>,
    streaming: boolean,
  ): Promise<T> {
    const query = send.query ?? "";
    const url = new URL(`${path}${query}`, server.origin);
    const body = send.json === undefined ? undefined : utf8(JSON.stringify(send.json));
    const headers: Record<string, string> = { accept: send.accept ?? "application/json" };
    if (body !== undefined) headers["content-type"] = "application/json";
    if (send.idempotencyKey !== undefined) headers["idempotency-key"] = send.idempotencyKey;
    const retries = send.retries ?? options.retries;
    const timeoutMs = send.timeoutMs ?? options.requestTimeoutMs;

    for (let attemptNumber = 1; ; attemptNumber += 1) {
      send.signal?.throwIfAborted();
      let failure: CountersignError;
      const controller = new AbortController();
      const onAbort = (): void => controller.abort(send.signal?.reason);
      send.signal?.addEventListener("abort", onAbort, { once: true });
      let timedOut = false;
      let handedOver = false;
      const timer = setTimeout(() => {
        timedOut = true;
        controller.abort();
      }, timeoutMs);
      try {
        const signature = await signRequest(
          { method, authority: url.host, path: url.pathname, query: url.search, headers, ...(body ? { body } : {}) },
          signer,
          { created: Math.floor(options.now() / 1000) },
        );
        const response = await options.fetch(url, {
          method,
          headers: { ...headers, ...signature },
          ...(body ? { body: body as Uint8Array<ArrayBuffer> } : {}),
          signal: controller.signal,
        });
        if (response.ok) {
          if (!streaming) return await read(response, () => {});
          clearTimeout(timer);
          const opened = await read(response, () => {
            controller.abort();
            send.signal?.removeEventListener("abort", onAbort);
          });
          handedOver = true;
          return opened;
        }
        failure = await decodeErrorResponse(response);
        if (!isRetryableAnswer(failure) || attemptNumber > retries) throw failure;
      } catch (error) {
        if (send.signal?.aborted) throw send.signal.reason;
        if (error instanceof CountersignError) throw error;
        failure = new CountersignError("service_unavailable", {
          message: timedOut
            ? `The Countersign server at ${server.origin} did not answer within ${Math.ceil(timeoutMs / 1000)} s.`
            : `Could not reach the Countersign server at ${server.origin}.`,
          cause: error,
        });
        if (attemptNumber > retries) throw failure;
      } finally {
        if (!handedOver) {
          clearTimeout(timer);
          send.signal?.removeEventListener("abort", onAbort);
        }
      }
      await abortableSleep(retryDelayMs(attemptNumber, failure.retryAfter), send.signal);
    }
  }

  return {
    server,
    json: (method, path, send = {}) =>
      attempt(
        method,
        path,
        send,
        async (response) => {
          let body: unknown;
          try {
            body = await response.json();
          } catch (error) {
            // A cut connection while reading counts as a network failure, and is retried.
            if (error instanceof SyntaxError) {
              throw new CountersignError("internal_error", {
                message: "The server's answer is not JSON.",
                cause: error,
              });
            }
            throw error;
          }
          return { status: response.status, body };
        },
        false,
      ),
    stream: (method, path, send = {}) =>
      attempt(
        method,
        path,
        send,
        async (response, close) => {
          if (response.body === null) {
            close();
            throw new CountersignError("internal_error", { message: "The server's answer has no body." });
          }
          return { body: response.body, close };
        },
        true,
      ),
  };
}
