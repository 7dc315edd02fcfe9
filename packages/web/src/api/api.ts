import { ApiError } from "./api-error.ts";

type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

let sessionEnded: () => void = () => undefined;

/** What to do when the server says the session is gone (expired, signed out elsewhere). */
export function onSessionEnded(handler: () => void): void {
  sessionEnded = handler;
}

/**
 * Calls the person-facing API on this origin. The session cookie goes along by itself
 * (`same-origin`); bodies are JSON (the server's CSRF defences expect JSON and the Origin header
 * browsers add to every POST). Resolves with the parsed JSON body, or `null` for 204.
 */
export async function api<T>(method: Method, path: string, body?: unknown): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      credentials: "same-origin",
      headers:
        body === undefined
          ? { accept: "application/json" }
          : { "content-type": "application/json", accept: "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      cache: "no-store",
    });
  } catch (cause) {
    throw new ApiError("network", 0, cause instanceof Error ? cause.message : "network error");
  }
  if (res.status === 204) return null as T;
  const text = await res.text();
  let parsed: unknown = null;
  try {
    parsed = text === "" ? null : JSON.parse(text);
  } catch {
    parsed = null;
  }
  if (!res.ok) {
    const error = (parsed as { error?: { code?: string; message?: string; request_id?: string; details?: unknown } })
      ?.error;
    const code = error?.code ?? "internal_error";
    if (code === "unauthenticated" || code === "session_expired") sessionEnded();
    throw new ApiError(code, res.status, error?.message ?? res.statusText, error?.request_id ?? null, error?.details);
  }
  return parsed as T;
}
