import { signal } from "@preact/signals";
import type { Account } from "./api/types.ts";

/** Whether someone is signed in, and who. */
export type SessionState = { status: "loading" } | { status: "signed-out" } | { status: "signed-in"; account: Account };

/** The session, as the app last learned it. */
export const session = signal<SessionState>({ status: "loading" });

/** The current time, ticking once a second: every countdown reads it, so one timer serves all. */
export const now = signal(Date.now());
setInterval(() => {
  now.value = Date.now();
}, 1000);

/** Whether the browser thinks it is online. */
export const online = signal(navigator.onLine);
addEventListener("online", () => {
  online.value = true;
});
addEventListener("offline", () => {
  online.value = false;
});
