import { CountersignError } from "@countersign/protocol";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { AppServices } from "../app-services.ts";
import { loadWebAppFiles, type WebAppFile, type WebAppFiles } from "./web-app-files.ts";

/**
 * The screens of the app (packages/web/src/routes.ts): each answers with index.html, and the app
 * picks the screen. Listed one by one rather than a catch-all, so an unknown path, an API path
 * (/v1/*), /.well-known/* or /healthz keeps its own answer or the coded 404.
 */
export const APP_SCREENS: readonly string[] = [
  "/",
  "/signin",
  "/signup",
  "/history",
  "/agents",
  "/devices",
  "/settings",
  "/recover",
  "/requests/:approval_id",
];

/** Files at the root of the build that keep a fixed name (the service worker's scope is its path). */
const ROOT_FILES = ["sw.js", "manifest.webmanifest", "favicon.svg"] as const;

/**
 * The app's Content-Security-Policy: scripts and styles only from files of this origin (no inline
 * script, no eval), no framing, no plugins, and Trusted Types so no string becomes markup or a
 * script URL except through the app's one policy (`countersign`, which passes only /sw.js).
 */
export const APP_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "worker-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "object-src 'none'",
  "require-trusted-types-for 'script'",
  "trusted-types countersign",
].join("; ");

const IMMUTABLE = "public, max-age=31536000, immutable";
const REVALIDATE = "no-cache";
const NO_STORE = "no-store";

/**
 * Serves the approver app (issue 7) on the app host (T-11): hashed assets cached for good,
 * index.html never cached and with the app's CSP, the service worker and manifest revalidated on
 * every load so an update is seen at once. Gzip when the client takes it.
 */
export function registerWebApp(app: FastifyInstance, _services?: AppServices, files?: WebAppFiles): void {
  const built = files ?? loadWebAppFiles();
  const hidden = { hide: true };
  const config = { surface: "app" as const };

  const sendIndex = (request: FastifyRequest, reply: FastifyReply) => {
    const index = built.get("index.html");
    if (index === undefined) {
      throw new CountersignError("service_unavailable", {
        message: "The app is not built: run `npm run build` (npm start does it).",
      });
    }
    reply.header("content-security-policy", APP_CSP);
    return send(request, reply, index, NO_STORE);
  };
  for (const screen of APP_SCREENS) app.get(screen, { config, schema: hidden }, sendIndex);

  const fromDir = (dir: string, cacheControl: string) => (request: FastifyRequest, reply: FastifyReply) => {
    const name = (request.params as { "*": string })["*"];
    const file = built.get(`${dir}/${name}`);
    if (file === undefined) throw new CountersignError("not_found");
    return send(request, reply, file, cacheControl);
  };
  // Vite names every file under assets/ by its content hash: a new build is a new name.
  app.get("/assets/*", { config, schema: hidden }, fromDir("assets", IMMUTABLE));
  app.get("/icons/*", { config, schema: hidden }, fromDir("icons", "public, max-age=86400"));

  for (const name of ROOT_FILES) {
    app.get(`/${name}`, { config, schema: hidden }, (request, reply) => {
      const file = built.get(name);
      if (file === undefined) throw new CountersignError("not_found");
      return send(request, reply, file, REVALIDATE);
    });
  }
}

function send(request: FastifyRequest, reply: FastifyReply, file: WebAppFile, cacheControl: string) {
  reply.header("content-type", file.contentType).header("cache-control", cacheControl);
  if (file.gzip === null) return reply.send(file.body);
  reply.header("vary", "accept-encoding");
  if (/\bgzip\b/.test(String(request.headers["accept-encoding"] ?? ""))) {
    return reply.header("content-encoding", "gzip").send(file.gzip);
  }
  return reply.send(file.body);
}
