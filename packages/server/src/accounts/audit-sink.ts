import type { Queryable } from "../db/database.ts";

/**
 * One security event of the account and passkey domains, as they hand it to the audit log
 * (DESIGN §4.8, issue 4 part 9). Ids, kinds and event names only outside `context`; anything
 * personal (IP address, user agent, a passkey's name) goes in `context`, which the audit log
 * encrypts with the user's data key.
 */
export interface AuditSinkEvent {
  /** Dotted lower-case name, e.g. `auth.signed_in`, `passkey.revoked`. */
  readonly type: string;
  /** The account the event belongs to, or null when none is known (an unknown account's failures). */
  readonly userId: string | null;
  readonly actor: { readonly kind: "user" | "system"; readonly id?: string };
  readonly subject?: { readonly kind: string; readonly id: string };
  readonly context?: Record<string, unknown>;
}

/**
 * The port through which accounts and passkeys record audit events. `append` runs in the
 * caller's transaction, so an event is written if and only if the change it describes commits.
 */
export interface AuditSink {
  append(tx: Queryable, event: AuditSinkEvent): Promise<void>;
}
