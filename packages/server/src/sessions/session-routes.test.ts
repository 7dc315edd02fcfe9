import assert from "node:assert/strict";
import { before, it } from "node:test";
import SwaggerParser from "@apidevtools/swagger-parser";
import type { FastifyInstance } from "fastify";
import { Type } from "typebox";
import { createManualClock } from "../../test-support/manual-clock.ts";
import { createTestApp, createTestConfig } from "../../test-support/test-app.ts";
import { describeEachDatabase } from "../../test-support/test-database.ts";
import { ensureTestUser, testUserId } from "../../test-support/test-users.ts";
import type { Config } from "../config/config.ts";
import { createSessionService } from "./create-session-service.ts";
import type { SessionService } from "./session.ts";

const HOST = "localhost:8787";
const ORIGIN = "http://localhost:8787";
const MINUTE = 60_000;
const CLEARED = "__Host-cs_session=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0";

/** Every Set-Cookie of a response. */
function setCookies(res: { headers: Record<string, unknown> }): string[] {
  return [res.headers["set-cookie"] ?? []].flat() as string[];
}

describeEachDatabase("session routes", (ctx) => {
  let app: FastifyInstance;
  let config: Config;
  let sessions: SessionService;
  const clock = createManualClock();

  before(async () => {
    config = createTestConfig();
    sessions = createSessionService({ config, clock });
    app = await createTestApp(ctx.db, { config, clock, services: { sessions } });
    // Stands in for the accounts module's sign-in routes.
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
        // Tests sign in readable labels; the users table wants real ids.
        const userId = testUserId(body.userId);
        await ensureTestUser(ctx.db, userId);
        const session = await ctx.db.transaction((tx) =>
          sessions.start(tx, reply, {
            userId,
            authMethod: "passkey",
            userVerifiedAt: body.verified ? new Date(clock.now()) : null,
            userAgent: request.headers["user-agent"] ?? "",
            ip: request.ip,
          }),
        );
        return { id: session.id };
      },
    );
    app.get("/test/step-up-only", { config: { surface: "app", auth: "step-up" } }, async (request) => ({
      id: request.session?.id,
    }));
    await app.ready();
  });

  async function signIn(userId: string, verified = true) {
    const res = await app.inject({
      method: "POST",
      url: "/test/sign-in",
      headers: { host: HOST, origin: ORIGIN, "user-agent": `Browser of ${userId}` },
      payload: { userId, verified },
    });
    assert.equal(res.statusCode, 200, res.body);
    const [setCookie = ""] = setCookies(res);
    return { id: res.json().id as string, cookie: setCookie.split(";")[0] ?? "" };
  }

  function call(method: "GET" | "POST" | "DELETE", url: string, cookie?: string, origin: string | null = ORIGIN) {
    return app.inject({
      method,
      url,
      headers: { host: HOST, ...(origin === null ? {} : { origin }), ...(cookie ? { cookie } : {}) },
    });
  }

  it("answers 401 unauthenticated without a cookie, and clears a forged one", async () => {
    const none = await call("GET", "/v1/sessions");
    assert.equal(none.statusCode, 401);
    assert.equal(none.json().error.code, "unauthenticated");
    assert.deepEqual(setCookies(none), []);

    const { cookie } = await signIn("u-forged");
    const forged = `${cookie.slice(0, -1)}${cookie.endsWith("A") ? "B" : "A"}`;
    const res = await call("GET", "/v1/sessions", forged);
    assert.equal(res.statusCode, 401);
    assert.equal(res.json().error.code, "unauthenticated");
    assert.deepEqual(setCookies(res), [CLEARED]);
  });

  it("lists the account's sessions and marks the current one", async () => {
    const phone = await signIn("u-list");
    const laptop = await signIn("u-list");
    await signIn("u-list-someone-else");
    const res = await call("GET", "/v1/sessions", phone.cookie);
    assert.equal(res.statusCode, 200);
    const body = res.json() as { sessions: { id: string; current: boolean; user_agent: string }[] };
    assert.deepEqual(new Set(body.sessions.map((s) => s.id)), new Set([phone.id, laptop.id]));
    assert.deepEqual(
      body.sessions.filter((s) => s.current).map((s) => s.id),
      [phone.id],
    );
    assert.ok(body.sessions.every((s) => s.user_agent === "Browser of u-list"));
    assert.deepEqual(Object.keys(body.sessions[0] ?? {}).sort(), [
      "auth_method",
      "created_at",
      "current",
      "expires_at",
      "id",
      "last_seen_at",
      "step_up_at",
      "user_agent",
    ]);
  });

  it("revokes another session with a fresh step-up, and that session is then refused", async () => {
    const phone = await signIn("u-revoke");
    const laptop = await signIn("u-revoke");
    const res = await call("DELETE", `/v1/sessions/${laptop.id}`, phone.cookie);
    assert.equal(res.statusCode, 204);
    assert.deepEqual(setCookies(res), [], "the caller's own cookie is kept");
    const after = await call("GET", "/v1/sessions", laptop.cookie);
    assert.equal(after.statusCode, 401);
    assert.deepEqual(setCookies(after), [CLEARED]);
    assert.equal((await call("GET", "/v1/sessions", phone.cookie)).statusCode, 200);

    const again = await call("DELETE", `/v1/sessions/${laptop.id}`, phone.cookie);
    assert.equal(again.statusCode, 404);
    const someoneElses = await signIn("u-revoke-other");
    assert.equal((await call("DELETE", `/v1/sessions/${someoneElses.id}`, phone.cookie)).statusCode, 404);
    const malformed = await call("DELETE", "/v1/sessions/not-a-handle", phone.cookie);
    assert.equal(malformed.statusCode, 400);
    assert.equal(malformed.json().error.code, "validation_failed");
  });

  it("revoking the current session signs out and clears the cookie", async () => {
    const phone = await signIn("u-revoke-self");
    const res = await call("DELETE", `/v1/sessions/${phone.id}`, phone.cookie);
    assert.equal(res.statusCode, 204);
    assert.deepEqual(setCookies(res), [CLEARED]);
  });

  it("needs a step-up at most 300 seconds old for step-up routes", async () => {
    const unverified = await signIn("u-step", false);
    const refused = await call("GET", "/test/step-up-only", unverified.cookie);
    assert.equal(refused.statusCode, 401);
    assert.equal(refused.json().error.code, "step_up_required");
    assert.deepEqual(setCookies(refused), [], "the session itself is fine");

    const verified = await signIn("u-step", true);
    clock.advance(300_000);
    assert.equal((await call("GET", "/test/step-up-only", verified.cookie)).statusCode, 200, "exactly 300 s");
    clock.advance(1);
    const stale = await call("POST", "/v1/sessions/revoke-others", verified.cookie);
    assert.equal(stale.statusCode, 401);
    assert.equal(stale.json().error.code, "step_up_required");

    await sessions.markStepUp(ctx.db, verified.id, new Date(clock.now()));
    const fresh = await call("GET", "/test/step-up-only", verified.cookie);
    assert.equal(fresh.statusCode, 200);
    assert.equal(fresh.json().id, verified.id);
  });

  it("revokes every other session and keeps this one", async () => {
    const phone = await signIn("u-others");
    const others = [await signIn("u-others"), await signIn("u-others")];
    const res = await call("POST", "/v1/sessions/revoke-others", phone.cookie);
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { revoked: 2 });
    for (const other of others) assert.equal((await call("GET", "/v1/sessions", other.cookie)).statusCode, 401);
    const list = (await call("GET", "/v1/sessions", phone.cookie)).json();
    assert.deepEqual(
      list.sessions.map((s: { id: string }) => s.id),
      [phone.id],
    );
  });

  it("signs out: 204, the cookie cleared, the session gone", async () => {
    const phone = await signIn("u-out");
    const res = await call("POST", "/v1/auth/sign-out", phone.cookie);
    assert.equal(res.statusCode, 204);
    assert.deepEqual(setCookies(res), [CLEARED]);
    assert.equal(res.body, "");
    const after = await call("GET", "/v1/sessions", phone.cookie);
    assert.equal(after.statusCode, 401);
    assert.equal(after.json().error.code, "unauthenticated");
  });

  it("answers 401 session_expired once the idle timeout has passed, and clears the cookie", async () => {
    const phone = await signIn("u-expired");
    clock.advance(config.sessions.idleTimeoutSeconds * 1000);
    const res = await call("GET", "/v1/sessions", phone.cookie);
    assert.equal(res.statusCode, 401);
    assert.equal(res.json().error.code, "session_expired");
    assert.deepEqual(setCookies(res), [CLEARED]);
  });

  it("refuses state-changing session calls from another origin before touching the session", async () => {
    const phone = await signIn("u-csrf");
    for (const origin of [null, "https://evil.example", "http://localhost:8787/", "null", "https://localhost:8787"]) {
      for (const [method, url] of [
        ["POST", "/v1/auth/sign-out"],
        ["POST", "/v1/sessions/revoke-others"],
        ["DELETE", `/v1/sessions/${phone.id}`],
      ] as const) {
        const res = await call(method, url, phone.cookie, origin);
        assert.equal(res.statusCode, 403, `${method} ${url} with Origin ${origin}`);
        assert.equal(res.json().error.code, "origin_mismatch");
      }
    }
    // The session survived all of that; a read needs no Origin.
    clock.advance(MINUTE);
    assert.equal((await call("GET", "/v1/sessions", phone.cookie, null)).statusCode, 200);
  });

  it("describes the session routes in the OpenAPI document", async () => {
    const res = await call("GET", "/openapi.json");
    const document = res.json();
    for (const path of ["/v1/sessions", "/v1/sessions/{id}", "/v1/sessions/revoke-others", "/v1/auth/sign-out"]) {
      assert.ok(document.paths[path], path);
    }
    assert.deepEqual(document.paths["/v1/sessions"].get.security, [{ sessionCookie: [] }]);
    assert.equal(document.components.securitySchemes.sessionCookie.name, "__Host-cs_session");
    await SwaggerParser.validate(structuredClone(document));
  });
});

describeEachDatabase("the config.auth route option", (ctx) => {
  it("refuses to register on a route that is not on the app surface", async () => {
    const app = await createTestApp(ctx.db);
    assert.throws(
      () => app.get("/test/agent", { config: { surface: "api", auth: "session" } }, async () => ({})),
      /config\.auth needs surface "app"/,
    );
    await app.close();
  });
});
