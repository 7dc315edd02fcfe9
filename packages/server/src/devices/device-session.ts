import { CountersignError } from "@countersign/protocol";
import type { Queryable } from "../db/database.ts";
import type { Session } from "../sessions/session.ts";
import type { DeviceRow, DeviceStore } from "./device-store.ts";

/**
 * The device of a "device session" (spec §2): a session bound to one of the account's devices
 * that is not revoked. A revoked device's sessions are deleted, so the last two refusals only
 * happen in a race with the revocation; `lock` holds the device row until the transaction ends,
 * so a concurrent revocation waits.
 *
 * @throws CountersignError `device_required` (the session has no device), `device_not_found`,
 *   `device_revoked`.
 */
export async function requireSessionDevice(
  q: Queryable,
  devices: DeviceStore,
  session: Pick<Session, "userId" | "deviceId">,
  options: { lock?: boolean } = {},
): Promise<DeviceRow> {
  if (session.deviceId === null) throw new CountersignError("device_required");
  const device = await devices.find(q, session.userId, session.deviceId, options);
  if (device === null) throw new CountersignError("device_not_found");
  if (device.revokedAt !== null) throw new CountersignError("device_revoked");
  return device;
}
