import { type AccountServices, createAccountServices } from "./accounts/account-services.ts";
import type { AuditSink } from "./accounts/audit-sink.ts";
import { type AgentsService, createAgentsService } from "./agents/agents-service.ts";
import { type InFlightApprovals, placeholderInFlightApprovals } from "./agents/in-flight-approvals.ts";
import { type AuditLog, createAuditLog } from "./audit/audit-log.ts";
import { createAuditSink } from "./audit/create-audit-sink.ts";
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
import { createPasskeyServices, type PasskeyServices } from "./passkeys/passkey-services.ts";
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
  /** Cancels an agent's in-flight approval requests; `placeholderInFlightApprovals` until approvals exist. */
  readonly inFlightApprovals: InFlightApprovals;
  /** The process's Prometheus counters (src/metrics), served at /metrics. */
  readonly metrics: MetricsRegistry;
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
  const services: AppServices = {
    config: base.config,
    db: base.db,
    clock,
    userDataKeys,
    audit,
    sessions: overrides.sessions ?? createSessionService({ config: base.config, clock }),
    attemptLimiter:
      overrides.attemptLimiter ?? createAttemptLimiter({ masterKey: base.config.secrets.masterKey, clock }),
    mailer: overrides.mailer ?? createMailer(base.config),
    accounts: overrides.accounts ?? createAccountServices({ config: base.config, clock }),
    passkeys: overrides.passkeys ?? createPasskeyServices({ config: base.config, clock }),
    auditSink,
    agents:
      overrides.agents ??
      createAgentsService({
        config: base.config,
        db: base.db,
        clock,
        auditSink,
        inFlightApprovals: overrides.inFlightApprovals ?? placeholderInFlightApprovals,
      }),
    inFlightApprovals: overrides.inFlightApprovals ?? placeholderInFlightApprovals,
    metrics: overrides.metrics ?? createMetricsRegistry(),
  };
  return { ...services, ...overrides };
}
