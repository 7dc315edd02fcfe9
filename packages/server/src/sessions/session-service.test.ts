import assert from "node:assert/strict";
import { before, it } from "node:test";
import { CountersignError, toBase64Url, toHex } from "@countersign/protocol";
import type { FastifyReply } from "fastify";
import { createManualClock } from "../../test-support/manual-clock.ts";
import { createTestConfig } from "../../test-support/test-app.ts";
import { describeEachDatabase } from "../../test-support/test-database.ts";
import { ensureTestUser, testUserId } from "../../test-support/test-users.ts";
import type { Config } from "../config/config.ts";
import { createKeyRingFromConfig } from "../crypto/create-key-ring-from-config.ts";
import { createUserDataKeys } from "../crypto/user-data-keys.ts";
import type { Queryable } from "../db/database.ts";
import { createSessionService } from "./create-session-service.ts";
import type { SessionService } from "./session.ts";
import { createSessionAuthenticator, type SessionAuthenticator } from "./session-authenticator.ts";
import { readSessionCookie, sessionCookieValue } from "./session-cookie.ts";
import { deriveSessionKeys } from "./session-keys.ts";

const MINUTE = 60_000;
const UA = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) Safari/604.1";
const IP = "198.51.100.23";

/** The parts of a Fastify reply the service touches, recording the Set-Cookie it gets. */
function fakeReply() {
  const headers = new Map<string, unknown>();
  const reply = {
    getHeader: (name: string) => headers.get(name),
    removeHeader: (name: string) => headers.delete(name),
    header(name: string, value: unknown) {
      headers.set(name, value);
      return reply;
    },
  };
  const setCookies = () => [headers.get("set-cookie") ?? []].flat() as string[];
  return { reply: reply as unknown as FastifyReply, setCookies };
}

/** The `Cookie` header a browser would send back after this reply. */
function cookieFrom(setCookies: string[]): string {
  const set = setCookies.at(-1);
  assert.ok(set);
  return set.split(";")[0] ?? "";
}

/** Counts statements, to show that some paths never reach the database. */
function counting(q: Queryable) {
  let count = 0;
  const wrapped: Queryable = {
    query: (sql, params) => {
      count += 1;
      return q.query(sql, params);
    },
    exec: (sql) => q.exec(sql),
  };
  return { q: wrapped, count: () => count };
}

