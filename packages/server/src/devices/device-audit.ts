import type { FastifyRequest } from "fastify";
import { clientFacts } from "../accounts/client-facts.ts";
import type { JsonValue } from "../audit/audit-event.ts";
import type { AuditLog } from "../audit/audit-log.ts";
import type { Queryable } from "../db/database.ts";

/** The audit events of devices, account key sets and pairings (DESIGN §4.8, §4.11). */
export type DeviceAuditType =
  | "device.registered"
  | "device.attached"
  | "device.revoked"
  | "device.bundle_stored"
  | "account_key.created"
  | "account_key.reset"
  | "account_key.recovery_read"
  | "pairing.started"
  | "pairing.joined"
  | "pairing.confirmed"
  | "pairing.failed"
  | "pairing.completed"
  | "pairing.expired";

/** One event of this domain, by the signed-in person. */
export interface DeviceAuditInput {
  readonly type: DeviceAuditType;
  readonly userId: string;
  readonly subject: { readonly type: "device" | "account_key" | "pairing"; readonly id: string };
  /** Ids, states and counts only: stored in plaintext. */
  readonly details?: Record<string, JsonValue>;
}

/**
 * Appends the event in the caller's transaction, so it exists exactly when the change commits.
 * Call it last, just before the commit (the chain lock is held until then). The client's address
 * and user agent go in the sealed context, never in plaintext.
 */
export async function auditDeviceEvent(
  audit: AuditLog,
  tx: Queryable,
  request: FastifyRequest,
  event: DeviceAuditInput,
): Promise<void> {
  const facts = clientFacts(request);
  await audit.append(tx, {
    type: event.type,
    actor: { type: "user", id: event.userId },
    subject: event.subject,
    userId: event.userId,
    requestId: request.id,
    details: { device_id: request.session?.deviceId ?? null, ...event.details },
    context: { ip: facts.ip, user_agent: facts.userAgent ?? null },
  });
}
