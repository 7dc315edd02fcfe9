import { CountersignError } from "@countersign/protocol";
import type { FastifyInstance, onRequestHookHandler } from "fastify";
import { addRouteHook } from "../http/add-route-hook.ts";

/** Methods that change state; GET and HEAD must not (RFC 9110 §9.2.1), so they are not checked. */
const STATE_CHANGING = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/**
 * The Origin check of DESIGN §4.9, the second CSRF layer after SameSite=Strict (and before
 * JSON-only bodies, which a cross-site form cannot send): every state-changing request to a
 * person-facing (`surface: "app"`) route must carry `Origin` exactly equal to the app's origin,
 * or is refused with 403 `origin_mismatch` before its body is read or its session loaded.
 *
 * Browsers send `Origin` on every POST, PUT, PATCH and DELETE, same-origin ones included (WHATWG
 * Fetch §3.2.5), so a missing header means a client that is not our app in a browser, and is
 * refused as well. `Origin: null` (sandboxed frames, some redirects) never equals the app's
 * origin. ASVS 5.0 V3.5.1.
 */
export function registerOriginCheck(app: FastifyInstance, options: { origin: string }): void {
  const expected = options.origin;
  if (!/^https?:\/\/[^/]+$/.test(expected)) throw new TypeError("origin must be a scheme://host[:port] origin");
  const check: onRequestHookHandler = (request, _reply, done) => {
    if (!STATE_CHANGING.has(request.method) || request.headers.origin === expected) done();
    else done(new CountersignError("origin_mismatch"));
  };
  // Attached per route when the route is added, so it must be registered before any app route:
  // route-modules.ts registers the auth guards first.
  app.addHook("onRoute", (route) => {
    if (route.config?.surface === "app") addRouteHook(route, "onRequest", check);
  });
}
