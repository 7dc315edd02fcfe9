import { api } from "../api/api.ts";
import { ApiError } from "../api/api-error.ts";
import type { Account, Device, DeviceList } from "../api/types.ts";
import { resendPushSubscription } from "../live/push-subscription.ts";
import { withStepUp } from "../webauthn/ceremonies.ts";
import { attachSignature } from "./attach-signature.ts";
import { type DeviceRecord, forgetDeviceRecord, loadDeviceRecord, saveDeviceRecord } from "./device-db.ts";
import { generateDeviceKeys, signingPublicKeyB64u } from "./device-keys.ts";
import { deviceName, devicePlatform } from "./device-name.ts";
import { setKeyring } from "./keyring.ts";
import { refreshKeyring } from "./refresh-keyring.ts";

let running: Promise<DeviceRecord | null> | null = null;

/**
 * Binds the signed-in session to this browser's device (spec §4): attach when IndexedDB holds a
 * device id (a signature with the non-extractable key proves it is this browser), otherwise
 * register a new device; then unlock the account key if this device holds a bundle.
 *
 * Registering needs a recent passkey confirmation; with `interactive` false (app start-up, no
 * gesture) it is not asked for, and the keyring says `unregistered` so a banner can offer it.
 * Concurrent calls share one run where they can.
 *
 * @returns the device record, or null when the device is not registered.
 */
export async function setUpDevice(account: Account, options: { interactive: boolean }): Promise<DeviceRecord | null> {
  const earlier = running;
  if (earlier !== null) {
    // A run already under way (app start-up) answers for this call too, unless it stopped short
    // of registering and this caller may ask for the passkey.
    const shared = await earlier.catch(() => null);
    if (shared !== null || !options.interactive) return shared;
  }
  running ??= run(account, options).finally(() => {
    running = null;
  });
  return running;
}

/**
 * Sends the existing push subscription again. Push is not what this run is for: a failure leaves
 * the subscription as it was (without a device) and is reported on the console, not to the person.
 */
async function resendPush(): Promise<void> {
  try {
    await resendPushSubscription();
  } catch (error) {
    console.warn("the push subscription was not sent again for this device", error);
  }
}

async function run(account: Account, { interactive }: { interactive: boolean }): Promise<DeviceRecord | null> {
  const list = await api<DeviceList>("GET", "/v1/me/devices");
  let record = await loadDeviceRecord(account.id);

  // Whether this run bound the session to the device (attached or registered).
  let bound = false;
  if (record?.deviceId != null && list.current_device_id !== record.deviceId) {
    try {
      const signature = await attachSignature(record.signing.privateKey, list.session_handle, record.deviceId);
      await api<{ device: Device }>("POST", `/v1/me/devices/${record.deviceId}/attach`, { signature });
      bound = true;
    } catch (error) {
      if (!(error instanceof ApiError) || (error.code !== "device_not_found" && error.code !== "device_revoked")) {
        throw error;
      }
      // The server no longer knows this device: start over with fresh keys.
      await forgetDeviceRecord(account.id);
      record = null;
    }
  }

  if (record?.deviceId == null) {
    record ??= { userId: account.id, deviceId: null, ...(await generateDeviceKeys()) };
    // Kept before registering, so a registration whose answer is lost leaves no orphan key.
    await saveDeviceRecord(record);
    const body = {
      name: deviceName(),
      platform: devicePlatform(),
      public_key: await signingPublicKeyB64u(record.signing.publicKey),
    };
    const register = () => api<{ device: Device }>("POST", "/v1/me/devices", body);
    let device: Device;
    try {
      device = (interactive ? await withStepUp(register) : await register()).device;
    } catch (error) {
      if (!interactive && error instanceof ApiError && error.code === "step_up_required") {
        setKeyring({ status: "unregistered" });
        return null;
      }
      throw error;
    }
    record = { ...record, deviceId: device.id };
    await saveDeviceRecord(record);
    bound = true;
  }

  // The browser's push subscription, sent again from the bound session, names the device.
  if (bound) await resendPush();

  await refreshKeyring(account, record);
  return record;
}
