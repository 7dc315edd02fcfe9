import { request } from "node:https";

/** A response: its status and body text (bounded). */
export type HttpsPostResult = { readonly status: number; readonly body: string } | { readonly error: string };

/** Push provider responses are small JSON documents; anything longer is cut. */
const MAX_BODY_BYTES = 65_536;

/**
 * POSTs to a push provider's configured https URL (FCM, its OAuth token endpoint) and reads a
 * small response. These URLs come from the operator's configuration, not from users, so unlike
 * Web Push endpoints they are not vetted. Never throws: failures are `{ error }` with a short,
 * fixed description.
 */
export function httpsPost(
  url: string,
  options: { headers: Record<string, string>; body: string; timeoutMs: number; ca?: string },
): Promise<HttpsPostResult> {
  return new Promise((settle) => {
    const req = request(
      url,
      {
        method: "POST",
        headers: { ...options.headers, "content-length": String(Buffer.byteLength(options.body)) },
        signal: AbortSignal.timeout(options.timeoutMs),
        ...(options.ca === undefined ? {} : { ca: options.ca }),
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on("data", (chunk: Buffer) => {
          size += chunk.length;
          if (size <= MAX_BODY_BYTES) chunks.push(chunk);
        });
        res.on("end", () => settle({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
        res.on("error", () => settle({ error: "response aborted" }));
      },
    );
    req.on("error", (error: NodeJS.ErrnoException) =>
      settle({ error: error.name === "AbortError" ? "timeout" : `connection: ${error.code ?? "error"}` }),
    );
    req.end(options.body);
  });
}
