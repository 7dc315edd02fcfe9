import { type AccountServices, createAccountServices } from "./accounts/account-services.ts";
import type { AuditSink } from "./accounts/audit-sink.ts";
import { createTokenDigester } from "./accounts/token-digest.ts";
import { setAgentSuspendedIn } from "./agents/agent-lifecycle.ts";
import { type AgentsService, createAgentsService } from "./agents/agents-service.ts";
import type { InFlightApprovals } from "./agents/in-flight-approvals.ts";
import { createApprovalNotifier } from "./approvals/approval-notifier.ts";
import { type ApprovalService, createApprovalService } from "./approvals/approval-service.ts";
import { createBlockerReader } from "./approvals/approval-store.ts";
import { createDecisionNonces } from "./approvals/decision-nonces.ts";
import { createReceiptSigner, type ReceiptSigner } from "./approvals/receipt-signer.ts";
import { type AuditLog, createAuditLog } from "./audit/audit-log.ts";
import { createAuditSink } from "./audit/create-audit-sink.ts";
import { groupCommitMetrics } from "./audit/group-commit-metrics.ts";
import { createGroupedAuditTransactions } from "./audit/grouped-audit-transactions.ts";
import { type AttemptLimiter, createAttemptLimiter } from "./auth-guards/attempt-limiter.ts";
import type { Clock } from "./clock.ts";
import { systemClock } from "./clock.ts";
import type { Config } from "./config/config.ts";
import { createKeyRingFromConfig } from "./crypto/create-key-ring-from-config.ts";
import { createUserDataKeys, type UserDataKeys } from "./crypto/user-data-keys.ts";
import type { Database } from "./db/database.ts";
import { createMailer } from "./mail/create-mailer.ts";
import type { Mailer } from "./mail/mailer.ts";
import { createMetricsRegistry, type MetricsRegistry } from "./metrics/metrics-registry.ts";
import { createEventBus } from "./notify/create-event-bus.ts";
import type { EventBus } from "./notify/event-bus.ts";
import { createWebhookService, type WebhookService } from "./notify/webhooks/webhook-service.ts";
import { createPasskeyServices, type PasskeyServices } from "./passkeys/passkey-services.ts";
import { createPushService, type PushService } from "./push/push-service.ts";
import { createSessionService } from "./sessions/create-session-service.ts";
import type { SessionService } from "./sessions/session.ts";

/**
 * The services every domain's routes are built from, created once per process and passed down
 * explicitly (no module-level singletons). Each domain adds its service here with one field and
 * one line in {@link createAppServices}; tests replace any of them through `overrides`.
 */
export interface AppServices {
  readonly config: Config;
  readonly db: Database;
  readonly clock: Clock;
  /** Per-user data keys wrapped under the KEK ring (src/crypto, DESIGN §4.9). */
  readonly userDataKeys: UserDataKeys;
  /** The tamper-evident audit log: `audit.append(tx, event)` in the caller's transaction (src/audit, DESIGN §4.8). */
  readonly audit: AuditLog;
  /** Browser sessions of approvers (src/sessions, DESIGN §4.9). */
  readonly sessions: SessionService;
  /** Attempt limits with exponential back-off, in the database (src/auth-guards, A-1). */
  readonly attemptLimiter: AttemptLimiter;
  /** Outgoing mail: SMTP, or the console in development (src/mail). */
  readonly mailer: Mailer;
  /** Accounts: users, email codes, tickets, recovery codes, Argon2id (src/accounts, DESIGN §4.9). */
  readonly accounts: AccountServices;
  /** Passkeys: WebAuthn ceremonies, challenges and stored credentials (src/passkeys, DESIGN §4.9). */
  readonly passkeys: PasskeyServices;
  /** The domains' audit port (accounts, passkeys, sessions, agents) over {@link AppServices.audit}. */
  readonly auditSink: AuditSink;
  /** Agents: management, enrolment, key and token lookups for the request pipeline (src/agents, DESIGN §4.1–4.3). */
  readonly agents: AgentsService;
  /** Cancels an agent's in-flight approval requests: the approvals service, unless a test replaces it. */
  readonly inFlightApprovals: InFlightApprovals;
  /** Approval requests: creation, decisions, receipts (src/approvals, DESIGN §4.4–4.7). */
  readonly approvals: ApprovalService;
  /** Signs receipts and publishes the JWKS (DESIGN §4.7). */
  readonly receipts: ReceiptSigner;
  /** Approval events across processes: LISTEN/NOTIFY on PostgreSQL, in memory on PGlite (src/notify). */
  readonly events: EventBus;
  /** Signed webhooks to agents' callback URLs, from a transactional outbox (src/notify/webhooks). */
  readonly webhooks: WebhookService;
  /** The process's Prometheus counters (src/metrics), served at /metrics. */
  readonly metrics: MetricsRegistry;
  /** Push notifications of new requests: Web Push, APNs, FCM subscriptions and sending (src/push, DESIGN §4.10). */
  readonly push: PushService;
}

