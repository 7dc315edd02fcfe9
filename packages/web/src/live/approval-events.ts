import { signal } from "@preact/signals";

/** One `approval` event of `GET /v1/me/events`. */
export interface ApprovalEvent {
  type: string;
  approval_id: string;
  agent_id: string;
  status: string;
}

/** Whether the live stream is connected. */
export const liveConnected = signal(false);
/** Bumped on every approval event and on every (re)connection: lists refetch when it changes. */
export const approvalsVersion = signal(0);
/** The latest event, for screens that care about one request. */
export const lastApprovalEvent = signal<ApprovalEvent | null>(null);

let source: EventSource | null = null;
let retry: ReturnType<typeof setTimeout> | null = null;

/** Opens the live stream of the signed-in person's approval requests (SSE; reconnects by itself). */
export function startLiveEvents(): void {
  if (source !== null) return;
  const open = (): void => {
    const current = new EventSource("/v1/me/events");
    source = current;
    current.addEventListener("ready", () => {
      liveConnected.value = true;
      // Anything that happened while disconnected: refetch.
      approvalsVersion.value += 1;
    });
    current.addEventListener("approval", (message) => {
      try {
        lastApprovalEvent.value = JSON.parse((message as MessageEvent<string>).data) as ApprovalEvent;
      } catch {
        return;
      }
      approvalsVersion.value += 1;
    });
    current.addEventListener("error", () => {
      liveConnected.value = false;
      // EventSource retries by itself unless the server refused (then it is closed): retry later.
      if (current.readyState === EventSource.CLOSED && source === current) {
        source = null;
        retry = setTimeout(open, 3000);
      }
    });
  };
  open();
}

/** Closes the stream (on sign-out). */
export function stopLiveEvents(): void {
  if (retry !== null) clearTimeout(retry);
  retry = null;
  source?.close();
  source = null;
  liveConnected.value = false;
}
