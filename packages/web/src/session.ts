import { api } from "./api/api.ts";
import { ApiError } from "./api/api-error.ts";
import type { Account } from "./api/types.ts";
import { setKeyring } from "./device/keyring.ts";
import { startLiveEvents, stopLiveEvents } from "./live/approval-events.ts";
import { session } from "./state.ts";

/** Asks the server who is signed in, and opens the live stream if someone is. Returns the account. */
export async function refreshSession(): Promise<Account | null> {
  try {
    const account = await api<Account>("GET", "/v1/account");
    session.value = { status: "signed-in", account };
    startLiveEvents();
    return account;
  } catch (error) {
    if (error instanceof ApiError && (error.code === "unauthenticated" || error.code === "session_expired")) {
      session.value = { status: "signed-out" };
      stopLiveEvents();
      return null;
    }
    throw error;
  }
}

/**
 * Binds this session to this browser's device and unlocks the account key when it can (spec
 * §4). A failure leaves the app usable: the keyring says so and the devices screen offers a retry.
 */
export async function startDevice(account: Account, interactive: boolean): Promise<void> {
  try {
    // Loaded on demand: the end-to-end cryptography stays out of the first load.
    const { setUpDevice } = await import("./device/device-setup.ts");
    await setUpDevice(account, { interactive });
  } catch (error) {
    setKeyring({ status: "failed", error });
  }
}

/** Forgets the session locally (after sign-out, or when the server says it ended). */
export function signedOut(): void {
  stopLiveEvents();
  setKeyring({ status: "off" });
  session.value = { status: "signed-out" };
}
