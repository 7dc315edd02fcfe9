import { CountersignError } from "@countersign/protocol";

/**
 * Reads the server option: an http(s) origin, with an optional trailing "/". A path is refused,
 * since the server signs and checks requests on its own absolute paths.
 *
 * @throws CountersignError `validation_failed`.
 *
 * @example
 * ```ts
 * parseServerUrl("https://api.countersign.example/").origin; // "https://api.countersign.example"
 * ```
 */
export function parseServerUrl(value: string | URL): URL {
  let url: URL;
  try {
    url = new URL(String(value));
  } catch (error) {
    throw new CountersignError("validation_failed", {
      message: `The server URL ${String(value)} is not a URL.`,
      cause: error,
    });
  }
  if (
    (url.protocol !== "https:" && url.protocol !== "http:") ||
    url.pathname !== "/" ||
    url.search !== "" ||
    url.hash !== "" ||
    url.username !== "" ||
    url.password !== ""
  ) {
    throw new CountersignError("validation_failed", {
      message: `The server URL must be an http(s) origin such as https://api.countersign.example, not ${url.href}.`,
    });
  }
  return new URL(url.origin);
}
