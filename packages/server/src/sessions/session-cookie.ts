import { createHmac, type KeyObject, timingSafeEqual } from "node:crypto";
import { assertBytes, fromBase64Url, toBase64Url } from "@countersign/protocol";
import type { FastifyReply } from "fastify";
import { SESSION_ID_BYTES } from "./session-keys.ts";

/**
 * The session cookie (DESIGN §4.9, A-2): `__Host-cs_session=<id>.<mac>`, where `id` is the
 * base64url of 32 random bytes and `mac` the base64url of HMAC-SHA-256(session-cookie key, id).
 *
 * The `__Host-` prefix (RFC 6265bis §4.1.3.2) makes the browser refuse the cookie unless it is
 * Secure, has Path=/ and no Domain, so neither a sibling subdomain nor a plain-http response can
 * set or overwrite it (cookie tossing). HttpOnly keeps it away from scripts; SameSite=Strict
 * (RFC 6265bis §4.1.2.7) keeps it off every cross-site request, the first CSRF layer.
 */
export const SESSION_COOKIE_NAME = "__Host-cs_session";

const MAC_BYTES = 32;
// 32 bytes in unpadded base64url are 43 characters, for the id and the MAC alike.
const COOKIE_VALUE = /^[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{43}$/;
const ATTRIBUTES = "Path=/; Secure; HttpOnly; SameSite=Strict";

function mac(key: KeyObject, id: Uint8Array): Uint8Array {
  return new Uint8Array(createHmac("sha256", key).update(id).digest());
}

/** The cookie value for a session id: `<base64url id>.<base64url HMAC(key, id)>`. */
export function sessionCookieValue(cookieKey: KeyObject, id: Uint8Array): string {
  assertBytes(id, "session id", SESSION_ID_BYTES);
  return `${toBase64Url(id)}.${toBase64Url(mac(cookieKey, id))}`;
}

/**
 * Checks a cookie value's form and MAC and returns the session id, or null. The MAC is compared
 * in constant time and checked before anything asks the database, so forged or guessed cookies
 * cost one HMAC and never a query. Only canonical base64url is accepted: one id has one cookie.
 */
export function verifySessionCookieValue(cookieKey: KeyObject, value: string): Uint8Array | null {
  if (!COOKIE_VALUE.test(value)) return null;
  const dot = value.indexOf(".");
  const id = fromBase64Url(value.slice(0, dot));
  const presented = fromBase64Url(value.slice(dot + 1));
  if (id === null || presented === null || id.length !== SESSION_ID_BYTES || presented.length !== MAC_BYTES) {
    return null;
  }
  return timingSafeEqual(mac(cookieKey, id), presented) ? id : null;
}

/**
 * Finds the session cookie in a `Cookie` header (RFC 6265bis §5.7.4 sends `name=value` pairs
 * separated by `; `). Returns null when it is absent, or present more than once: with the
 * `__Host-` prefix only this host can set it, so two of them mean a forged header, and picking
 * one would let the request choose.
 */
export function readSessionCookie(header: string | undefined): string | null {
  if (header === undefined) return null;
  let found: string | null = null;
  for (const pair of header.split(";")) {
    const eq = pair.indexOf("=");
    if (eq === -1 || pair.slice(0, eq).trim() !== SESSION_COOKIE_NAME) continue;
    if (found !== null) return null;
    found = pair.slice(eq + 1).trim();
  }
  return found;
}

/**
 * The `Set-Cookie` value that stores a session cookie. `Max-Age` is the absolute lifetime, so the
 * cookie survives an app restart on a phone but never outlives the session on the server.
 */
export function sessionSetCookie(value: string, maxAgeSeconds: number): string {
  if (!COOKIE_VALUE.test(value)) throw new TypeError("not a session cookie value");
  if (!Number.isSafeInteger(maxAgeSeconds) || maxAgeSeconds < 1) throw new RangeError("maxAgeSeconds must be >= 1");
  return `${SESSION_COOKIE_NAME}=${value}; ${ATTRIBUTES}; Max-Age=${maxAgeSeconds}`;
}

/**
 * The `Set-Cookie` value that removes the session cookie: empty, `Max-Age=0` (RFC 6265bis
 * §5.6.2), and the same prefix-mandated attributes, without which the browser ignores it.
 */
export function clearSessionSetCookie(): string {
  return `${SESSION_COOKIE_NAME}=; ${ATTRIBUTES}; Max-Age=0`;
}

/**
 * Puts `setCookie` (from {@link sessionSetCookie} or {@link clearSessionSetCookie}) on the reply,
 * replacing any session cookie set earlier in the same response, so that sign-out followed by
 * sign-in in one request leaves exactly one instruction; other cookies are kept.
 */
export function replaceSessionCookie(reply: FastifyReply, setCookie: string): void {
  const existing = reply.getHeader("set-cookie");
  const others = (Array.isArray(existing) ? existing : existing === undefined ? [] : [String(existing)]).filter(
    (cookie) => !cookie.startsWith(`${SESSION_COOKIE_NAME}=`),
  );
  reply.removeHeader("set-cookie");
  reply.header("set-cookie", [...others, setCookie]);
}
