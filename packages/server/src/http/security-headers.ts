import helmet, { type FastifyHelmetOptions } from "@fastify/helmet";
import Fastify, { type FastifyInstance } from "fastify";

/** Header name (lower-case) → value. */
type Headers = Readonly<Record<string, string>>;

/**
 * Security headers on every response. Responses default to `no-store`: API answers carry
 * secrets (enrolment codes, receipts) that no cache should keep. HSTS only when the public URL
 * is https, since browsers ignore it over http and it would pin a development host otherwise.
 *
 * Routes on the API surface (`config.surface: "api"`) answer agents with JSON and event streams
 * that no browser should ever render, frame or run: they get the short set for APIs (OWASP's REST
 * Security Cheat Sheet), with a stricter policy than the app's — `default-src 'none'` — and
 * without the headers that only matter to a page (COOP, Origin-Agent-Cluster, DNS prefetch,
 * download and cross-domain policy, the legacy XSS filter). Every other route, and any URL that
 * matches none, gets the app's full set.
 *
 * Helmet decides the headers; they are the same for every request, so they are worked out once
 * here and then copied onto each reply. (`@fastify/helmet` itself rebuilds helmet's middleware,
 * parsing the CSP again, on every request: a tenth of the agent pipeline's time in bench/agents.)
 */
export async function registerSecurityHeaders(app: FastifyInstance, options: { https: boolean }): Promise<void> {
  const strictTransportSecurity = options.https ? { maxAge: 31_536_000, includeSubDomains: true } : false;
  const appHeaders = await helmetHeaders({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        "default-src": ["'self'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "object-src": ["'none'"],
        "img-src": ["'self'", "data:"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "connect-src": ["'self'"],
        "worker-src": ["'self'"],
        "manifest-src": ["'self'"],
      },
    },
    crossOriginEmbedderPolicy: false,
    crossOriginResourcePolicy: { policy: "same-origin" },
    referrerPolicy: { policy: "no-referrer" },
    strictTransportSecurity,
  });
  const apiHeaders = await helmetHeaders({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: { "default-src": ["'none'"], "frame-ancestors": ["'none'"] },
    },
    crossOriginEmbedderPolicy: false,
    crossOriginOpenerPolicy: false,
    crossOriginResourcePolicy: { policy: "same-origin" },
    originAgentCluster: false,
    referrerPolicy: { policy: "no-referrer" },
    strictTransportSecurity,
    xDnsPrefetchControl: false,
    xDownloadOptions: false,
    xFrameOptions: { action: "deny" },
    xPermittedCrossDomainPolicies: false,
    xXssProtection: false,
  });
  // Set first thing, so refusals by later onRequest hooks (a wrong host) carry them too; a route
  // may still replace one. Callback-style hooks: no promise per request.
  app.addHook("onRequest", (request, reply, done) => {
    reply.headers(request.routeOptions.config.surface === "api" ? apiHeaders : appHeaders);
    done();
  });
  app.addHook("onSend", (_request, reply, payload, done) => {
    if (!reply.hasHeader("cache-control")) reply.header("cache-control", "no-store");
    done(null, payload);
  });
}

/** The headers helmet sets with `options`, read off one request to a throwaway app. */
async function helmetHeaders(options: FastifyHelmetOptions): Promise<Headers> {
  const probe = Fastify({ logger: false });
  let set: Record<string, unknown> = {};
  try {
    await probe.register(helmet, options);
    // Helmet writes on the raw response; nothing else has by the time the handler runs.
    probe.get("/", (_request, reply) => {
      set = reply.raw.getHeaders();
      reply.send("");
    });
    const res = await probe.inject({ method: "GET", url: "/" });
    if (res.statusCode !== 200) throw new Error(`helmet probe answered ${res.statusCode}`);
  } finally {
    await probe.close();
  }
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(set)) {
    if (typeof value !== "string") throw new Error(`helmet set ${name} to a non-string value`);
    headers[name.toLowerCase()] = value;
  }
  if (headers["content-security-policy"] === undefined) throw new Error("helmet set no Content-Security-Policy");
  return Object.freeze(headers);
}
