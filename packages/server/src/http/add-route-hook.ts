import type { RouteOptions } from "fastify";

type HookName = "onRequest" | "preValidation" | "preHandler" | "onSend";

/**
 * Adds `hook` to one route from an `onRoute` listener, after any hooks the route declared itself.
 *
 * A guard that concerns only some routes (the Origin check, the auth floor, the session) is
 * attached this way rather than globally, so that the agent API — the hot path, DESIGN §4.12 —
 * does not run a hook per request only to learn that the hook does not apply to it.
 */
export function addRouteHook<K extends HookName>(
  route: RouteOptions,
  name: K,
  hook: NonNullable<RouteOptions[K]>,
): void {
  const current = route[name];
  const list = current === undefined ? [] : Array.isArray(current) ? current : [current];
  (route as Record<HookName, unknown>)[name] = [...list, ...(Array.isArray(hook) ? hook : [hook])];
}
