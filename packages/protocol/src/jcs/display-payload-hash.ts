import { digest } from "#digest";
import { utf8 } from "../encoding/bytes.ts";
import { toHex } from "../encoding/hex.ts";
import { canonicalize } from "./canonicalize.ts";

/**
 * Everything the approver app shows for an approval request (DESIGN §4.5). The app recomputes the
 * hash from what it rendered, so every displayed field is here and nothing else is.
 */
export interface DisplayPayload {
  agent_id: string;
  agent_name: string;
  agent_verified: boolean;
  action_type: string;
  title: string;
  body: string;
  context: Record<string, unknown>;
  binding_message: string | null;
  /** RFC 3339 UTC with milliseconds, as `Date.prototype.toISOString` writes it. */
  created_at: string;
  /** RFC 3339 UTC with milliseconds, as `Date.prototype.toISOString` writes it. */
  expires_at: string;
}

/**
 * The display payload hash (DESIGN §4.5): `sha256:` and the lowercase hex SHA-256 of the UTF-8
 * bytes of the payload's RFC 8785 canonical JSON.
 *
 * Only the ten {@link DisplayPayload} fields are hashed, so passing a wider object (a database
 * row, say) gives the same hash as the app computes, instead of silently covering extra fields.
 *
 * @throws CountersignError `validation_failed` when a field is missing or not canonicalizable JSON.
 *
 * @example
 * ```ts
 * const hash = await displayPayloadHash(payload); // "sha256:3f0a…"
 * ```
 */
export async function displayPayloadHash(payload: DisplayPayload): Promise<`sha256:${string}`> {
  const fields: DisplayPayload = {
    agent_id: payload.agent_id,
    agent_name: payload.agent_name,
    agent_verified: payload.agent_verified,
    action_type: payload.action_type,
    title: payload.title,
    body: payload.body,
    context: payload.context,
    binding_message: payload.binding_message,
    created_at: payload.created_at,
    expires_at: payload.expires_at,
  };
  const bytes = utf8(canonicalize(fields));
  return `sha256:${toHex(await digest("SHA-256", bytes))}`;
}
