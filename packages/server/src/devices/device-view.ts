import type { Static } from "typebox";
import type { Queryable } from "../db/database.ts";
import { findActiveAccountKey } from "./account-key-store.ts";
import type { DeviceView } from "./device-schemas.ts";
import type { DeviceRow, DeviceStore } from "./device-store.ts";

/** What a device's view needs beyond its row, loaded once per answer. */
export interface DeviceViewContext {
  readonly currentDeviceId: string | null;
  readonly activeAccountKeyId: string | null;
  /** The user's devices that have at least one push subscription. */
  readonly pushDeviceIds: ReadonlySet<string>;
}

/** Loads the {@link DeviceViewContext} of the user's devices. */
export async function loadDeviceViewContext(
  q: Queryable,
  userId: string,
  currentDeviceId: string | null,
): Promise<DeviceViewContext> {
  const active = await findActiveAccountKey(q, userId);
  const { rows } = await q.query<{ device_id: string }>(
    "SELECT DISTINCT device_id FROM push_subscriptions WHERE user_id = $1 AND device_id IS NOT NULL",
    [userId],
  );
  return {
    currentDeviceId,
    activeAccountKeyId: active?.id ?? null,
    pushDeviceIds: new Set(rows.map((row) => row.device_id)),
  };
}

/**
 * A device as the app sees it. `has_bundle` counts only a bundle for the active key set: one for
 * a retired set cannot unlock anything current.
 */
export async function deviceView(
  devices: DeviceStore,
  q: Queryable,
  device: DeviceRow,
  context: DeviceViewContext,
  keyCache?: Map<string, Uint8Array | null>,
): Promise<Static<typeof DeviceView>> {
  const labels = await devices.readLabels(q, device, keyCache);
  return {
    id: device.id,
    name: labels.name,
    platform: labels.platform,
    created_at: device.createdAt.toISOString(),
    last_seen_at: device.lastSeenAt.toISOString(),
    current: device.id === context.currentDeviceId,
    has_bundle:
      device.bundle !== null &&
      context.activeAccountKeyId !== null &&
      device.bundleAccountKeyId === context.activeAccountKeyId,
    has_push: context.pushDeviceIds.has(device.id),
  };
}
