import { CountersignError } from "@countersign/protocol";
import type { FastifyInstance } from "fastify";
import type { Surface } from "./surface.ts";

/**
 * The host constraint of T-11 as a route option: each route declares `config.surface`, and a
 * request whose `Host` is not exactly the configured host for that surface is answered with 421
 * `misdirected_request` before its body is read. A route that forgets to declare a surface fails
 * at start-up, so the constraint cannot be left off by accident.
 *
 * The `Host` header is compared, never `X-Forwarded-Host`: a reverse proxy must pass `Host` on.
 */
export function registerHostConstraint(app: FastifyInstance, hosts: { appHost: string; apiHost: string }): void {
  const allowed: Record<Surface, readonly string[]> = {
    app: [hosts.appHost],
    api: [hosts.apiHost],
    any: [hosts.appHost, hosts.apiHost],
  };

  app.addHook("onRoute", (route) => {
    if (route.config?.surface === undefined) {
      throw new Error(`route ${route.method} ${route.url} must declare config.surface (app, api or any)`);
    }
  });

  app.addHook("onRequest", (request, _reply, done) => {
    const surface = request.routeOptions.config.surface;
    const host = request.headers.host?.toLowerCase();
    // Unmatched URLs have no surface; the not-found handler answers them.
    if (surface === undefined || (host !== undefined && allowed[surface].includes(host))) done();
    else done(new CountersignError("misdirected_request"));
  });
}
