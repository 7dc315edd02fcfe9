import type { E2eBinding } from "@countersign/protocol";

/**
 * The request fields an end-to-end context is bound to (the HPKE `info`), built the way the app
 * rebuilds them from the display payload: an empty body and an absent binding message are left
 * out, since the display payload shows them as `""` and `null` (spec #9 amendments). `e2eInfo`
 * reads them so too; building it the same way here keeps the two sides from drifting.
 *
 * @example
 * ```ts
 * e2eBindingOf({ agentId: "agt_…", actionType: "deploy.production", title: "Deploy", body: "" });
 * // { agent_id: "agt_…", action_type: "deploy.production", title: "Deploy" }
 * ```
 */
export function e2eBindingOf(fields: {
  readonly agentId: string;
  readonly actionType: string;
  readonly title: string;
  readonly body?: string | null | undefined;
  readonly bindingMessage?: string | null | undefined;
}): E2eBinding {
  return {
    agent_id: fields.agentId,
    action_type: fields.actionType,
    title: fields.title,
    ...(typeof fields.body === "string" && fields.body !== "" ? { body: fields.body } : {}),
    ...(typeof fields.bindingMessage === "string" ? { binding_message: fields.bindingMessage } : {}),
  };
}
