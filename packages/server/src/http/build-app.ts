import { randomUUID } from "node:crypto";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import Fastify, { type FastifyInstance } from "fastify";
import packageJson from "../../package.json" with { type: "json" };
import { createAgentAuthDeps } from "../agent-auth/agent-auth-deps.ts";
import { registerAgentAuth } from "../agent-auth/agent-auth-hook.ts";
import type { AgentKeyResolver } from "../agent-auth/agent-request.ts";
import { type AppServices, createAppServices } from "../app-services.ts";
import type { Clock } from "../clock.ts";
import type { Config } from "../config/config.ts";
import type { Database } from "../db/database.ts";
import { registerErrorHandler } from "./error-handler.ts";
import { registerHostConstraint } from "./host-constraint.ts";
import { registerJsonBodyParser } from "./json-body-parser.ts";
import { registerOpenApi } from "./openapi.ts";
import { serializeRequestForLog } from "./request-log-serializer.ts";
import { ROUTE_MODULES } from "./route-modules.ts";
import { registerSecurityHeaders } from "./security-headers.ts";
import "./surface.ts";

/** What the HTTP app is built from. Everything is passed in; nothing is read from the environment. */
export interface AppDeps {
  readonly config: Config;
  readonly db: Database;
  readonly clock?: Clock;
  /** Replaces some of the services built from config and db (tests pass a capturing mailer, say). */
  readonly services?: Partial<AppServices>;
  /** Replaces the agents domain's key lookup by key id (tests of the pipeline with made-up keys). */
  readonly resolveAgentKey?: AgentKeyResolver;
  /** Overrides the configured log level (tests pass "silent"). */
  readonly logLevel?: string;
  /** Where log lines go instead of stdout (tests read them). */
  readonly logStream?: { write(line: string): void };
}

/** Header names and JSON paths whose values never reach the logs. */
export const REDACTED_LOG_PATHS = [
  "req.headers.authorization",
  "req.headers.cookie",
  "req.headers.signature",
  'req.headers["idempotency-key"]',
  'res.headers["set-cookie"]',
  "*.password",
  "*.code",
  "*.token",
  "*.secret",
];

/**
 * Builds the Fastify app with the cross-cutting parts every route relies on: request ids, coded
 * errors, JSON-only bodies with raw bytes kept, security headers, the host constraint, the
 * OpenAPI document, and the agent-request pipeline. Domains register their routes on the result.
 */
export async function buildApp(deps: AppDeps) {
  const { config } = deps;
  const services = createAppServices(deps, deps.services);
  const app = Fastify({
    logger: {
      level: deps.logLevel ?? config.logLevel,
      redact: { paths: REDACTED_LOG_PATHS, censor: "[redacted]" },
      serializers: { req: serializeRequestForLog },
      ...(deps.logStream ? { stream: deps.logStream } : {}),
    },
    genReqId: () => randomUUID(),
    // A client-chosen request id would let anyone forge log correlation; always make our own.
    requestIdHeader: false,
    bodyLimit: config.bodyLimitBytes,
    trustProxy: config.trustProxy.length > 0 ? [...config.trustProxy] : false,
    return503OnClosing: true,
    routerOptions: { ignoreTrailingSlash: false, maxParamLength: 200 },
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
  }).withTypeProvider<TypeBoxTypeProvider>();

  // Callback-style hooks here and in http/: every request runs them, and an async hook costs a
  // promise and a microtask turn each.
  app.addHook("onRequest", (request, reply, done) => {
    reply.header("x-request-id", request.id);
    done();
  });
  app.addHook("onClose", () => services.agents.close());
  registerErrorHandler(app);
  registerJsonBodyParser(app);
  await registerSecurityHeaders(app, { https: config.publicUrl.startsWith("https:") });
  registerHostConstraint(app, { appHost: config.appHost, apiHost: config.apiHost });
  await registerOpenApi(app, { publicUrl: config.publicUrl, version: packageJson.version });
  registerAgentAuth(app, createAgentAuthDeps(services, { resolveKey: deps.resolveAgentKey }));

  const root = app as unknown as FastifyInstance;
  for (const register of ROUTE_MODULES) await register(root, services);
  return root;
}
