import { CountersignError, fromBase64Url, type SealedContext, sealContext } from "@countersign/protocol";
import { e2eBindingOf } from "./e2e-binding.ts";
import type { E2ePin } from "./e2e-pin.ts";

/**
 * Turns the JSON body of `POST /v1/approvals` into its end-to-end form (DESIGN §4.11): `context`
 * (an empty object when there is none — an end-to-end request always carries `context_e2e`) is
 * sealed with HPKE to the pinned account key, with `info` binding agent, action type, title, body
 * and binding message, and only the ciphertext is sent. The server never sees the plaintext.
 *
 * @throws CountersignError `validation_failed` when the agent id is unknown (it is in the binding).
 *
 * @example
 * ```ts
 * const sealed = await sealRequestContext(approvalRequestBody(input), { pin, agentId });
 * ```
 */
export async function sealRequestContext(
  body: Record<string, unknown>,
  options: { readonly pin: E2ePin; readonly agentId: string | undefined },
): Promise<{ body: Record<string, unknown>; context: Record<string, unknown> }> {
  if (options.agentId === undefined) {
    throw new CountersignError("validation_failed", {
      message: "End-to-end context needs the agent id (agentId, or a key file written by enroll).",
    });
  }
  const { context: given, ...rest } = body;
  const context = (given ?? {}) as Record<string, unknown>;
  const publicKey = fromBase64Url(options.pin.public_key);
  if (publicKey === null) throw new CountersignError("validation_failed", { message: "The pinned key is not valid." });
  const sealed: SealedContext = await sealContext({
    publicKey,
    kid: options.pin.account_key_id,
    context,
    binding: e2eBindingOf({
      agentId: options.agentId,
      actionType: rest.action_type as string,
      title: rest.title as string,
      body: rest.body as string | undefined,
      bindingMessage: rest.binding_message as string | undefined,
    }),
  });
  return { body: { ...rest, context_e2e: sealed }, context };
}
