import { CountersignError } from "@countersign/protocol";
import type { Account } from "../api/types.ts";
import { session } from "../state.ts";
import { type DeviceRecord, loadDeviceRecord } from "./device-db.ts";

/** The signed-in account and this browser's registered device record, for the device flows. */
export async function currentDevice(): Promise<{ account: Account; record: DeviceRecord }> {
  const state = session.value;
  if (state.status !== "signed-in") throw new CountersignError("unauthenticated");
  const record = await loadDeviceRecord(state.account.id);
  if (record === null || record.deviceId === null) throw new CountersignError("device_required");
  return { account: state.account, record };
}