/** The parts services are built from. */
export interface AppServicesBase {
  readonly config: Config;
  readonly db: Database;
  readonly clock?: Clock;
}

/** Builds every service from the configuration and the database. */
export function createAppServices(base: AppServicesBase, overrides: Partial<AppServices> = {}): AppServices {
  const clock = base.clock ?? systemClock;
  const userDataKeys = overrides.userDataKeys ?? createUserDataKeys(createKeyRingFromConfig(base.config));
  const audit = overrides.audit ?? createAuditLog({ dataKeys: userDataKeys, clock });
  const auditSink = overrides.auditSink ?? createAuditSink(audit);
  const accounts = overrides.accounts ?? createAccountServices({ config: base.config, clock });
  const passkeys = overrides.passkeys ?? createPasskeyServices({ config: base.config, clock });
  const mailer = overrides.mailer ?? createMailer(base.config);
  const receipts = overrides.receipts ?? createReceiptSigner(base.config.secrets.signingKeys);
  const metrics = overrides.metrics ?? createMetricsRegistry();
  // Events are hints (subscribers re-read the row, every wait is bounded), so a lost one costs a
  // delay, not correctness; it is counted so that an operator sees it.
  const eventFailures = metrics.counter(
    "countersign_event_failures_total",
    "Approval events that could not be published or delivered to a subscriber.",
    [],
  );
  const onEventError = () => eventFailures.inc({});
  const events = overrides.events ?? createEventBus({ db: base.db, onError: onEventError });
  const webhooks =
    overrides.webhooks ??
    createWebhookService({
      db: base.db,
      clock,
      config: base.config,
      signingKey: base.config.secrets.signingKeys[0] as Config["secrets"]["signingKeys"][number],
    });
  const push =
    overrides.push ?? createPushService({ config: base.config, db: base.db, clock, dataKeys: userDataKeys, metrics });
  // Agents and approvals need each other: revoking an agent cancels its requests, and "I didn't
  // ask for this" on a request suspends its agent. Each gets the other through a late binding.
  let inFlight: InFlightApprovals | undefined = overrides.inFlightApprovals;
  const approvals =
    overrides.approvals ??
    createApprovalService({
      db: base.db,
      clock,
      config: base.config,
      audit,
      grouped: createGroupedAuditTransactions({
        db: base.db,
        audit,
        prefetchDataKeys: (userIds) => userDataKeys.prefetchFor(base.db, userIds),
        onCommitted: groupCommitMetrics(metrics),
      }),
      dataKeys: userDataKeys,
      blockers: createBlockerReader(base.db),
      nonces: createDecisionNonces(createTokenDigester(base.config.secrets.masterKey)),
      receipts,
      passkeys,
      notifier: createApprovalNotifier({ bus: events, webhooks, onError: onEventError, push: push.notifier }),
      mailer,
      users: accounts.users,
      suspendAgent: (tx, person, agentId, cause) =>
        setAgentSuspendedIn(tx, { clock, auditSink, inFlightApprovals: lateInFlight }, person, agentId, true, cause),
    });
  inFlight ??= approvals;
  const lateInFlight: InFlightApprovals = {
    cancelForAgent: (tx, agentId, reason) => (inFlight as InFlightApprovals).cancelForAgent(tx, agentId, reason),
  };
  const services: AppServices = {
    config: base.config,
    db: base.db,
    clock,
    userDataKeys,
    audit,
    sessions: overrides.sessions ?? createSessionService({ config: base.config, clock }),
    attemptLimiter:
      overrides.attemptLimiter ?? createAttemptLimiter({ masterKey: base.config.secrets.masterKey, clock }),
    mailer,
    accounts,
    passkeys,
    auditSink,
    agents:
      overrides.agents ??
      createAgentsService({ config: base.config, db: base.db, clock, auditSink, inFlightApprovals: lateInFlight }),
    inFlightApprovals: lateInFlight,
    approvals,
    receipts,
    events,
    webhooks,
    metrics,
    push,
  };
  return { ...services, ...overrides };
}
