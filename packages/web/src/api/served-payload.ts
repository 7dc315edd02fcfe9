import type { DisplayPayload, StoredDisplayPayload } from "@countersign/protocol";

/**
 * The display payload as served, typed as the payload the app renders and hashes. A plaintext
 * request's context is never null (the server stores `context ?? {}`); an end-to-end request's
 * is null until the device opens it (open-approval-context.ts), and a rejection without reading
 * hashes exactly that null (decision-body.ts), so the null is kept, not replaced.
 */
export function asServed(shown: StoredDisplayPayload): DisplayPayload {
  return shown as unknown as DisplayPayload;
}
