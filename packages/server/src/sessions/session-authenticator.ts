import type { Clock } from "../clock.ts";
import type { Config } from "../config/config.ts";
import type { Queryable } from "../db/database.ts";
import type { CurrentSession } from "./session.ts";
import { readSessionCookie, verifySessionCookieValue } from "./session-cookie.ts";
import { openSessionData } from "./session-data-cipher.ts";
import { deriveSessionKeys, sessionIdDigest } from "./session-keys.ts";
import { deleteSessionByDigest, findSessionByDigest, toSession, touchSession } from "./session-store.ts";
import { cutText, LISTED_USER_AGENT_CHARS } from "./session-text.ts";

/** `last_seen_at` is written at most this often per session, so reads do not each cost a write. */
export const LAST_SEEN_GRANULARITY_MS = 60_000;

/** The outcome of presenting a `Cookie` header. */
export type SessionLookup =
  | { readonly status: "ok"; readonly session: CurrentSession }
  /** No session cookie at all. */
  | { readonly status: "absent" }
  /** A cookie that is malformed, forged, unknown (ended or revoked), or whose data does not open. */
  | { readonly status: "invalid" }
  /** A genuine session past its idle or absolute expiry; it has just been deleted. */
  | { readonly status: "expired" };

/** Loads the session a request's cookie names. */
export interface SessionAuthenticator {
  authenticate(q: Queryable, cookieHeader: string | undefined): Promise<SessionLookup>;
}

/** What {@link createSessionAuthenticator} needs. */
export interface SessionAuthenticatorDeps {
  readonly config: Pick<Config, "sessions" | "secrets">;
  readonly clock: Clock;
}

/**
 * Builds the request-side half of sessions (DESIGN §4.9, A-2). For each request:
 *
 * 1. find `__Host-cs_session` in the `Cookie` header;
 * 2. check its form and its HMAC in constant time, before any database access;
 * 3. look the row up by the id's keyed digest;
 * 4. refuse and delete it when past its idle or absolute expiry (ASVS 5.0 V7.3.1, V7.3.2);
 * 5. open its sealed data with the key derived from the id; data that does not open (a row
 *    moved to another user, or extended, by someone writing to the database) means no session;
 * 6. record the use, at most once a minute.
 */
export function createSessionAuthenticator(deps: SessionAuthenticatorDeps): SessionAuthenticator {
  const { clock } = deps;
  const { idleTimeoutSeconds } = deps.config.sessions;
  const keys = deriveSessionKeys(deps.config.secrets.masterKey);

  return Object.freeze({
    async authenticate(q: Queryable, cookieHeader: string | undefined): Promise<SessionLookup> {
      const value = readSessionCookie(cookieHeader);
      if (value === null) return { status: "absent" };
      const id = verifySessionCookieValue(keys.cookie, value);
      if (id === null) return { status: "invalid" };
      try {
        const digest = sessionIdDigest(keys, id);
        const row = await findSessionByDigest(q, digest);
        if (row === undefined) return { status: "invalid" };

        const nowMs = clock.now();
        if (nowMs >= row.idle_expires_at.getTime() || nowMs >= row.absolute_expires_at.getTime()) {
          await deleteSessionByDigest(q, digest);
          return { status: "expired" };
        }

        const data = openSessionData(
          id,
          {
            handle: row.handle,
            userId: row.user_id,
            authMethod: row.auth_method,
            createdAt: row.created_at,
            absoluteExpiresAt: row.absolute_expires_at,
          },
          row.data,
        );
        if (data === null) return { status: "invalid" };

        if (nowMs - row.last_seen_at.getTime() >= LAST_SEEN_GRANULARITY_MS) {
          const seenAt = new Date(nowMs);
          const idleExpiresAt = new Date(
            Math.min(nowMs + idleTimeoutSeconds * 1000, row.absolute_expires_at.getTime()),
          );
          if (await touchSession(q, digest, seenAt, idleExpiresAt)) {
            row.last_seen_at = seenAt;
            row.idle_expires_at = idleExpiresAt;
          }
        }
        // The listed user agent is the first 256 characters of the full one, which is here in
        // the clear already: no need to load the user's data key on every request.
        const userAgent = data.userAgent === null ? null : cutText(data.userAgent, LISTED_USER_AGENT_CHARS);
        return { status: "ok", session: { ...toSession(row, userAgent), data } };
      } finally {
        id.fill(0);
      }
    },
  });
}
