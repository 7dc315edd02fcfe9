import assert from "node:assert/strict";
import {
  exportEd25519PublicKey,
  generateEd25519KeyPair,
  randomBytes,
  signRequest,
  toBase64Url,
  utf8,
} from "@countersign/protocol";
import type { FastifyInstance, InjectOptions } from "fastify";
import { Type } from "typebox";
import { createManualClock, type ManualClock } from "../../../test-support/manual-clock.ts";
import { createTestApp, createTestConfig } from "../../../test-support/test-app.ts";
import { ensureTestUser } from "../../../test-support/test-users.ts";
import type { AgentAuditEvent } from "../../agent-auth/agent-audit-sink.ts";
import type { AppServices } from "../../app-services.ts";
import type { Config } from "../../config/config.ts";
import type { Database } from "../../db/database.ts";
import { createMetricsRegistry, type MetricsRegistry } from "../../metrics/metrics-registry.ts";
import { createSessionService } from "../../sessions/create-session-service.ts";
import { agentKeyId } from "../agent-key-id.ts";
import type { InFlightApprovals, InFlightCancelReason } from "../in-flight-approvals.ts";

/** The host both surfaces answer on in the default test configuration. */
export const HOST = "localhost:8787";

/** An agent key pair made on the "agent's machine", with its key id. */
export interface AgentKey {
  readonly keys: CryptoKeyPair;
  readonly publicKey: string;
  readonly keyId: string;
}

/** A response, reduced to what tests assert on. */
export interface Sent {
  readonly status: number;
  readonly code: string | undefined;
  readonly body: Record<string, unknown> & { [key: string]: unknown };
  readonly headers: Record<string, unknown>;
}

/** Options of {@link AgentTestKit.signed}. */
export interface SignedOptions {
  method?: "GET" | "POST";
  url?: string;
  body?: unknown;
  headers?: Record<string, string>;
  created?: number;
  nonce?: string;
  /** The key id sent in `keyid` (default: the key's own). */
  keyId?: string;
  /** The address the request comes from (default 127.0.0.1). */
  remoteAddress?: string;
}

/** Everything the agent tests share: an app on a test database, a person, and agent helpers. */
export interface AgentTestKit {
  readonly app: FastifyInstance;
  readonly config: Config;
  readonly clock: ManualClock;
  /** Every audit event appended, in order (including ones whose transaction rolled back). */
  readonly audit: AgentAuditEvent[];
  /** Every in-flight cancellation asked for. */
  readonly canceled: { agentId: string; reason: InFlightCancelReason }[];
  readonly metrics: MetricsRegistry;
  /** Creates a user row and signs them in: `cookie` has a fresh step-up, `plainCookie` none. */
  newPerson(): Promise<{ userId: string; cookie: string; plainCookie: string }>;
  /** A new session for the person with a step-up made now (an earlier one goes stale as the clock moves). */
  stepUpCookie(userId: string): Promise<string>;
  /** A person-facing call with a session cookie and the app's Origin. */
  call(method: "GET" | "POST", url: string, options?: { cookie?: string; body?: unknown }): Promise<Sent>;
  /** Creates an agent (step-up cookie) and asserts it worked. */
  createAgent(cookie: string, body: Record<string, unknown>): Promise<{ id: string; code: string; token: string }>;
  newKey(): Promise<AgentKey>;
  /** Signs a request with `key` under the Countersign profile, as an agent would. */
  signed(key: AgentKey, options?: SignedOptions): Promise<InjectOptions & { headers: Record<string, string> }>;
  /** Enrols `key` with `code`, signing the call with the key itself. */
  enroll(key: AgentKey, code: string, options?: SignedOptions): Promise<Sent>;
  /** Creates a signed agent and enrols a new key for it. */
  enrolledAgent(cookie: string, body?: Record<string, unknown>): Promise<{ id: string; key: AgentKey }>;
  send(request: InjectOptions): Promise<Sent>;
}

/**
 * Builds the kit on `db` (call it in a `before`). The app is the real one — real sessions,
 * Origin check, agent routes and pipeline — plus a test-only sign-in route standing in for
 * the accounts module's, and any routes `extraRoutes` adds before it is ready.
 */
