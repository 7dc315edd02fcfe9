import { CountersignError, randomBytes, toBase64Url } from "@countersign/protocol";
import type { FastifyReply } from "fastify";
import { createAuthSubjectDigest } from "../auth-guards/auth-subject-digest.ts";
import type { Clock } from "../clock.ts";
import type { Config } from "../config/config.ts";
import { assertText } from "../crypto/assert-text.ts";
import { createKeyRingFromConfig } from "../crypto/create-key-ring-from-config.ts";
import { decryptFieldText, encryptField, type FieldContext } from "../crypto/field-cipher.ts";
import { fieldKeyId } from "../crypto/field-key-id.ts";
import { createUserDataKeys, type UserDataKeys } from "../crypto/user-data-keys.ts";
import type { Queryable } from "../db/database.ts";
import { SESSION_AUTH_METHODS, type Session, type SessionService, type StartSessionInput } from "./session.ts";
import { clearSessionSetCookie, replaceSessionCookie, sessionCookieValue, sessionSetCookie } from "./session-cookie.ts";
import { sealSessionData } from "./session-data-cipher.ts";
import { deriveSessionKeys, SESSION_ID_BYTES, sessionIdDigest } from "./session-keys.ts";
import {
  deleteSessionByHandle,
  deleteUserSessions,
  insertSession,
  listLiveSessions,
  type SessionRow,
  setStepUp,
  toSession,
} from "./session-store.ts";
import { cleanText, cutText, LISTED_USER_AGENT_CHARS } from "./session-text.ts";

/** What {@link createSessionService} needs. */
export interface SessionServiceDeps {
  readonly config: Pick<Config, "sessions" | "secrets">;
  readonly clock: Clock;
  /** The per-user data keys that seal the listed user agent; built from the config when absent. */
  readonly dataKeys?: UserDataKeys;
}

/** The full user agent kept in the sealed data is cut to this many characters. */
const FULL_USER_AGENT_CHARS = 1024;
const HANDLE = /^ses_[A-Za-z0-9_-]{22}$/;

/** Where a listed user agent lives, for the field cipher's AAD. */
export function userAgentField(handle: string): FieldContext {
  return { table: "sessions", column: "user_agent", rowId: handle };
}

/** Whether `value` has the form of a session handle. */
export function isSessionHandle(value: unknown): value is string {
  return typeof value === "string" && HANDLE.test(value);
}

/**
 * Builds the session service of DESIGN §4.9. The keys are derived here, once. Loading the
 * session of a request is done by `createSessionAuthenticator` through the `config.auth`
 * route option.
 */
export function createSessionService(deps: SessionServiceDeps): SessionService {
  const { clock } = deps;
  const { idleTimeoutSeconds, absoluteTimeoutSeconds } = deps.config.sessions;
  const keys = deriveSessionKeys(deps.config.secrets.masterKey);
  const ipDigest = createAuthSubjectDigest(deps.config.secrets.masterKey);
  const dataKeys = deps.dataKeys ?? createUserDataKeys(createKeyRingFromConfig(deps.config));

  return Object.freeze({
    async start(tx: Queryable, reply: FastifyReply, input: StartSessionInput): Promise<Session> {
      assertText(input.userId, "userId");
      if (!SESSION_AUTH_METHODS.includes(input.authMethod)) throw new TypeError("unknown authMethod");
      const verifiedAt = input.userVerifiedAt;
      if (verifiedAt !== null && !(verifiedAt instanceof Date && Number.isFinite(verifiedAt.getTime()))) {
        throw new TypeError("userVerifiedAt must be a valid Date or null");
      }

      // A-2, ASVS 5.0 V7.2.4: every sign-in gets a fresh random id; none is ever taken from
      // the request, so a planted (fixated) id can never become a session.
      const id = randomBytes(SESSION_ID_BYTES);
      const handle = `ses_${toBase64Url(randomBytes(16))}`;
      const nowMs = clock.now();
      const absoluteExpiresAt = new Date(nowMs + absoluteTimeoutSeconds * 1000);
      const fullUserAgent = cleanText(input.userAgent, FULL_USER_AGENT_CHARS);
      const listedUserAgent = fullUserAgent === null ? null : cutText(fullUserAgent, LISTED_USER_AGENT_CHARS);
      const ip = cleanText(input.ip, 100);
      const binding = {
        handle,
        userId: input.userId,
        authMethod: input.authMethod,
        createdAt: new Date(nowMs),
        absoluteExpiresAt,
      };
      const row: SessionRow = {
        id_digest: sessionIdDigest(keys, id),
        handle,
        user_id: input.userId,
        data: sealSessionData(id, binding, { ip, userAgent: fullUserAgent }),
        auth_method: input.authMethod,
        created_at: binding.createdAt,
        last_seen_at: binding.createdAt,
        idle_expires_at: new Date(Math.min(nowMs + idleTimeoutSeconds * 1000, absoluteExpiresAt.getTime())),
        absolute_expires_at: absoluteExpiresAt,
        step_up_at: verifiedAt,
        user_agent:
          listedUserAgent === null
            ? null
            : encryptField(await dataKeys.forWriting(tx, input.userId), userAgentField(handle), listedUserAgent),
        ip_digest: ip === null ? null : ipDigest("ip", ip),
        device_id: null,
      };
      await insertSession(tx, row);
      replaceSessionCookie(reply, sessionSetCookie(sessionCookieValue(keys.cookie, id), absoluteTimeoutSeconds));
      id.fill(0);
      return toSession(row, listedUserAgent);
    },

    async markStepUp(q: Queryable, sessionId: string, at: Date): Promise<void> {
      if (!(at instanceof Date) || !Number.isFinite(at.getTime())) throw new TypeError("at must be a valid Date");
      if (!isSessionHandle(sessionId) || !(await setStepUp(q, sessionId, at))) {
        throw new CountersignError("unauthenticated", { cause: new Error("the session no longer exists") });
      }
    },

    async end(q: Queryable, reply: FastifyReply, sessionId: string): Promise<void> {
      if (isSessionHandle(sessionId)) await deleteSessionByHandle(q, sessionId);
      replaceSessionCookie(reply, clearSessionSetCookie());
    },

    async list(q: Queryable, userId: string): Promise<Session[]> {
      const rows = await listLiveSessions(q, userId, new Date(clock.now()));
      const keysByKid = new Map<string, Uint8Array | null>();
      const sessions: Session[] = [];
      for (const row of rows) {
        let userAgent: string | null = null;
        const kid = row.user_agent === null ? null : fieldKeyId(row.user_agent);
        if (row.user_agent !== null && kid !== null) {
          if (!keysByKid.has(kid)) keysByKid.set(kid, await dataKeys.loadKey(q, kid));
          // Null after the user's data key was erased (crypto-shredding): the session stays listed.
          userAgent = decryptFieldText(() => keysByKid.get(kid), userAgentField(row.handle), row.user_agent);
        }
        sessions.push(toSession(row, userAgent));
      }
      return sessions;
    },

    async revoke(q: Queryable, userId: string, sessionId: string): Promise<boolean> {
      if (!isSessionHandle(sessionId)) return false;
      return (await deleteUserSessions(q, userId, new Date(clock.now()), { only: sessionId })) > 0;
    },

    async revokeAll(q: Queryable, userId: string, options: { except?: string } = {}): Promise<number> {
      return deleteUserSessions(q, userId, new Date(clock.now()), options.except ? { except: options.except } : {});
    },
  });
}
