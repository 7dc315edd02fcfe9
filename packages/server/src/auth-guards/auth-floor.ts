import { setTimeout as sleep } from "node:timers/promises";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { addRouteHook } from "../http/add-route-hook.ts";

/**
 * The constant minimum response time of A-4 (seed 001: "all authentication responses take a
 * constant minimum time regardless of whether the username exists or the password is correct"):
 * a route with `config.authFloor: true` sends its response, success or any error (400, 401, 429…),
 * no earlier than `minDurationMs` after the request arrived. A response that takes longer is not
 * delayed further; the route must still do the same work for unknown accounts, so that the
 * slow paths match too.
 *
 * The wait is real time (not the injected clock): it is the time an observer measures. The start
 * is taken in `onRequest`; a request refused by an earlier `onRequest` hook (a wrong host) has no
 * start mark, and waits the whole floor from `onSend`, which is later still.
 */
export function registerAuthFloor(app: FastifyInstance, options: { minDurationMs: number }): void {
  const { minDurationMs } = options;
  if (!Number.isFinite(minDurationMs) || minDurationMs < 0) throw new RangeError("minDurationMs must be >= 0");
  const started = new WeakMap<FastifyRequest, number>();

  app.addHook("onRoute", (route) => {
    if (route.config?.authFloor !== true) return;
    addRouteHook(route, "onRequest", (request, _reply, done) => {
      started.set(request, performance.now());
      done();
    });
    addRouteHook(route, "onSend", async (request, _reply, payload) => {
      const start = started.get(request) ?? performance.now();
      // Timers may fire a fraction of a millisecond early; loop until the floor has truly passed.
      for (let left = minDurationMs - (performance.now() - start); left > 0; ) {
        await sleep(Math.ceil(left));
        left = minDurationMs - (performance.now() - start);
      }
      return payload;
    });
  });
}
