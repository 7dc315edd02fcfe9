import type { AuditLog } from "../audit/audit-log.ts";
import type { Clock } from "../clock.ts";
import type { Database } from "../db/database.ts";
import type { PushSubscriptionStore } from "../push/push-subscription-store.ts";
import type { DeviceStore } from "./device-store.ts";

/** What the device, account-key and pairing routes are built from (src/devices, DESIGN §4.11). */
export interface DeviceDeps {
  readonly db: Database;
  readonly clock: Clock;
  readonly audit: AuditLog;
  readonly devices: DeviceStore;
  /** To remove a revoked device's push subscriptions. */
  readonly pushSubscriptions: Pick<PushSubscriptionStore, "removeForDevice">;
  /** `config.auth.stepUpMaxAgeSeconds`: how recent a passkey confirmation counts as one. */
  readonly stepUpMaxAgeSeconds: number;
}