export async function createAgentTestKit(
  db: Database,
  options: {
    env?: Record<string, string>;
    services?: Partial<AppServices>;
    extraRoutes?: (
      app: FastifyInstance,
      services: { db: Database; metrics: MetricsRegistry; audit: AgentAuditEvent[] },
    ) => void;
  } = {},
): Promise<AgentTestKit> {
  const clock = createManualClock();
  const config = createTestConfig(options.env ?? {});
  const audit: AgentAuditEvent[] = [];
  const canceled: { agentId: string; reason: InFlightCancelReason }[] = [];
  const metrics = createMetricsRegistry();
  const inFlightApprovals: InFlightApprovals = {
    async cancelForAgent(_tx, agentId, reason) {
      canceled.push({ agentId, reason });
      return 0;
    },
  };
  const sessions = createSessionService({ config, clock });
  const appHost = config.appHost;
  const apiHost = config.apiHost;
  const origin = config.webauthn.origin;
  const app = await createTestApp(db, {
    config,
    clock,
    services: {
      sessions,
      metrics,
      inFlightApprovals,
      auditSink: {
        async append(_tx, event) {
          audit.push(event as AgentAuditEvent);
        },
      },
      ...options.services,
    },
  });
  // Stands in for the accounts module's sign-in.
  app.post(
    "/test/sign-in",
    {
      config: { surface: "app" },
      schema: {
        body: Type.Object({ userId: Type.String(), verified: Type.Boolean() }, { additionalProperties: false }),
      },
    },
    async (request, reply) => {
      const body = request.body as { userId: string; verified: boolean };
      const session = await db.transaction((tx) =>
        sessions.start(tx, reply, {
          userId: body.userId,
          authMethod: "passkey",
          userVerifiedAt: body.verified ? new Date(clock.now()) : null,
        }),
      );
      return { id: session.id };
    },
  );
  options.extraRoutes?.(app, { db, metrics, audit });
  await app.ready();

  const send = async (request: InjectOptions): Promise<Sent> => {
    const res = await app.inject(request);
    const body = res.body === "" ? {} : res.json();
    return {
      status: res.statusCode,
      code: res.statusCode >= 400 ? body.error?.code : undefined,
      body,
      headers: res.headers,
    };
  };

  const signIn = async (userId: string, verified: boolean) => {
    const res = await app.inject({
      method: "POST",
      url: "/test/sign-in",
      headers: { host: appHost, origin },
      payload: { userId, verified },
    });
    assert.equal(res.statusCode, 200, res.body);
    const setCookie = [res.headers["set-cookie"] ?? []].flat()[0] ?? "";
    return String(setCookie).split(";")[0] ?? "";
  };

  const call: AgentTestKit["call"] = (method, url, opts = {}) =>
    send({
      method,
      url,
      headers: { host: appHost, origin, ...(opts.cookie ? { cookie: opts.cookie } : {}) },
      ...(opts.body === undefined ? {} : { payload: opts.body as Record<string, unknown> }),
    });

  const newKey = async (): Promise<AgentKey> => {
    const keys = await generateEd25519KeyPair();
    const raw = await exportEd25519PublicKey(keys.publicKey);
    return { keys, publicKey: toBase64Url(raw), keyId: agentKeyId(raw) };
  };

  const signed: AgentTestKit["signed"] = async (key, opts = {}) => {
    const method = opts.method ?? "GET";
    const url = opts.url ?? "/v1/agent/whoami";
    const body = opts.body === undefined ? undefined : utf8(JSON.stringify(opts.body));
    const q = url.indexOf("?");
    const headers: Record<string, string> = {
      ...(body ? { "content-type": "application/json" } : {}),
      ...opts.headers,
    };
    const added = await signRequest(
      {
        method,
        authority: apiHost,
        path: q === -1 ? url : url.slice(0, q),
        query: q === -1 ? "" : url.slice(q),
        headers,
        ...(body ? { body } : {}),
      },
      { keyId: opts.keyId ?? key.keyId, privateKey: key.keys.privateKey },
      {
        created: opts.created ?? Math.floor(clock.now() / 1000),
        nonce: opts.nonce ?? toBase64Url(randomBytes(16)),
      },
    );
    return {
      method,
      url,
      headers: { host: apiHost, ...headers, ...added },
      remoteAddress: opts.remoteAddress ?? "127.0.0.1",
      ...(body ? { payload: Buffer.from(body) } : {}),
    };
  };

  const kit: AgentTestKit = {
    app,
    config,
    clock,
    audit,
    canceled,
    metrics,
    async newPerson() {
      const userId = `usr_${toBase64Url(randomBytes(16))}`;
      await ensureTestUser(db, userId);
      return { userId, cookie: await signIn(userId, true), plainCookie: await signIn(userId, false) };
    },
    stepUpCookie: (userId) => signIn(userId, true),
    call,
    async createAgent(cookie, body) {
      const res = await call("POST", "/v1/agents", { cookie, body });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      const agent = res.body.agent as { id: string };
      const credential = res.body.credential as { code?: string; token?: string };
      return { id: agent.id, code: credential.code ?? "", token: credential.token ?? "" };
    },
    newKey,
    signed,
    async enroll(key, code, opts = {}) {
      return send(
        await signed(key, {
          method: "POST",
          url: "/v1/agents/enroll",
          body: { code, public_key: key.publicKey },
          ...opts,
        }),
      );
    },
    async enrolledAgent(cookie, body = {}) {
      const { id, code } = await kit.createAgent(cookie, {
        name: "Deploy bot",
        allowed_actions: ["deploy.*"],
        ...body,
      });
      const key = await newKey();
      const res = await kit.enroll(key, code);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return { id, key };
    },
    send,
  };
  return kit;
}
