import { CountersignError, type DisplayPayload, displayPayloadHash } from "@countersign/protocol";

/** What was sent, to compare with the display payload the server says it will show. */
export interface SentFields {
  readonly agentId: string;
  readonly actionType: string;
  readonly title: string;
  readonly body?: string | undefined;
  readonly bindingMessage?: string | undefined;
}

/**
 * The display payload hash of an end-to-end request, computed by the agent (DESIGN §4.5, §4.11):
 * the server cannot hash a context it cannot read, so it answers creation with every display
 * field but `context`, and the agent hashes those with its own plaintext context — the same
 * hash the person's app computes over what it decrypted and rendered.
 *
 * For a request created now (`created`), the fields the server echoes must be the ones sent;
 * a request returned by in-flight suppression is an earlier one, whose fields may differ (its
 * receipt's `dph` then differs too, and the client refuses it).
 *
 * @throws CountersignError `display_hash_mismatch` when the answer lacks the display payload or
 *   does not show what was sent.
 *
 * @example
 * ```ts
 * const dph = await localDisplayHash(answer.display_payload, context, sent, true);
 * ```
 */
export async function localDisplayHash(
  shown: unknown,
  context: Record<string, unknown>,
  sent: SentFields,
  created: boolean,
): Promise<string> {
  const fields = typeof shown === "object" && shown !== null ? (shown as Record<string, unknown>) : null;
  const wellFormed =
    fields !== null &&
    ["agent_id", "agent_name", "action_type", "title", "body", "created_at", "expires_at"].every(
      (name) => typeof fields[name] === "string",
    ) &&
    typeof fields.agent_verified === "boolean" &&
    (fields.binding_message === null || typeof fields.binding_message === "string");
  if (!wellFormed) {
    throw new CountersignError("display_hash_mismatch", {
      message: "The server did not answer with the display payload of the end-to-end request.",
    });
  }
  const same =
    fields.agent_id === sent.agentId &&
    fields.action_type === sent.actionType &&
    fields.title === sent.title &&
    fields.body === (sent.body ?? "") &&
    fields.binding_message === (sent.bindingMessage ?? null);
  if (created && !same) {
    throw new CountersignError("display_hash_mismatch", {
      message: "The server's display payload is not what this agent asked for.",
    });
  }
  const payload: DisplayPayload = {
    agent_id: fields.agent_id as string,
    agent_name: fields.agent_name as string,
    agent_verified: fields.agent_verified as boolean,
    action_type: fields.action_type as string,
    title: fields.title as string,
    body: fields.body as string,
    context,
    binding_message: fields.binding_message as string | null,
    created_at: fields.created_at as string,
    expires_at: fields.expires_at as string,
  };
  return displayPayloadHash(payload);
}
