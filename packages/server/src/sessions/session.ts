import type { FastifyReply } from "fastify";
import type { Queryable } from "../db/database.ts";

/** How the person proved who they are when the session began. */
export type SessionAuthMethod = "passkey" | "password" | "recovery";

/** The ways a session can begin, in the order the database CHECK lists them. */
export const SESSION_AUTH_METHODS: readonly SessionAuthMethod[] = ["passkey", "password", "recovery"];

/**
 * A signed-in browser session (DESIGN §4.9, A-2) as the rest of the server sees it. It never
 * carries the session id itself: `id` is the public handle, which names the session in the API
 * and can never authenticate anyone.
 */
export interface Session {
  /** The public handle, `ses_` and 22 base64url characters. */
  readonly id: string;
  readonly userId: string;
  readonly createdAt: Date;
  readonly lastSeenAt: Date;
  /** The earlier of the idle expiry (last use + idle timeout) and the absolute expiry. */
  readonly expiresAt: Date;
  /** When the person last confirmed with a user-verified passkey assertion, if ever. */
  readonly stepUpAt: Date | null;
  readonly authMethod: SessionAuthMethod;
  /** The browser's User-Agent at sign-in (at most 256 characters); null when absent or erased. */
  readonly userAgent: string | null;
  /**
   * The device this session is bound to (registered or attached after sign-in, src/devices), or
   * null. A device's revocation deletes its sessions, so a bound session's device is not revoked.
   */
  readonly deviceId: string | null;
}

/**
 * What only the holder of the cookie can read: sealed under a key derived from the session id,
 * so neither a database dump nor the server without the cookie can open it.
 */
export interface SessionData {
  /** The client address at sign-in, exactly as the server saw it. */
  readonly ip: string | null;
  /** The full User-Agent at sign-in (the listed one is cut to 256 characters). */
  readonly userAgent: string | null;
}

/** The session of the current request, with the data only its cookie opens. */
export interface CurrentSession extends Session {
  readonly data: SessionData;
}

/** What {@link SessionService.start} needs. */
export interface StartSessionInput {
  readonly userId: string;
  readonly authMethod: SessionAuthMethod;
  /** When the sign-in included a user-verified assertion; it counts as a step-up. */
  readonly userVerifiedAt: Date | null;
  readonly userAgent?: string;
  readonly ip?: string;
}

/**
 * Sessions (DESIGN §4.9, A-2): begun at sign-in with a fresh id, ended by sign-out or revoke,
 * listed for the account's session page. Loading the session of a request is the route option
 * `config.auth` (see `registerSessionAuth`), not a method here.
 */
export interface SessionService {
  /**
   * Begins a session with a NEW random id (never reusing one: A-2, ASVS 5.0 V7.2.4) and sets the
   * `__Host-cs_session` cookie on `reply`. `userVerifiedAt` counts as a step-up. Run it in the
   * sign-in transaction: the user's data key may be created with it.
   */
  start(tx: Queryable, reply: FastifyReply, input: StartSessionInput): Promise<Session>;
  /**
   * Records a fresh user-verified assertion for the session with this handle. Never moves the
   * step-up time backwards.
   *
   * @throws CountersignError `unauthenticated` when the session no longer exists.
   */
  markStepUp(q: Queryable, sessionId: string, at: Date): Promise<void>;
  /** Sign out this session: delete it and clear the cookie. */
  end(q: Queryable, reply: FastifyReply, sessionId: string): Promise<void>;
  /** The user's live sessions, most recently used first. */
  list(q: Queryable, userId: string): Promise<Session[]>;
  /** Ends one of the user's sessions; false when it is not theirs or no longer exists. */
  revoke(q: Queryable, userId: string, sessionId: string): Promise<boolean>;
  /** Ends every session of the user (except one, by handle); returns how many ended. */
  revokeAll(q: Queryable, userId: string, options?: { except?: string }): Promise<number>;
}
