import { api } from "./api/api.ts";
import { ApiError } from "./api/api-error.ts";
import type { Account } from "./api/types.ts";
import { startLiveEvents, stopLiveEvents } from "./live/approval-events.ts";
import { session } from "./state.ts";

/** Asks the server who is signed in, and opens the live stream if someone is. */
export async function refreshSession(): Promise<void> {
  try {
    const account = await api<Account>("GET", "/v1/account");
    session.value = { status: "signed-in", account };
    startLiveEvents();
  } catch (error) {
    if (error instanceof ApiError && (error.code === "unauthenticated" || error.code === "session_expired")) {
      session.value = { status: "signed-out" };
      stopLiveEvents();
      return;
    }
    throw error;
  }
}

/** Forgets the session locally (after sign-out, or when the server says it ended). */
export function signedOut(): void {
  stopLiveEvents();
  session.value = { status: "signed-out" };
}