describeEachDatabase("sessions", (ctx) => {
  let config: Config;
  const clock = createManualClock();
  let sessions: SessionService;
  let authenticator: SessionAuthenticator;

  before(() => {
    config = createTestConfig({ COUNTERSIGN_SESSION_IDLE_MINUTES: "30", COUNTERSIGN_SESSION_ABSOLUTE_HOURS: "1" });
    sessions = createSessionService({ config, clock });
    authenticator = createSessionAuthenticator({ config, clock });
  });

  async function signIn(userId: string, options: { verifiedAt?: Date | null } = {}) {
    const { reply, setCookies } = fakeReply();
    await ensureTestUser(ctx.db, userId);
    const session = await ctx.db.transaction((tx) =>
      sessions.start(tx, reply, {
        userId,
        authMethod: "passkey",
        userVerifiedAt: options.verifiedAt === undefined ? new Date(clock.now()) : options.verifiedAt,
        userAgent: UA,
        ip: IP,
      }),
    );
    return { session, cookie: cookieFrom(setCookies()), setCookies: setCookies() };
  }

  it("starts a session, sets one __Host- cookie, and finds it again from that cookie", async () => {
    const { session, cookie, setCookies } = await signIn(testUserId("user-start"));
    assert.equal(setCookies.length, 1);
    assert.match(setCookies[0] ?? "", /^__Host-cs_session=[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{43}; /);
    assert.match(setCookies[0] ?? "", /; Path=\/; Secure; HttpOnly; SameSite=Strict; Max-Age=3600$/);
    assert.match(session.id, /^ses_[A-Za-z0-9_-]{22}$/);
    assert.equal(session.userId, testUserId("user-start"));
    assert.equal(session.createdAt.getTime(), clock.now());
    assert.equal(session.expiresAt.getTime(), clock.now() + 30 * MINUTE);
    assert.equal(session.stepUpAt?.getTime(), clock.now());
    assert.equal(session.userAgent, UA);

    const found = await authenticator.authenticate(ctx.db, `theme=dark; ${cookie}`);
    assert.equal(found.status, "ok");
    assert.ok(found.status === "ok");
    assert.equal(found.session.id, session.id);
    assert.equal(found.session.userId, testUserId("user-start"));
    assert.deepEqual(found.session.data, { ip: IP, userAgent: UA });
  });

  it("gives every sign-in a new id, even for the same user at the same instant", async () => {
    const first = await signIn(testUserId("user-rotate"));
    const second = await signIn(testUserId("user-rotate"));
    assert.notEqual(first.cookie, second.cookie);
    assert.notEqual(first.session.id, second.session.id);
    const { rows } = await ctx.db.query<{ n: number }>(
      "SELECT count(DISTINCT id_digest)::int AS n FROM sessions WHERE user_id = $1",
      [testUserId("user-rotate")],
    );
    assert.equal(rows[0]?.n, 2);
  });

  it("leaves no session id, cookie, address or user agent in a database dump", async () => {
    const { cookie } = await signIn(testUserId("user-dump"));
    const value = readSessionCookie(cookie) ?? "";
    const [idPart = "", macPart = ""] = value.split(".");
    const idHex = Buffer.from(idPart, "base64url").toString("hex");
    const { rows } = await ctx.db.query<Record<string, unknown>>("SELECT * FROM sessions WHERE user_id = $1", [
      testUserId("user-dump"),
    ]);
    assert.equal(rows.length, 1);
    // Every column as text, bytea as hex and as base64url, the way a dump could show them.
    const dump = JSON.stringify(rows, (_key, v) =>
      v instanceof Uint8Array ? `${toHex(v)} ${toBase64Url(v)} ${Buffer.from(v).toString("latin1")}` : v,
    );
    for (const secret of [idPart, macPart, idHex, IP, "198.51.100", "Mozilla", "iPhone", "Safari"]) {
      assert.equal(dump.includes(secret), false, `dump shows ${secret}`);
    }
    assert.match(String(rows[0]?.user_agent), /^v1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
  });

  it("refuses a forged MAC before any database query, and an unknown id after one", async () => {
    const { cookie } = await signIn(testUserId("user-forge"));
    const value = readSessionCookie(cookie) ?? "";
    const forged = `${value.slice(0, -2)}${value.at(-2) === "A" ? "B" : "A"}${value.at(-1)}`;
    const watched = counting(ctx.db);
    assert.deepEqual(await authenticator.authenticate(watched.q, `__Host-cs_session=${forged}`), {
      status: "invalid",
    });
    assert.equal(watched.count(), 0);

    // A well-formed cookie under the real key for an id that was never issued.
    const unknown = sessionCookieValue(deriveSessionKeys(config.secrets.masterKey).cookie, new Uint8Array(32).fill(7));
    assert.deepEqual(await authenticator.authenticate(watched.q, `__Host-cs_session=${unknown}`), {
      status: "invalid",
    });
    assert.equal(watched.count(), 1);
    assert.deepEqual(await authenticator.authenticate(ctx.db, undefined), { status: "absent" });
    assert.deepEqual(await authenticator.authenticate(ctx.db, "other=1"), { status: "absent" });
  });

  it("refuses a session whose row was moved to another user or extended in the database", async () => {
    const moved = await signIn(testUserId("user-victim-a"));
    await ensureTestUser(ctx.db, testUserId("user-victim-b"));
    await ctx.db.query("UPDATE sessions SET user_id = $2 WHERE handle = $1", [
      moved.session.id,
      testUserId("user-victim-b"),
    ]);
    assert.deepEqual(await authenticator.authenticate(ctx.db, moved.cookie), { status: "invalid" });

    const extended = await signIn(testUserId("user-extend"));
    await ctx.db.query(
      "UPDATE sessions SET absolute_expires_at = absolute_expires_at + interval '30 days' WHERE handle = $1",
      [extended.session.id],
    );
    assert.deepEqual(await authenticator.authenticate(ctx.db, extended.cookie), { status: "invalid" });
  });

  it("expires after the idle timeout and deletes the row", async () => {
    const { session, cookie } = await signIn(testUserId("user-idle"));
    clock.advance(30 * MINUTE - 1);
    assert.equal((await authenticator.authenticate(ctx.db, cookie)).status, "ok");
    // That use moved the idle expiry to 30 minutes from now.
    clock.advance(30 * MINUTE - 1);
    assert.equal((await authenticator.authenticate(ctx.db, cookie)).status, "ok");
    clock.advance(30 * MINUTE);
    assert.deepEqual(await authenticator.authenticate(ctx.db, cookie), { status: "expired" });
    const { rowCount } = await ctx.db.query("SELECT 1 FROM sessions WHERE handle = $1", [session.id]);
    assert.equal(rowCount, 0);
    assert.deepEqual(await authenticator.authenticate(ctx.db, cookie), { status: "invalid" });
  });

  it("expires at the absolute timeout however often it is used", async () => {
    const { cookie } = await signIn(testUserId("user-absolute"));
    for (let minutes = 20; minutes < 60; minutes += 20) {
      clock.advance(20 * MINUTE);
      const found = await authenticator.authenticate(ctx.db, cookie);
      assert.equal(found.status, "ok", `${minutes} minutes`);
      assert.ok(found.status === "ok");
      assert.ok(found.session.expiresAt.getTime() <= clock.now() - minutes * MINUTE + 60 * MINUTE, "capped");
    }
    clock.advance(20 * MINUTE);
    assert.deepEqual(await authenticator.authenticate(ctx.db, cookie), { status: "expired" });
  });

  it("records use at most once a minute", async () => {
    const { session, cookie } = await signIn(testUserId("user-seen"));
    const lastSeen = async () =>
      (
        await ctx.db.query<{ t: Date }>("SELECT last_seen_at AS t FROM sessions WHERE handle = $1", [session.id])
      ).rows[0]?.t.getTime();
    const start = clock.now();
    clock.advance(59_999);
    await authenticator.authenticate(ctx.db, cookie);
    assert.equal(await lastSeen(), start);
    clock.advance(1);
    const found = await authenticator.authenticate(ctx.db, cookie);
    assert.equal(await lastSeen(), start + MINUTE);
    assert.ok(found.status === "ok");
    assert.equal(found.session.lastSeenAt.getTime(), start + MINUTE);
    assert.equal(found.session.expiresAt.getTime(), start + MINUTE + 30 * MINUTE);
  });

  it("records a step-up, never moving it backwards, and refuses an unknown session", async () => {
    const { session, cookie } = await signIn(testUserId("user-step"), { verifiedAt: null });
    assert.equal(session.stepUpAt, null);
    const at = new Date(clock.now());
    await sessions.markStepUp(ctx.db, session.id, at);
    await sessions.markStepUp(ctx.db, session.id, new Date(at.getTime() - MINUTE));
    const found = await authenticator.authenticate(ctx.db, cookie);
    assert.ok(found.status === "ok");
    assert.equal(found.session.stepUpAt?.getTime(), at.getTime());
    await assert.rejects(
      sessions.markStepUp(ctx.db, "ses_AAAAAAAAAAAAAAAAAAAAAA", at),
      (error: unknown) => error instanceof CountersignError && error.code === "unauthenticated",
    );
  });

  it("lists only the user's live sessions, most recent first, with their user agents", async () => {
    const older = await signIn(testUserId("user-list"));
    clock.advance(2 * MINUTE);
    const newer = await signIn(testUserId("user-list"));
    await signIn(testUserId("user-list-other"));
    const expired = await signIn(testUserId("user-list"));
    await ctx.db.query("UPDATE sessions SET idle_expires_at = $2 WHERE handle = $1", [
      expired.session.id,
      new Date(clock.now()),
    ]);
    const list = await sessions.list(ctx.db, testUserId("user-list"));
    assert.deepEqual(
      list.map((s) => s.id),
      [newer.session.id, older.session.id],
    );
    assert.ok(list.every((s) => s.userAgent === UA && s.userId === testUserId("user-list")));

    // Crypto-shredding the user's data key leaves the sessions listed, without user agents.
    await createUserDataKeys(createKeyRingFromConfig(config)).erase(ctx.db, testUserId("user-list"));
    const shredded = await sessions.list(ctx.db, testUserId("user-list"));
    assert.equal(shredded.length, 2);
    assert.ok(shredded.every((s) => s.userAgent === null));
  });

  it("revokes one of the user's sessions, never another user's", async () => {
    const mine = await signIn(testUserId("user-revoke"));
    const theirs = await signIn(testUserId("user-revoke-other"));
    assert.equal(await sessions.revoke(ctx.db, testUserId("user-revoke"), theirs.session.id), false);
    assert.equal((await authenticator.authenticate(ctx.db, theirs.cookie)).status, "ok");
    assert.equal(await sessions.revoke(ctx.db, testUserId("user-revoke"), mine.session.id), true);
    assert.equal(await sessions.revoke(ctx.db, testUserId("user-revoke"), mine.session.id), false);
    assert.deepEqual(await authenticator.authenticate(ctx.db, mine.cookie), { status: "invalid" });
    assert.equal(await sessions.revoke(ctx.db, testUserId("user-revoke"), "not-a-handle"), false);
  });

  it("revokes all the user's sessions but one", async () => {
    const keep = await signIn(testUserId("user-all"));
    const a = await signIn(testUserId("user-all"));
    const b = await signIn(testUserId("user-all"));
    const other = await signIn(testUserId("user-all-other"));
    assert.equal(await sessions.revokeAll(ctx.db, testUserId("user-all"), { except: keep.session.id }), 2);
    for (const gone of [a, b]) assert.equal((await authenticator.authenticate(ctx.db, gone.cookie)).status, "invalid");
    assert.equal((await authenticator.authenticate(ctx.db, keep.cookie)).status, "ok");
    assert.equal((await authenticator.authenticate(ctx.db, other.cookie)).status, "ok");
    assert.equal(await sessions.revokeAll(ctx.db, testUserId("user-all")), 1);
    assert.equal((await authenticator.authenticate(ctx.db, keep.cookie)).status, "invalid");
  });

  it("ends a session: the row is gone and the cookie is cleared", async () => {
    const { session, cookie } = await signIn(testUserId("user-end"));
    const { reply, setCookies } = fakeReply();
    await sessions.end(ctx.db, reply, session.id);
    assert.deepEqual(setCookies(), ["__Host-cs_session=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0"]);
    assert.deepEqual(await authenticator.authenticate(ctx.db, cookie), { status: "invalid" });
  });

  it("keeps one session cookie per response when a sign-out and a sign-in share it", async () => {
    const { reply, setCookies } = fakeReply();
    reply.header("set-cookie", "theme=dark; Path=/");
    await sessions.end(ctx.db, reply, "ses_AAAAAAAAAAAAAAAAAAAAAA");
    await ensureTestUser(ctx.db, testUserId("user-both"));
    await ctx.db.transaction((tx) =>
      sessions.start(tx, reply, { userId: testUserId("user-both"), authMethod: "recovery", userVerifiedAt: null }),
    );
    const cookies = setCookies();
    assert.equal(cookies.length, 2);
    assert.equal(cookies[0], "theme=dark; Path=/");
    assert.match(
      cookies[1] ?? "",
      /^__Host-cs_session=[^;]+; Path=\/; Secure; HttpOnly; SameSite=Strict; Max-Age=3600$/,
    );
  });

  it("refuses bad input to start", async () => {
    const { reply } = fakeReply();
    const input = { userId: "u", authMethod: "passkey" as const, userVerifiedAt: null };
    await assert.rejects(sessions.start(ctx.db, reply, { ...input, userId: "" }), TypeError);
    await assert.rejects(
      sessions.start(ctx.db, reply, { ...input, authMethod: "magic" as unknown as "passkey" }),
      TypeError,
    );
    await assert.rejects(sessions.start(ctx.db, reply, { ...input, userVerifiedAt: new Date(Number.NaN) }), TypeError);
  });
});
