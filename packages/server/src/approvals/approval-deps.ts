import type { FastifyRequest } from "fastify";
import type { AccountServices } from "../accounts/account-services.ts";
import type { PersonContext } from "../agents/agent-lifecycle.ts";
import type { AuditLog } from "../audit/audit-log.ts";
import type { GroupedAuditTransactions } from "../audit/grouped-audit-transactions.ts";
import type { Clock } from "../clock.ts";
import type { Config } from "../config/config.ts";
import type { UserDataKeys } from "../crypto/user-data-keys.ts";
import type { Database, Transaction } from "../db/database.ts";
import type { Mailer } from "../mail/mailer.ts";
import type { PasskeyServices } from "../passkeys/passkey-services.ts";
import type { ApprovalNotifier } from "./approval-notifier.ts";
import type { BlockerKey, Blockers } from "./approval-store.ts";
import type { DecisionNonces } from "./decision-nonces.ts";
import type { ReceiptSigner } from "./receipt-signer.ts";

/** What the approval operations need, injected once when the service is built. */
export interface ApprovalDeps {
  readonly db: Database;
  readonly clock: Clock;
  readonly config: Pick<Config, "approvals" | "webauthn" | "publicUrl" | "webhooks">;
  readonly audit: AuditLog;
  /** Group commit for audited writes that come in bursts: creations and decisions. */
  readonly grouped: GroupedAuditTransactions;
  readonly dataKeys: UserDataKeys;
  /** What a new request must know first, read in batches (`createBlockerReader`). */
  readonly blockers: (key: BlockerKey) => Promise<Blockers>;
  readonly nonces: DecisionNonces;
  readonly receipts: ReceiptSigner;
  readonly passkeys: PasskeyServices;
  readonly notifier: ApprovalNotifier;
  /** To tell a person their agent was suspended after "I didn't ask for this". */
  readonly mailer: Pick<Mailer, "send">;
  readonly users: AccountServices["users"];
  /** Suspends an agent inside the caller's transaction ("I didn't ask for this", T-1). */
  readonly suspendAgent: (
    tx: Transaction,
    person: PersonContext,
    agentId: string,
    cause: { readonly approvalId: string },
  ) => Promise<unknown>;
}

/** Who is acting, for the audit log. */
export interface ActorContext {
  readonly ip: string;
  readonly userAgent: string | null;
  readonly requestId: string;
}

/** The actor facts of an HTTP request, for audit events. */
export function actorOf(request: FastifyRequest): ActorContext {
  const userAgent = request.headers["user-agent"];
  return {
    ip: request.ip,
    userAgent: typeof userAgent === "string" ? userAgent.slice(0, 256) : null,
    requestId: request.id,
  };
}
