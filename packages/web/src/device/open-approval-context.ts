import { CountersignError, type DisplayPayload, type E2eBinding, openContext } from "@countersign/protocol";
import { asServed } from "../api/served-payload.ts";
import type { Approval } from "../api/types.ts";
import { accountPrivateKey, keyring } from "./keyring.ts";

/** How the context of a request is available on this device. */
export type ContextState =
  /** Plaintext context, shown by the server. */
  | { kind: "plain" }
  /** End-to-end context, opened here with the account private key. */
  | { kind: "opened" }
  /** End-to-end context this device cannot open: it is not unlocked. */
  | { kind: "locked" }
  /** End-to-end context that did not open (another key set, or not sealed for this request). */
  | { kind: "unreadable"; error: unknown };

/**
 * The request fields an end-to-end context is sealed to (spec §0/§3), read from what the app shows:
 * an empty body and an absent binding message are left out, as the agent SDK leaves them out.
 */
export function bindingOf(payload: Omit<DisplayPayload, "context">): E2eBinding {
  return {
    agent_id: payload.agent_id,
    action_type: payload.action_type,
    title: payload.title,
    ...(payload.body === "" ? {} : { body: payload.body }),
    ...(payload.binding_message === null ? {} : { binding_message: payload.binding_message }),
  };
}

/**
 * The display payload to render and hash (DESIGN §4.5, §4.11). For an end-to-end request the
 * context is opened here and put in place of the server's null; when it cannot be opened the
 * payload keeps `context: null` as served: nothing is made up, the screen allows only a rejection,
 * and that rejection's hash is over this payload and says `context_unread` (decision-body.ts).
 */
export async function openApprovalContext(
  approval: Approval,
): Promise<{ payload: DisplayPayload | null; context: ContextState }> {
  const shown = approval.display_payload;
  const sealed = approval.context_e2e;
  if (shown === null) return { payload: null, context: { kind: "plain" } };
  if (approval.e2e !== true || sealed == null) return { payload: asServed(shown), context: { kind: "plain" } };
  const key = accountPrivateKey(sealed.kid);
  const hidden = asServed({ ...shown, context: null });
  if (key === null) {
    // Unlocked, but with another key set: the request was sealed to a key set since replaced.
    if (keyring.value.status === "unlocked") {
      return { payload: hidden, context: { kind: "unreadable", error: new CountersignError("account_key_changed") } };
    }
    return { payload: hidden, context: { kind: "locked" } };
  }
  try {
    const context = await openContext({ privateKey: key, sealed, binding: bindingOf(shown) });
    return { payload: { ...shown, context }, context: { kind: "opened" } };
  } catch (error) {
    return { payload: hidden, context: { kind: "unreadable", error } };
  }
}
