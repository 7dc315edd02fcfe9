import type { Clock } from "../clock.ts";
import type { Queryable } from "../db/database.ts";
import { newTicketSecret, type TokenDigester } from "./token-digest.ts";

/** Which flow a ticket continues. */
export type TicketPurpose = "signup" | "recovery" | "password-2fa";

/** A ticket lives 10 minutes: long enough to find a phone, short enough to be worth little. */
export const TICKET_TTL_MS = 10 * 60 * 1000;

/** What a ticket stands for. */
export interface TicketRow {
  /** The keyed digest the ticket is stored under; also what challenges and codes bind to. */
  readonly digest: string;
  readonly purpose: TicketPurpose;
  /** For `signup`, the id the new account will get; otherwise the account's id. */
  readonly userId: string;
  readonly emailIndex: string;
  /** For `signup` only: the address, already sealed for (users, email, userId). */
  readonly email: string | null;
  readonly expiresAt: Date;
}

/**
 * Bearer tickets in `auth_tickets`, stored by keyed digest only. A ticket carries a person from
 * one step of a flow to the next (a verified code → registering a passkey; a password → its
 * emailed second factor) without a session existing yet.
 */
export interface AuthTickets {
  /** The digest a ticket is stored and bound under. */
  digestOf(ticket: string): string;
  /** Creates a ticket and returns the secret, which only the client ever holds. */
  issue(
    q: Queryable,
    init: { purpose: TicketPurpose; userId: string; emailIndex: string; email?: string },
  ): Promise<{ ticket: string; digest: string; expiresAt: Date }>;
  /** The live ticket, without consuming it; null when unknown, expired or for another purpose. */
  find(q: Queryable, purpose: TicketPurpose, ticket: string): Promise<TicketRow | null>;
  /** Consumes the live ticket (DELETE … RETURNING, so once only); null when there is none. */
  consume(q: Queryable, purpose: TicketPurpose, ticket: string): Promise<TicketRow | null>;
}

interface StoredTicket {
  digest: string;
  purpose: TicketPurpose;
  user_id: string;
  email_index: string;
  email: string | null;
  expires_at: Date;
}

const COLUMNS = "digest, purpose, user_id, email_index, email, expires_at";
const TICKET = /^[A-Za-z0-9_-]{43}$/;

function toRow(row: StoredTicket): TicketRow {
  return {
    digest: row.digest,
    purpose: row.purpose,
    userId: row.user_id,
    emailIndex: row.email_index,
    email: row.email,
    expiresAt: row.expires_at,
  };
}

/**
 * Builds the ticket store.
 *
 * @example
 * ```ts
 * const { ticket } = await tickets.issue(tx, { purpose: "recovery", userId, emailIndex });
 * const row = await tickets.consume(tx, "recovery", ticket);
 * ```
 */
export function createAuthTickets(deps: { digests: TokenDigester; clock: Clock }): AuthTickets {
  const { digests, clock } = deps;
  const digestOf = (ticket: string) => digests.digest("ticket", ticket);

  return Object.freeze({
    digestOf,

    async issue(q: Queryable, init: { purpose: TicketPurpose; userId: string; emailIndex: string; email?: string }) {
      const ticket = newTicketSecret();
      const digest = digestOf(ticket);
      const now = clock.now();
      const expiresAt = new Date(now + TICKET_TTL_MS);
      await q.query(
        `INSERT INTO auth_tickets (digest, purpose, user_id, email_index, email, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)`,
        [digest, init.purpose, init.userId, init.emailIndex, init.email ?? null, new Date(now), expiresAt],
      );
      return { ticket, digest, expiresAt };
    },

    async find(q: Queryable, purpose: TicketPurpose, ticket: string) {
      if (typeof ticket !== "string" || !TICKET.test(ticket)) return null;
      const { rows } = await q.query<StoredTicket>(
        `SELECT ${COLUMNS} FROM auth_tickets WHERE digest = $1 AND purpose = $2 AND expires_at > $3`,
        [digestOf(ticket), purpose, new Date(clock.now())],
      );
      return rows[0] === undefined ? null : toRow(rows[0]);
    },

    async consume(q: Queryable, purpose: TicketPurpose, ticket: string) {
      if (typeof ticket !== "string" || !TICKET.test(ticket)) return null;
      const { rows } = await q.query<StoredTicket>(
        `DELETE FROM auth_tickets WHERE digest = $1 AND purpose = $2 AND expires_at > $3 RETURNING ${COLUMNS}`,
        [digestOf(ticket), purpose, new Date(clock.now())],
      );
      return rows[0] === undefined ? null : toRow(rows[0]);
    },
  });
}
