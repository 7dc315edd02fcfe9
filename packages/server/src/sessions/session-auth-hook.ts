import { CountersignError } from "@countersign/protocol";
import type { FastifyInstance, FastifyRequest, preValidationAsyncHookHandler } from "fastify";
import type { Clock } from "../clock.ts";
import type { Database } from "../db/database.ts";
import { addRouteHook } from "../http/add-route-hook.ts";
import type { CurrentSession } from "./session.ts";
import type { SessionAuthenticator } from "./session-authenticator.ts";
import { clearSessionSetCookie, replaceSessionCookie } from "./session-cookie.ts";

declare module "fastify" {
  interface FastifyRequest {
    /** The signed-in session, on routes with `config.auth`; read it with {@link currentSession}. */
    session?: CurrentSession;
  }
}

/** The values `config.auth` takes. */
export const AUTH_MODES = ["session", "step-up"] as const;

/** What {@link registerSessionAuth} needs. */
export interface SessionAuthDeps {
  readonly db: Database;
  readonly clock: Clock;
  readonly authenticator: SessionAuthenticator;
  /** `config.auth.stepUpMaxAgeSeconds`: how recent a step-up must be for `auth: "step-up"`. */
  readonly stepUpMaxAgeSeconds: number;
}

/**
 * The `config.auth` route option (DESIGN §4.9):
 *
 * - `"session"`: the request must carry a live session cookie; the session is then
 *   `request.session`. Otherwise 401 `unauthenticated` (no cookie, or a forged, unknown or ended
 *   one) or `session_expired`; either way a cookie that was sent is cleared.
 * - `"step-up"`: as `"session"`, and the session's last user-verified passkey assertion must be
 *   at most `stepUpMaxAgeSeconds` old, else 401 `step_up_required` (the app then asks for the
 *   passkey and retries). For sensitive operations: creating agents, rotating credentials, adding
 *   devices, revoking other sessions (ASVS 5.0 V7.5.2).
 *
 * It runs as a preValidation hook, after the Origin check (onRequest), so a cross-site request
 * never loads a session, and before schema validation, so an unauthenticated client learns
 * nothing about the route's body. Only `surface: "app"` routes may use it: the cookie is the
 * app's, never the agent API's.
 */
export function registerSessionAuth(app: FastifyInstance, deps: SessionAuthDeps): void {
  const maxAgeMs = deps.stepUpMaxAgeSeconds * 1000;
  app.decorateRequest("session", undefined);

  const authenticate: preValidationAsyncHookHandler = async (request, reply) => {
    const result = await deps.authenticator.authenticate(deps.db, request.headers.cookie);
    if (result.status !== "ok") {
      if (result.status !== "absent") replaceSessionCookie(reply, clearSessionSetCookie());
      throw new CountersignError(result.status === "expired" ? "session_expired" : "unauthenticated");
    }
    request.session = result.session;
    if (request.routeOptions.config.auth === "step-up") {
      const stepUpAt = result.session.stepUpAt;
      if (stepUpAt === null || deps.clock.now() - stepUpAt.getTime() > maxAgeMs) {
        throw new CountersignError("step_up_required");
      }
    }
  };

  // Attached only to the routes that declare `config.auth`, so no other request pays for a hook.
  app.addHook("onRoute", (route) => {
    const auth = route.config?.auth;
    if (auth === undefined) return;
    if (!AUTH_MODES.includes(auth))
      throw new Error(`route ${route.method} ${route.url}: unknown config.auth "${auth}"`);
    if (route.config?.surface !== "app") {
      throw new Error(`route ${route.method} ${route.url}: config.auth needs surface "app"`);
    }
    addRouteHook(route, "preValidation", authenticate);
  });
}

/**
 * The session of a request on a route with `config.auth`.
 *
 * @throws CountersignError `unauthenticated` when there is none (a route without `config.auth`).
 */
export function currentSession(request: FastifyRequest): CurrentSession {
  if (request.session === undefined) throw new CountersignError("unauthenticated");
  return request.session;
}
