import type { Static } from "typebox";
import type { Queryable } from "../db/database.ts";
import type { DeviceView } from "./device-schemas.ts";
import type { DeviceRow, DeviceStore } from "./device-store.ts";

/**
 * A device as the app sees it. `has_bundle` counts only a bundle for the active key set: one for
 * a retired set cannot unlock anything current.
 */
export async function deviceView(
  devices: DeviceStore,
  q: Queryable,
  device: DeviceRow,
  context: { currentDeviceId: string | null; activeAccountKeyId: string | null },
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
  };
}
