import { stepUp } from "../webauthn/ceremonies.ts";
import { currentDevice } from "./current-device.ts";
import { refreshKeyring } from "./refresh-keyring.ts";

/** Confirms with the passkey, then unlocks from this device's bundle (the server now gives it). */
export async function unlockWithPasskey(): Promise<void> {
  await stepUp();
  const { account, record } = await currentDevice();
  await refreshKeyring(account, record);
}
